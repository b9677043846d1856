"""The short human summary printed at the end of a run."""

from __future__ import annotations

from scf_batch.exitcodes import ExitCode
from scf_batch.runner import RunReport

_VERDICTS = {
    ExitCode.OK: "every row ok",
    ExitCode.ROWS_FAILED: "finished; some rows failed or were invalid (see results.jsonl)",
    ExitCode.ABORTED: "aborted",
    ExitCode.STOPPED_EARLY: "stopped early on purpose; rerun the same command to continue",
    ExitCode.INTERRUPTED: "interrupted; rerun the same command to continue",
}


def render_summary(report: RunReport) -> str:
    """A few lines: verdict, counts by status and outcome, time, requests, 429s, rate."""
    verdict = _VERDICTS.get(report.exit_code, str(report.exit_code))
    if report.reason:
        verdict = f"{verdict}: {report.reason}"
    lines = [f"scf-batch: {verdict} (exit {int(report.exit_code)})"]
    done = report.tally.done
    lines.append(
        f"  rows      {done}/{report.total_rows} done"
        + (f" ({report.resumed_rows} before this run)" if report.resumed_rows else "")
        + (f", {report.remaining} remaining" if report.remaining else "")
    )
    for status, count in sorted(report.tally.by_status.items()):
        outcomes = ", ".join(
            f"{key.split('/', 1)[1]} {n}"
            for key, n in sorted(report.tally.by_outcome.items())
            if key.startswith(status + "/")
        )
        lines.append(f"  {status:<9} {count:>6}  ({outcomes})")
    elapsed = report.elapsed_s
    achieved = report.requests / elapsed if elapsed > 0 else 0.0
    lines.append(
        f"  requests  {report.requests} in {elapsed:.1f}s = {achieved:.1f}/s "
        f"(ceiling {report.rate_per_s:g}/s per endpoint group)"
    )
    lines.append(
        f"  retries   {report.retried_rows} row(s) retried after a 429 or a transient error; "
        f"429s met: {report.rate_limited}"
    )
    lines.append(f"  results   {report.folder / 'results.jsonl'}")
    return "\n".join(lines)
