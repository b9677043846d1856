"""A job end to end, and the one place its pieces are assembled.

Lock the run folder -> pick the pass -> read the org's snapshot (org.py: a key of another org is
refused) -> the preparation pass (invalid rows and unallowed deletes refuse the run) -> the run
pass: prepared rows streamed through the runner to the one executor and the pass recorder, in
stages (the field definitions, then every other row, then the field orders) -> the summary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from scf_batch.close.client import ClientStats
from scf_batch.close.credentials import Credentials
from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import DeletesRefused, JobInvalid, UsageError
from scf_batch.exitcodes import ExitCode, exit_code_for
from scf_batch.job.opsfile import OperationsFile
from scf_batch.options import RunSettings
from scf_batch.plan.fields import FieldStep, first_steps
from scf_batch.plan.prepare import Prepared, Report, prepare, survey
from scf_batch.plan.snapshot import Org, Snapshot
from scf_batch.report.summary import RunReport
from scf_batch.report.timeline import seconds_of
from scf_batch.run.executor import Executor, utc_now
from scf_batch.run.org import check_org, client_for
from scf_batch.run.orgreader import fetch_snapshot
from scf_batch.run.progress import Reporter
from scf_batch.run.runner import Limits, Run
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
from scf_batch.runfolder.records import PassTotals, RecordedOrg
from scf_batch.runfolder.reopen import reopen_failed

log = structlog.get_logger("scf_batch.run.job")


def _ignore(report: RunReport) -> None:
    """A run's failure summary, when no one asks for it."""


async def run_job(
    settings: RunSettings,
    credentials: Credentials,
    *,
    operations: OperationsFile,
    reporter: Callable[[], Reporter],
    on_failure: Callable[[RunReport], None] = _ignore,
    own_signals: bool = True,
    precheck: Callable[[Snapshot], None] | None = None,
) -> RunReport:
    """Run a job in its folder; raises UsageError/JobInvalid (exit 2), LockHeldError (75).

    `operations`: the job's file as `check_operations` found it (the caller checks it first,
    before the credentials are read, and once). A run of a pass that ends by an exception
    hands its summary.json's report to `on_failure` before the exception goes on (the metrics
    of a failed run count its rows). `own_signals`: the run stops itself on SIGINT/SIGTERM;
    False when the caller (a fleet of runs in one process) takes the signals and cancels the
    run instead. `precheck` sees the state the pass plans from (the snapshot just read, or the
    first run's of a pass this run continues) before any write, and may refuse the run by
    raising (a saved plan's staleness check)."""
    folder = settings.out
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
        return await _run_locked(
            settings,
            operations,
            credentials,
            reporter,
            on_failure=on_failure,
            own_signals=own_signals,
            precheck=precheck,
        )
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


async def _run_locked(
    settings: RunSettings,
    operations: OperationsFile,
    credentials: Credentials,
    reporter: Callable[[], Reporter],
    *,
    on_failure: Callable[[RunReport], None],
    own_signals: bool,
    precheck: Callable[[Snapshot], None] | None,
) -> RunReport:
    digest = operations.fingerprint()
    start = _begin_pass(settings, digest)
    # From here the run belongs to the pass: however it ends, summary.json says how.
    reached = Reached(total_rows=start.rows_total)
    try:
        return await _run_pass(
            settings,
            operations,
            credentials,
            reporter=reporter,
            start=start,
            digest=digest,
            reached=reached,
            own_signals=own_signals,
            precheck=precheck,
        )
    except BaseException as exc:  # cancelled (SIGINT/SIGTERM) too: the summary, then re-raise
        on_failure(_write_failure_summary(settings, start, reached, exc))
        raise


