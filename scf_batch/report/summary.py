"""The run's summary, in one home: what summary.json holds and the lines printed at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scf_batch.exitcodes import ExitCode
from scf_batch.models import RowResult
from scf_batch.plan.snapshot import Org
from scf_batch.runfolder.results import RESULTS_FILE, Tally

SHOWN_FAILED_ROWS = 5
# Below this many seconds a per-second rate says more about timer noise than about pacing.
MIN_RATE_WINDOW_S = 2.0

_VERDICTS = {
    ExitCode.OK: "every row ok",
    ExitCode.ROWS_FAILED: "finished; some rows failed or were invalid (see results.jsonl)",
    ExitCode.ABORTED: "aborted",
    ExitCode.REFUSING: "stopped",
    ExitCode.STOPPED_EARLY: "stopped early on purpose; rerun the same command to continue",
    ExitCode.INTERRUPTED: "interrupted; rerun the same command to continue",
}


@dataclass
class RunReport:
    """How a run ended, for summary.json, the printed summary and the exit code."""

    exit_code: ExitCode
    folder: Path
    job: str
    org: Org | None
    pass_number: int
    pass_why: str
    started_at: str
    total_rows: int
    tally: Tally
    elapsed_s: float
    requests: int
    rate_limited: int
    rate_per_s: float
    reason: str | None = None
    resumed_rows: int = 0
    retried_rows: int = 0
    requests_by_group: dict[str, int] = field(default_factory=dict)
    timeline: list[dict[str, float]] = field(default_factory=list)
    failed_rows: list[RowResult] = field(default_factory=list)
    kept: bool = False  # read back from a pass's files (`scf-batch report`), not just run

    @classmethod
    def from_documents(
        cls,
        folder: Path,
        checkpoint: Mapping[str, Any],
        summary: Mapping[str, Any] | None,
        tally: Tally,
        failed_rows: list[RowResult],
    ) -> RunReport:
        """A pass's report rebuilt from its files: counts from its results (the truth), the
        rest from summary.json, which describes the pass's last run when it ended normally."""
        fresh = summary is not None and _usable(summary, tally.done)
        known: Mapping[str, Any] = summary if summary is not None and fresh else {}
        reason = (
            known.get("reason")
            if fresh
            else ("the last run of this pass left no summary (killed?); counts from results.jsonl")
        )
        return cls(
            exit_code=ExitCode(known.get("exit_code", ExitCode.INTERRUPTED)),
            folder=folder, job=str(checkpoint.get("job", "")),
            org=_org(known.get("org", checkpoint.get("org"))),
            pass_number=_count(checkpoint.get("pass"), 0), pass_why="",
            started_at=str(checkpoint.get("started_at", "")),
            total_rows=_count(checkpoint.get("rows_total"), tally.done), tally=tally,
            elapsed_s=float(known.get("elapsed_s", 0.0)), requests=int(known.get("requests", 0)),
            rate_limited=int(known.get("rate_limited", 0)),
            rate_per_s=float(known.get("rate_per_s_ceiling", 0.0)), reason=reason,
            resumed_rows=int(known.get("rows_done_before_this_run", 0)),
            retried_rows=int(known.get("rows_retried_this_run", 0)),
            requests_by_group=dict(known.get("requests_by_group", {})),
            timeline=list(known.get("timeline", [])), failed_rows=failed_rows, kept=True,
        )  # fmt: skip

    @property
    def remaining(self) -> int:
        return self.total_rows - self.tally.done

    def to_summary(self) -> dict[str, Any]:
        """summary.json."""
        return {
            "job": self.job,
            "org": None if self.org is None else {"id": self.org.id, "name": self.org.name},
            "pass": self.pass_number,
            "started_at": self.started_at,
            "exit_code": int(self.exit_code),
            "reason": self.reason,
            "rows_total": self.total_rows,
            "rows_done": self.tally.done,
            "rows_remaining": self.remaining,
            "rows_done_before_this_run": self.resumed_rows,
            "rows_retried_this_run": self.retried_rows,
            "by_status": dict(self.tally.by_status),
            "by_outcome": dict(self.tally.by_outcome),
            "elapsed_s": round(self.elapsed_s, 3),
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "rate_per_s_ceiling": self.rate_per_s,
            "requests_by_group": self.requests_by_group,
            "timeline": self.timeline,
        }


