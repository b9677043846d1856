"""A job end to end, and the one place its pieces are assembled.

Lock the run folder and pick the pass (passbook.py) -> read the org's snapshot (org.py: a key of
another org is refused) -> the preparation pass (stages.py: invalid rows and unallowed deletes
refuse the run) -> the run pass: prepared rows streamed through the runner to the one executor
and the pass recorder, in stages (the field definitions, then every other row, then the field
orders) -> the summary.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from scf_batch.close.credentials import Credentials
from scf_batch.job.opsfile import OperationsFile
from scf_batch.options import RunSettings
from scf_batch.report.summary import RunReport
from scf_batch.run.executor import executor_for
from scf_batch.run.org import client_for, read_pinned
from scf_batch.run.passbook import PassBook, Precheck, locked
from scf_batch.run.progress import Reporter
from scf_batch.run.runner import Limits, Run
from scf_batch.run.stages import read_job, stages

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
    precheck: Precheck | None = None,
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
    with locked(settings.out):
        book = PassBook(settings, operations.fingerprint())
        # From here the run belongs to the pass: however it ends, summary.json says how.
        try:
            return await _run_pass(
                book,
                operations,
                credentials,
                reporter,
                own_signals=own_signals,
                precheck=precheck,
            )
        except BaseException as exc:  # cancelled (SIGINT/SIGTERM) too: the summary, re-raise
            on_failure(book.failed(exc))
            raise


async def _run_pass(
    book: PassBook,
    operations: OperationsFile,
    credentials: Credentials,
    reporter: Callable[[], Reporter],
    *,
    own_signals: bool,
    precheck: Precheck | None,
) -> RunReport:
    settings, reached = book.settings, book.reached
    resume = book.resume()
    async with client_for(settings, credentials) as client:
        reached.stats = client.stats
        snapshot = await read_pinned(client, settings, seen=reached)
        planned_from = book.planned_from(snapshot)
        if precheck is not None:
            precheck(planned_from)
        job_rows, report = read_job(
            settings, operations, snapshot, planned_from, resume.done, repairing=book.repairs
        )
        reached.total_rows = report.rows
        baseline = book.baseline(snapshot)
        org = snapshot.org
        log.info(
            "start",
            job=settings.name,
            org_id=org.id if org else None,
            org_name=org.name if org else None,
            pass_number=book.start.number,
            rows=report.rows,
            done_before=book.done_before,
        )
        recorder = book.recorder(baseline, rows=report.rows, stats=client.stats)
        executor = executor_for(
            settings,
            client,
            operations,
            report,
            snapshot=snapshot,
            baseline=baseline,
            resuming=book.start.continuing,
        )
        rows = stages(
            job_rows,
            report,
            executor.settle_definitions,
            baseline,
            planned=book.start.continuing,
            repairing=book.repairs,
            protection=executor.protection,
        )
        limits = Limits(
            settings.concurrency, settings.limit, settings.max_errors, settings.max_duration_s
        )
        with reporter() as progress:
            run = Run(
                rows,
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
        return book.finished(
            ended,
            stats=client.stats,
            recorder=recorder,
            org=executor.snapshot.org,
            retried_rows=executor.retried_rows,
        )
