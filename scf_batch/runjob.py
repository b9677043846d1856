"""A job end to end, and the one place its pieces are assembled.

Lock the run folder -> pick the pass -> read the org's snapshot -> the preparation pass (refuse
invalid rows, unallowed deletes, a key of another org) -> the run pass: prepared rows streamed
through the runner to the executor and the pass recorder -> the summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import structlog

from scf_batch.close_client import CloseClient, open_client
from scf_batch.credentials import Credentials, read_credentials
from scf_batch.errors import UsageError
from scf_batch.executor import PairExecutor, utc_now
from scf_batch.fieldphase import define_fields
from scf_batch.inflight import InFlightLimit
from scf_batch.opsfile import check_operations, fingerprint
from scf_batch.options import RunSettings
from scf_batch.prepare import Prepared, Report, prepare, survey
from scf_batch.progress import Reporter
from scf_batch.reopen import reopen_failed
from scf_batch.results import RESULTS_FILE, SUMMARY_FILE, write_json_atomically
from scf_batch.retry import RetryPolicy
from scf_batch.runfolder import (
    PassRecord,
    PassRecorder,
    PassStart,
    Resume,
    RunLock,
    begin_pass,
    read_snapshot_document,
    scan_results,
    write_snapshot,
)
from scf_batch.runner import Limits, Run
from scf_batch.snapshot import Snapshot, fetch_snapshot
from scf_batch.summary import RunReport

log = structlog.get_logger("scf_batch.runjob")


class JobInvalid(UsageError):
    """The job has invalid rows and --skip-invalid was not given; nothing was sent."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{report.invalid_rows} invalid row(s), {report.problem_count} problem(s)")
        self.report = report


class DeletesRefused(UsageError):
    """The plan deletes associations (and every value stored in them) without --allow-delete."""

    def __init__(self, report: Report, snapshot: Snapshot) -> None:
        super().__init__(f"the plan disassociates {report.delete_count} pair(s)")
        self.report = report
        self.snapshot = snapshot


def check_org(snapshot: Snapshot, settings: RunSettings) -> None:
    """A job pinned to an org refuses a key of another (or an org it cannot tell)."""
    wanted_id, wanted_name = settings.organization_id, settings.organization_name
    if wanted_id is None and wanted_name is None:
        return
    org = snapshot.org
    matches = org is not None and (
        (wanted_id is None or org.id == wanted_id)
        and (wanted_name is None or org.name == wanted_name)
    )
    if not matches:
        wanted = " ".join(f'"{v}"' for v in (wanted_name, wanted_id) if v is not None)
        found = f"the org {org}" if org is not None else "an org that `me/` does not name"
        raise UsageError(
            f"organization: found a key of {found}; expected a key of the org {wanted} that "
            f"the job is pinned to. Nothing was sent: check {settings.api_key_env or 'the key'}"
        )


def credentials_for(settings: RunSettings, environ: Mapping[str, str] = os.environ) -> Credentials:
    """The key or token the job's variables hold, checked against where it would be sent."""
    return read_credentials(
        environ,
        api_key_env=settings.api_key_env,
        token_env=settings.token_env,
        base_url=settings.base_url,
    )


def client_for(
    settings: RunSettings, credentials: Credentials
) -> AbstractAsyncContextManager[CloseClient]:
    """The client a run or a plan uses, with every setting that concerns it."""
    return open_client(
        settings.base_url,
        credentials,
        timeout_s=settings.timeout_s,
        rate_per_s=settings.rate_per_s,
        max_connections=settings.concurrency,
        allow_insecure_http=settings.allow_insecure_http,
        max_wait_s=settings.row_deadline_s,
        in_flight=InFlightLimit(settings.rate_per_s, max_in_flight=settings.concurrency),
    )


async def run_job(
    settings: RunSettings, credentials: Credentials, *, reporter: Callable[[], Reporter]
) -> RunReport:
    """Run a job in its folder; raises UsageError/JobInvalid (exit 2), LockHeldError (75)."""
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
        return await _run_locked(settings, credentials, reporter)
    finally:
        lock.release()


