"""The run's summary, in one home: what summary.json holds and the lines printed at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scf_batch.exitcodes import ExitCode
from scf_batch.plan.snapshot import Org
from scf_batch.runfolder.records import (
    Checkpoint,
    PassTotals,
    RecordedOrg,
    ResultLine,
    Second,
    Summary,
)
from scf_batch.runfolder.results import RESULTS_FILE, Tally

SHOWN_FAILED_ROWS = 5
# Below this many seconds a per-second rate says more about timer noise than about pacing.
MIN_RATE_WINDOW_S = 2.0


@dataclass
class RunReport:
    """How a run ended, for summary.json, the printed summary and the exit code.

    The request figures and the timeline are the whole pass's, every run of it added up.
    """

    exit_code: ExitCode
    folder: Path
    job: str
    org: Org | None
    pass_number: int
    pass_why: str
    started_at: str
    total_rows: int
    tally: Tally
    totals: PassTotals  # the whole pass's requests, 429s, time and timeline
    rate_per_s: float
    reason: str | None = None
    resumed_rows: int = 0
    retried_rows: int = 0
    failed_rows: list[ResultLine] = field(default_factory=list)
    kept: bool = False  # read back from a pass's files (`scf-batch report`), not just run
    running_pid: int | None = None  # a run holds the folder now (0: its pid is not known)

    @classmethod
    def from_records(
        cls,
        folder: Path,
        checkpoint: Checkpoint | None,
        summary: Summary | None,
        tally: Tally,
        failed_rows: list[ResultLine],
    ) -> RunReport:
        """A pass's report rebuilt from its records: counts from its results (the truth), the
        rest from summary.json, which describes the pass's last run when it ended normally."""
        fresh = summary if summary is not None and summary.rows_done == tally.done else None
        reason = (
            fresh.reason
            if fresh is not None
            else "the last run of this pass left no summary (killed?); counts from results.jsonl"
        )
        recorded = fresh.org if fresh is not None else checkpoint.org if checkpoint else None
        return cls(
            totals=fresh.totals if fresh is not None else PassTotals(),
            exit_code=fresh.exit_code if fresh is not None else ExitCode.INTERRUPTED,
            folder=folder,
            job=checkpoint.job if checkpoint is not None else summary.job if summary else "",
            org=_org(recorded),
            pass_number=(
                checkpoint.pass_number if checkpoint else summary.pass_number if summary else 0
            ),
            pass_why="",
            started_at=(
                checkpoint.started_at if checkpoint else summary.started_at if summary else ""
            ),
            total_rows=checkpoint.rows_total if checkpoint is not None else tally.done,
            tally=tally,
            rate_per_s=fresh.rate_per_s_ceiling if fresh is not None else 0.0,
            reason=reason,
            resumed_rows=fresh.rows_done_before_this_run if fresh is not None else 0,
            retried_rows=fresh.rows_retried_this_run if fresh is not None else 0,
            failed_rows=failed_rows,
            kept=True,
        )

    @property
    def remaining(self) -> int:
        return self.total_rows - self.tally.done

    @property
    def elapsed_s(self) -> float:
        return self.totals.elapsed_s

    @property
    def requests(self) -> int:
        return self.totals.requests

    @property
    def rate_limited(self) -> int:
        return self.totals.rate_limited

    @property
    def requests_by_group(self) -> Mapping[str, int]:
        return self.totals.requests_by_group

    @property
    def timeline(self) -> tuple[Second, ...]:
        return self.totals.timeline

    @property
    def runs(self) -> int:
        return self.totals.runs

    def to_summary(self) -> Summary:
        """summary.json."""
        org = None if self.org is None else RecordedOrg(self.org.id, self.org.name)
        return Summary(
            job=self.job,
            org=org,
            pass_number=self.pass_number,
            started_at=self.started_at,
            exit_code=self.exit_code,
            reason=self.reason,
            rows_total=self.total_rows,
            rows_done=self.tally.done,
            rows_done_before_this_run=self.resumed_rows,
            rows_retried_this_run=self.retried_rows,
            by_status=dict(self.tally.by_status),
            by_outcome=dict(self.tally.by_outcome),
            rate_per_s_ceiling=self.rate_per_s,
            totals=self.totals,
        )


def _org(recorded: RecordedOrg | None) -> Org | None:
    return None if recorded is None else Org(recorded.id, recorded.name)


def render_summary(report: RunReport) -> str:
    """A few lines: verdict, the org and pass, counts, requests per group, failed rows."""
    lines = [f"scf-batch: {_verdict(report)}"]
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


def _verdict(report: RunReport) -> str:
    """The first line: how the pass's last run ended, or that a run holds the folder now."""
    if report.running_pid is not None:
        who = f"a run (pid {report.running_pid})" if report.running_pid else "a run"
        return f"running: {who} holds the run folder; counts so far from results.jsonl"
    verdict = report.exit_code.verdict
    if report.reason:
        verdict = f"{verdict}: {report.reason}"
    return f"{verdict} (exit {int(report.exit_code)})"


def _request_lines(report: RunReport) -> list[str]:
    lines = [
        f"  requests  {report.requests} in {report.elapsed_s:.1f}s"
        + (f" over {report.runs} runs" if report.runs > 1 else "")
        + "; "
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
        error = f": {result.error_text}" if result.error else ""
        lines.append(f"    line {result.line}{key}: {result.status} {result.outcome}{error}"[:200])
    if failed > SHOWN_FAILED_ROWS:
        lines.append(f"    … and {failed - min(SHOWN_FAILED_ROWS, len(report.failed_rows))} more")
    if report.tally.failed and not report.kept:
        lines.append(
            "  retry     fix the cause, then rerun with --retry-failed (only the failed rows run), "
            f"or: scf-batch retry {report.folder} -o FILE"
        )
    return lines