async def _run_pass(
    settings: RunSettings,
    operations: OperationsFile,
    credentials: Credentials,
    *,
    reporter: Callable[[], Reporter],
    start: PassStart,
    digest: str,
    reached: Reached,
    own_signals: bool,
    precheck: Callable[[Snapshot], None] | None,
) -> RunReport:
    reached.before = _totals_before(settings.out, start)  # first: a refusal below keeps them
    resume = reached.resume = _resumed(settings.out, start)
    async with client_for(settings, credentials) as client:
        reached.stats = client.stats
        snapshot = await fetch_snapshot(client, settings.base_url)
        reached.org = snapshot.org
        check_org(snapshot, settings)
        planned_from = _planned_from(settings.out, start, snapshot)
        if precheck is not None:
            precheck(planned_from)
        report = _surveyed(settings, operations, snapshot, resume, repairing=_repairs(start))
        reached.total_rows = report.rows
        baseline = _baseline(settings.out, planned_from, snapshot)
        org = snapshot.org
        log.info(
            "start",
            job=settings.name,
            org_id=org.id if org else None,
            org_name=org.name if org else None,
            pass_number=start.number,
            rows=report.rows,
            done_before=resume.done.count,
        )
        record = PassRecord(
            settings.name,
            start.number,
            start.started_at,
            settings.operations,
            digest,
            settings.recorded(),
            RecordedOrg.from_json(baseline.document["org"]),
            report.rows,
        )
        recorder = PassRecorder(
            settings.out,
            record,
            rows_done=resume.done.count,
            utc_now=utc_now,
            started=client.stats.started,
        )
        recorder.checkpoint(complete=False, now=0.0)
        reached.recorder = recorder
        done_before = resume.done.count
        policy = RetryPolicy(settings.max_retries, row_deadline_s=settings.row_deadline_s)
        executor = Executor(
            client,
            snapshot,
            policy,
            resuming=done_before > 0,
            first_fields=_first_fields(operations, report, snapshot, baseline),
        )
        stages = _stages(operations, report, executor, baseline, start=start)
        limits = Limits(
            settings.concurrency, settings.limit, settings.max_errors, settings.max_duration_s
        )
        with reporter() as progress:
            run = Run(
                stages,
                executor,
                recorder,
                limits,
                total_rows=report.rows,
                done=resume.done,
                tally=resume.tally,
                counters=client.stats,
                reporter=progress,
                own_signals=own_signals,
            )
            ended = await run.execute()
        summary = reached.report = _summary(
            settings,
            start,
            ended,
            totals=reached.before.plus(_this_run(start, client.stats, recorder, ended.elapsed_s)),
            recorder=recorder,
            org=executor.snapshot.org,
            rows_total=report.rows,
            resumed_rows=done_before,
            retried_rows=executor.retried_rows,
        )
    write_summary(settings.out, summary.to_summary())
    if ended.tally.done >= report.rows:  # the pass finished: the history keeps --keep-passes
        for removed in prune_history(settings.out, keep=settings.keep_passes):
            log.info("pass_removed", folder=str(removed), keep_passes=settings.keep_passes)
    return summary


def _first_fields(
    operations: OperationsFile, report: Report, snapshot: Snapshot, baseline: Snapshot
) -> dict[int, FieldStep]:
    """A resumed pass labels a definition by the step its first snapshot planned."""
    if baseline is snapshot:
        return {}
    definitions = (p.definition for p in report.definitions if p.definition is not None)
    return first_steps(definitions, baseline, operations.where)


def _stages(
    operations: OperationsFile,
    report: Report,
    executor: Executor,
    baseline: Snapshot,
    *,
    start: PassStart,
) -> Iterator[Iterable[Prepared]]:
    """The run's rows in stages: the definitions (kept by the preparation pass), then every
    other row, resolved against the snapshot extended by the fields as they now are, then the
    orders (kept too), once the fields they place are defined and associated."""
    yield report.definitions
    snapshot = executor.settle_definitions()
    rows = prepare(
        operations.items(),
        snapshot,
        where=operations.where,
        baseline=baseline,
        project=False,
        plan=start.continuing,
        repairing=_repairs(start),
    )
    # a valid definition or order runs in its own stage (or ran in an earlier run of the pass)
    yield (p for p in rows if (p.definition is None and p.order is None) or p.error is not None)
    yield report.orders


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


