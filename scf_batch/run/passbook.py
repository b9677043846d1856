"""One run's part in its pass: the run folder's lock, which pass it works on, what the pass's
earlier runs left, the pass's first snapshot, the recorder of its result lines, and its
summary however the run ends (the runfolder package owns every file; this is the run's side).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from scf_batch.close.client import ClientStats
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode, exit_code_for
from scf_batch.options import RunSettings
from scf_batch.plan.snapshot import Org, Snapshot
from scf_batch.report.summary import RunReport
from scf_batch.report.timeline import seconds_of
from scf_batch.run.runner import Outcome as Ended
from scf_batch.runfolder.folder import (
    RESTART_WHY,
    PassStart,
    Resume,
    begin_pass,
    prune_history,
    read_snapshot_document,
    resume_pass,
    write_snapshot,
)
from scf_batch.runfolder.lock import RunLock
from scf_batch.runfolder.passfiles import read_summary, write_summary
from scf_batch.runfolder.recorder import PassRecord, PassRecorder
from scf_batch.runfolder.records import PassTotals, RecordedOrg, utc_now
from scf_batch.runfolder.reopen import reopen_failed

log = structlog.get_logger("scf_batch.run.passbook")
# what a run may check of the state its pass plans from before anything is written (a saved
# plan: that the pairs it touches are as the plan found them)
Precheck = Callable[[Snapshot], None]


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """The run folder, made if missing and locked for this run (LockHeldError: exit 75)."""
    lock = RunLock(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise UsageError(
            f"{folder}: cannot use it as the run folder ({exc.strerror}); "
            "expected a folder you can write to (see --out)"
        ) from exc
    try:
        yield
    finally:
        lock.release()


@dataclass
class Reached:
    """How far a run got, for the summary.json of a run that ends by an exception."""

    started: float = field(default_factory=time.monotonic)
    resume: Resume = field(default_factory=Resume)
    before: PassTotals = field(default_factory=PassTotals)  # the pass's earlier runs
    recorder: PassRecorder | None = None
    stats: ClientStats | None = None
    org: Org | None = None
    total_rows: int = 0
    report: RunReport | None = None  # the run's own, once it has ended


class PassBook:
    """The pass a run works on (the unfinished one, or a new one) and how far the run got."""

    def __init__(self, settings: RunSettings, digest: str) -> None:
        self.settings = settings
        self.digest = digest
        self.start = _begin_pass(settings, digest)
        self.reached = Reached(total_rows=self.start.rows_total)
        self.done_before = 0  # rows the pass's earlier runs finished

    @property
    def repairs(self) -> bool:
        """A pass after a finished one (and the runs that continue it) repairs what drifted: a
        name that no longer resolves was deleted in Close since, so its row fails `not_found`
        and the rest run. A first pass, or one started over by --restart, refuses it: there it
        is a typo."""
        return self.start.number > 1 and self.start.why != RESTART_WHY

    def resume(self) -> Resume:
        """What earlier runs of the pass left (nothing, for a new pass), and their totals."""
        folder, start = self.settings.out, self.start
        self.reached.before = _totals_before(folder, start)  # first: a refusal keeps them
        if start.continuing:
            self.reached.resume = resume_pass(folder, rows_total=start.rows_total)
            if self.reached.resume.truncated_bytes:
                log.warning("torn_results_line_cut", bytes=self.reached.resume.truncated_bytes)
        self.done_before = self.reached.resume.done.count
        return self.reached.resume

    def planned_from(self, snapshot: Snapshot) -> Snapshot:
        """What the pass plans from, read only: its first run's snapshot (kept in
        snapshot.json) when this run continues it, else `snapshot`, the one just read."""
        if self.start.continuing:
            document = read_snapshot_document(self.settings.out)
            if document is not None:
                return Snapshot.from_document(document)
        return snapshot

    def baseline(self, snapshot: Snapshot) -> Snapshot:
        """What the pass plans from (`planned_from`), written to snapshot.json now when this
        run starts the pass."""
        baseline = self.planned_from(snapshot)
        if baseline is snapshot:
            write_snapshot(self.settings.out, snapshot.document)
        return baseline

    def recorder(self, baseline: Snapshot, *, rows: int, stats: ClientStats) -> PassRecorder:
        """The recorder of the pass's result lines and checkpoint, its first checkpoint written."""
        settings, start = self.settings, self.start
        record = PassRecord(
            settings.name,
            start.number,
            start.started_at,
            settings.operations,
            self.digest,
            settings.recorded(),
            RecordedOrg.from_json(baseline.document["org"]),
            rows,
            settings.definitions,
        )
        recorder = PassRecorder(
            settings.out,
            record,
            rows_done=self.reached.resume.done.count,
            utc_now=utc_now,
            started=stats.started,
        )
        recorder.checkpoint(complete=False, now=0.0)
        self.reached.recorder = recorder
        return recorder

    def finished(
        self,
        ended: Ended,
        *,
        stats: ClientStats,
        recorder: PassRecorder,
        org: Org | None,
        retried_rows: int,
    ) -> RunReport:
        """The run's summary (the whole pass's figures), written to summary.json; a pass that
        finished trims the history to --keep-passes."""
        settings, reached = self.settings, self.reached
        this_run = _this_run(self.start, stats, recorder, ended.elapsed_s)
        summary = reached.report = RunReport(
            totals=reached.before.plus(this_run),
            exit_code=ended.exit_code,
            folder=settings.out,
            job=settings.name,
            org=org,
            pass_number=self.start.number,
            pass_why=self.start.why,
            started_at=self.start.started_at,
            total_rows=reached.total_rows,
            tally=ended.tally,
            rate_per_s=settings.rate_per_s,
            reason=ended.reason,
            resumed_rows=self.done_before,
            retried_rows=retried_rows,
            failed_rows=recorder.failed,
        )
        write_summary(settings.out, summary.to_summary())
        if ended.tally.done >= reached.total_rows:  # the pass finished
            for removed in prune_history(settings.out, keep=settings.keep_passes):
                log.info("pass_removed", folder=str(removed), keep_passes=settings.keep_passes)
        return summary

    def failed(self, exc: BaseException) -> RunReport:
        """summary.json of a run of the pass that ended by `exc`: its exit code and why, with
        the pass's counts as its results hold them (a monitor never reads an older verdict)."""
        settings, start, reached = self.settings, self.start, self.reached
        if reached.report is not None:  # the run had ended: a late signal does not change that
            _write_summary(settings.out, reached.report)
            return reached.report
        code = exit_code_for(exc)
        reason = (
            str(exc) if code is not ExitCode.INTERRUPTED else "interrupted before the run began"
        )
        elapsed_s = time.monotonic() - reached.started
        totals = reached.before
        if reached.stats is not None:
            totals = totals.plus(_this_run(start, reached.stats, reached.recorder, elapsed_s))
        summary = RunReport(
            totals=totals,
            exit_code=code,
            folder=settings.out,
            job=settings.name,
            org=reached.org,
            pass_number=start.number,
            pass_why=start.why,
            started_at=start.started_at,
            total_rows=reached.total_rows,
            tally=reached.resume.tally,
            rate_per_s=settings.rate_per_s,
            reason=reason,
            resumed_rows=reached.resume.done.count,
        )
        _write_summary(settings.out, summary)
        return summary