async def _run_locked(
    settings: RunSettings, credentials: Credentials, reporter: Callable[[], Reporter]
) -> RunReport:
    # an unusable file or header, or no row without --allow-empty, stops here (exit 2)
    check_operations(
        settings.operations, encoding=settings.encoding, allow_empty=settings.allow_empty
    )
    digest = fingerprint(settings.operations)
    start, resume = _open_pass(settings, digest)
    async with client_for(settings, credentials) as client:
        snapshot = await fetch_snapshot(client, settings.base_url)
        check_org(snapshot, settings)
        report = _surveyed(settings, snapshot, resume)
        baseline = _baseline(settings.out, start, snapshot)
        log.info("start", job=settings.name, org=str(snapshot.org), pass_number=start.number,
                 rows=report.rows, done_before=resume.done.count)  # fmt: skip
        record = PassRecord(
            settings.name, start.number, start.started_at, settings.operations, digest,
            settings.recorded(), baseline.document["org"], report.rows,
        )  # fmt: skip
        recorder = PassRecorder(settings.out, record, rows_done=resume.done.count, utc_now=utc_now)
        recorder.checkpoint(complete=False, now=0.0)
        done_before = resume.done.count
        policy = RetryPolicy(settings.max_retries, row_deadline_s=settings.row_deadline_s)
        snapshot = await define_fields(
            report.definitions, snapshot, baseline, client, policy,
            path=str(settings.operations), sink=recorder,
            done=resume.done, tally=resume.tally, concurrency=settings.concurrency,
        )  # fmt: skip
        executor = PairExecutor(client, snapshot, policy, resuming=done_before > 0)
        rows = prepare(settings.operations, snapshot, baseline=baseline, project=False,
                       encoding=settings.encoding)  # fmt: skip
        limits = Limits(settings.concurrency, settings.limit, settings.max_errors,
                        settings.max_duration_s)  # fmt: skip
        with reporter() as progress:
            run = Run(rows, executor, recorder, limits, total_rows=report.rows,
                      done=resume.done, tally=resume.tally, counters=client.stats,
                      reporter=progress)  # fmt: skip
            ended = await run.execute()
        summary = RunReport(
            exit_code=ended.exit_code, folder=settings.out, job=settings.name, org=snapshot.org,
            pass_number=start.number, pass_why=start.why, started_at=start.started_at,
            total_rows=report.rows, tally=ended.tally, elapsed_s=ended.elapsed_s,
            requests=client.stats.requests, rate_limited=client.stats.rate_limited,
            rate_per_s=settings.rate_per_s, reason=ended.reason, resumed_rows=done_before,
            retried_rows=executor.retried_rows,
            requests_by_group=dict(client.stats.requests_by_group),
            timeline=client.stats.timeline(rows_by_second=recorder.rows_by_second),
            failed_rows=recorder.failed,
        )  # fmt: skip
    write_json_atomically(settings.out / SUMMARY_FILE, summary.to_summary())
    return summary


def _open_pass(settings: RunSettings, digest: str) -> tuple[PassStart, Resume]:
    """The pass this run works on, and what earlier runs of it left."""
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
    if not start.continuing:
        return start, Resume()
    resume = scan_results(folder / RESULTS_FILE, rows_total=start.rows_total)
    if resume.truncated_bytes:
        log.warning("torn_results_line_cut", bytes=resume.truncated_bytes)
    return start, resume


def _surveyed(settings: RunSettings, snapshot: Snapshot, resume: Resume) -> Report:
    """The preparation pass; invalid rows and unallowed deletes refuse the run (exit 2)."""
    report = survey(settings.operations, snapshot, done=resume.done, encoding=settings.encoding)
    if not report.ok and not settings.skip_invalid:
        raise JobInvalid(report)
    if report.delete_count and not settings.allow_delete:
        raise DeletesRefused(report, snapshot)
    return report


def _baseline(folder: Path, start: PassStart, snapshot: Snapshot) -> Snapshot:
    """What the pass plans from: its first run's snapshot (kept in snapshot.json), written
    now when this run starts the pass."""
    if start.continuing:
        document = read_snapshot_document(folder)
        if document is not None:
            return Snapshot.from_document(document)
    write_snapshot(folder, snapshot.document)
    return snapshot


async def plan_job(
    settings: RunSettings, credentials: Credentials, *, each: Callable[[Prepared, Snapshot], None]
) -> Report:
    """The plan of a job against one snapshot of the org; nothing is written anywhere."""
    # an unusable file or header, or no row without --allow-empty, stops here (exit 2)
    check_operations(
        settings.operations, encoding=settings.encoding, allow_empty=settings.allow_empty
    )
    async with client_for(settings, credentials) as client:
        snapshot = await fetch_snapshot(client, settings.base_url)
    check_org(snapshot, settings)
    return survey(
        settings.operations,
        snapshot,
        each=lambda prepared: each(prepared, snapshot),
        encoding=settings.encoding,
    )