def _summary(
    settings: RunSettings,
    start: PassStart,
    ended: Ended,
    *,
    totals: PassTotals,
    recorder: PassRecorder,
    org: Org | None,
    rows_total: int,
    resumed_rows: int,
    retried_rows: int,
) -> RunReport:
    """How the run ended, for summary.json and the printed summary."""
    return RunReport(
        totals=totals,
        exit_code=ended.exit_code,
        folder=settings.out,
        job=settings.name,
        org=org,
        pass_number=start.number,
        pass_why=start.why,
        started_at=start.started_at,
        total_rows=rows_total,
        tally=ended.tally,
        rate_per_s=settings.rate_per_s,
        reason=ended.reason,
        resumed_rows=resumed_rows,
        retried_rows=retried_rows,
        failed_rows=recorder.failed,
    )


def _begin_pass(settings: RunSettings, digest: str) -> PassStart:
    """The pass this run works on: the unfinished one, or a new one."""
    folder = settings.out
    if settings.retry_failed:  # the failed rows' lines go; the resume below runs those rows
        reopened = reopen_failed(folder, fingerprint=digest, restart=settings.restart)
        log.info("retry_failed", rows=reopened)
    start = begin_pass(
        folder,
        fingerprint=digest,
        operations=settings.operations,
        restart=settings.restart,
        now=utc_now(),
    )
    if start.archived is not None:
        log.info("new_pass", number=start.number, previous_kept_in=str(start.archived))
    return start


def _resumed(folder: Path, start: PassStart) -> Resume:
    """What earlier runs of the pass left (nothing, for a new pass)."""
    if not start.continuing:
        return Resume()
    resume = resume_pass(folder, rows_total=start.rows_total)
    if resume.truncated_bytes:
        log.warning("torn_results_line_cut", bytes=resume.truncated_bytes)
    return resume


def _repairs(start: PassStart) -> bool:
    """A pass after a finished one (and the runs that continue it) repairs what drifted: a name
    that no longer resolves was deleted in Close since, so its row fails `not_found` and the
    rest run. A first pass, or one started over by --restart, refuses it: there it is a typo."""
    return start.number > 1 and start.why != RESTART_WHY


def _surveyed(
    settings: RunSettings,
    operations: OperationsFile,
    snapshot: Snapshot,
    resume: Resume,
    *,
    repairing: bool,
) -> Report:
    """The preparation pass; invalid rows and unallowed deletes refuse the run (exit 2)."""
    report = survey(
        operations.items(),
        snapshot,
        where=operations.where,
        done=resume.done,
        repairing=repairing,
    )
    if report.unresolved_rows:
        log.warning("names_not_found", rows=report.unresolved_rows)
    if not report.ok and not settings.skip_invalid:
        raise JobInvalid(
            report, invalid_rows=report.invalid_rows, problem_count=report.problem_count
        )
    if report.delete_count and not settings.allow_delete:
        raise DeletesRefused(report, snapshot, delete_count=report.delete_count)
    return report


def _write_failure_summary(
    settings: RunSettings, start: PassStart, reached: Reached, exc: BaseException
) -> RunReport:
    """summary.json of a run of the pass that ended by `exc`: its exit code and why, with the
    pass's counts as its results hold them (so a monitor never reads an older run's verdict)."""
    if reached.report is not None:  # the run had ended: a late signal does not change that
        _write_summary(settings.out, reached.report)
        return reached.report
    code = exit_code_for(exc)
    reason = str(exc) if code is not ExitCode.INTERRUPTED else "interrupted before the run began"
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


def _write_summary(folder: Path, summary: RunReport) -> None:
    try:
        write_summary(folder, summary.to_summary())
    except OSError as error:  # the run's own error is the one to report
        log.warning("summary_not_written", error=str(error))


def _planned_from(folder: Path, start: PassStart, snapshot: Snapshot) -> Snapshot:
    """What the pass plans from: its first run's snapshot (kept in snapshot.json) when this
    run continues it, else the snapshot just read."""
    if start.continuing:
        document = read_snapshot_document(folder)
        if document is not None:
            return Snapshot.from_document(document)
    return snapshot


def _baseline(folder: Path, planned_from: Snapshot, snapshot: Snapshot) -> Snapshot:
    """The pass's baseline: `planned_from`, written to snapshot.json when this run starts the
    pass (when it is the snapshot just read)."""
    if planned_from is snapshot:
        write_snapshot(folder, snapshot.document)
    return planned_from