def _begin_pass(settings: RunSettings, digest: str) -> PassStart:
    """The pass this run works on: the unfinished one, or a new one."""
    folder = settings.out
    if settings.retry_failed:  # the failed rows' lines go; the resume below runs those rows
        reopened = reopen_failed(folder, fingerprint=digest, restart=settings.restart)
        log.info("retry_failed", rows=reopened)
    start = begin_pass(
        folder,
        fingerprint=digest,
        operations=_shown(settings),
        restart=settings.restart,
        now=utc_now(),
    )
    if start.archived is not None:
        log.info("new_pass", number=start.number, previous_kept_in=str(start.archived))
    return start


def _shown(settings: RunSettings) -> str:
    """The job's files as a message names them (opsfile.OperationsFile.shown)."""
    if settings.definitions is None:
        return str(settings.operations)
    return f"{settings.definitions} + {settings.operations}"


def _totals_before(folder: Path, start: PassStart) -> PassTotals:
    """What the earlier runs of a continued pass added up to (its summary.json says)."""
    if not start.continuing:
        return PassTotals()
    summary = read_summary(folder, pass_number=start.number)
    return summary.totals if summary is not None else PassTotals()


def _this_run(
    start: PassStart, stats: ClientStats, recorder: PassRecorder | None, elapsed_s: float
) -> PassTotals:
    """This run's figures, its timeline placed at the time since the pass began."""
    rows = recorder.rows_by_second if recorder is not None else {}
    return PassTotals(
        elapsed_s,
        stats.requests,
        stats.rate_limited,
        dict(stats.requests_by_group),
        seconds_of(
            stats.requests_by_second,
            stats.rate_limited_by_second,
            rows,
            offset_s=_offset_s(start, stats) if start.continuing else 0,
        ),
        runs=1,
    )


def _offset_s(start: PassStart, stats: ClientStats) -> int:
    """Whole seconds from the pass's start to this run's first request."""
    try:
        began = datetime.fromisoformat(start.started_at)
    except ValueError:
        return 0
    since_first_s = time.monotonic() - stats.started if stats.started is not None else 0.0
    first = datetime.now(UTC) - timedelta(seconds=since_first_s)
    return max(0, math.floor((first - began).total_seconds()))


def _write_summary(folder: Path, summary: RunReport) -> None:
    try:
        write_summary(folder, summary.to_summary())
    except OSError as error:  # the run's own error is the one to report
        log.warning("summary_not_written", error=str(error))