def _org(document: object) -> Org | None:
    if isinstance(document, Mapping) and {"id", "name"} <= document.keys():
        return Org(str(document["id"]), str(document["name"]))
    return None


def render_summary(report: RunReport) -> str:
    """A few lines: verdict, the org and pass, counts, requests per group, failed rows."""
    verdict = _VERDICTS.get(report.exit_code, str(report.exit_code))
    if report.reason:
        verdict = f"{verdict}: {report.reason}"
    lines = [f"scf-batch: {verdict} (exit {int(report.exit_code)})"]
    if report.org is not None:
        lines.append(f"  org       {report.org}")
    if report.kept:
        lines.append(f"  pass      {report.pass_number}, started {report.started_at}")
    elif report.pass_number > 1:
        lines.append(f"  pass      {report.pass_number} ({report.pass_why})")
    lines.append(
        f"  rows      {report.tally.done}/{report.total_rows} done"
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
    lines.extend(_request_lines(report))
    lines.extend(_failed_lines(report))
    lines.append(f"  results   {report.folder / RESULTS_FILE}")
    return "\n".join(lines)


def _request_lines(report: RunReport) -> list[str]:
    lines = [
        f"  requests  {report.requests} in {report.elapsed_s:.1f}s; "
        f"{report.retried_rows} row(s) retried; 429s met: {report.rate_limited}"
    ]
    busiest = max(report.requests_by_group.items(), key=lambda item: item[1], default=None)
    if busiest is not None and report.elapsed_s >= MIN_RATE_WINDOW_S:
        group, count = busiest
        lines.append(
            f"  pace      busiest endpoint group {group}: {count / report.elapsed_s:.1f} req/s "
            f"on average over {report.elapsed_s:.1f}s (each group's ceiling: "
            f"{report.rate_per_s:g} req/s)"
        )
    return lines


def _failed_lines(report: RunReport) -> list[str]:
    failed = report.tally.not_ok
    if not failed or not report.failed_rows:
        return []
    lines = [f"  not ok    {failed} row(s); the first of them:"]
    for result in report.failed_rows[:SHOWN_FAILED_ROWS]:
        key = f" key {result.key}" if result.key else ""
        error = f": {result.error}" if result.error else ""
        lines.append(f"    line {result.line}{key}: {result.status} {result.outcome}{error}"[:200])
    if failed > SHOWN_FAILED_ROWS:
        lines.append(f"    … and {failed - min(SHOWN_FAILED_ROWS, len(report.failed_rows))} more")
    if report.tally.failed and not report.kept:
        lines.append(
            "  retry     fix the cause, then rerun with --retry-failed (only the failed rows run), "
            f"or: scf-batch retry {report.folder} -o FILE"
        )
    return lines


def _usable(summary: Mapping[str, Any], rows_done: int) -> bool:
    """A summary.json that describes the pass as its results stand, in the shape it is written."""
    numbers = ("elapsed_s", "requests", "rate_limited", "rate_per_s_ceiling")
    counts = ("rows_done_before_this_run", "rows_retried_this_run")
    return (
        summary.get("rows_done") == rows_done
        and summary.get("exit_code") in set(ExitCode)
        and all(_number(summary.get(name, 0)) for name in numbers + counts)
        and isinstance(summary.get("requests_by_group", {}), dict)
        and isinstance(summary.get("timeline", []), list)
    )


def _count(value: object, default: int) -> int:
    """A whole number from a file that may be damaged; `default` for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
