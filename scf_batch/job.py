"""Running a job end to end: lock the folder, check the input, resolve, run, summarize."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from scf_batch import checkpoint
from scf_batch.catalog import Catalog, fetch_catalog
from scf_batch.close_client import open_client
from scf_batch.errors import AuthError, CloseError, ScfBatchError, UsageError
from scf_batch.jobfile import fingerprint, read_operations
from scf_batch.models import Operation
from scf_batch.progress import Reporter
from scf_batch.results import RESULTS_FILE
from scf_batch.runner import Run, RunReport, checkpoint_document
from scf_batch.settings import RunSettings
from scf_batch.validation import Report, check_offline

log = structlog.get_logger("scf_batch.job")


class JobInvalid(UsageError):
    """The job has invalid rows and --skip-invalid was not given; nothing was sent."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{report.invalid_rows} invalid row(s), {report.problem_count} problem(s)")
        self.report = report


def check_resolution(
    path: Path, catalog: Catalog, done: checkpoint.DoneRows, report: Report
) -> Report:
    """Every row not done yet whose names or ids do not exist in the org."""
    where = str(path)
    for item in read_operations(path, report.repeats):
        if isinstance(item, Operation) and item.row not in done:
            resolved = catalog.resolve(item, where)
            if isinstance(resolved, tuple):
                report.invalid_rows += 1
                report.add(resolved)
    return report


async def run_job(
    settings: RunSettings,
    api_key: str,
    *,
    reporter: Callable[[], Reporter],
    client_options: dict[str, Any] | None = None,
) -> RunReport:
    """Run a job in its folder; raises UsageError/JobInvalid (exit 2), LockHeldError (75)."""
    folder = settings.out
    lock = checkpoint.RunLock(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise UsageError(
            f"{folder}: cannot use it as the run folder ({exc.strerror}); "
            "expected a folder you can write to (see --out)"
        ) from exc
    try:
        return await _run_locked(settings, api_key, reporter, client_options or {})
    finally:
        lock.release()


async def _run_locked(
    settings: RunSettings,
    api_key: str,
    reporter: Callable[[], Reporter],
    client_options: dict[str, Any],
) -> RunReport:
    folder = settings.out
    digest = fingerprint(settings.operations)
    if settings.restart:
        archived = checkpoint.discard_previous(folder, now=datetime.now(UTC))
        if archived is not None:
            log.info("restart", archived_to=str(archived))
    else:
        checkpoint.check_same_input(folder, digest, settings.operations)
    read_operations(settings.operations)  # an unusable file or header stops here (exit 2)
    offline = check_offline(settings.operations)
    total_rows = offline.rows
    if not offline.ok and not settings.skip_invalid:
        raise JobInvalid(offline)
    resume = checkpoint.scan_results(folder / RESULTS_FILE)
    if resume.truncated_bytes:
        log.warning("torn_results_line_cut", bytes=resume.truncated_bytes)
    checkpoint.write_checkpoint(
        folder, checkpoint_document(settings, digest, total_rows, resume.tally, complete=False)
    )
    log.info("start", job=settings.name, rows=total_rows, done_before=resume.done.count)
    async with open_client(
        settings.base_url,
        api_key,
        timeout_s=settings.timeout_s,
        rate_per_s=settings.rate_per_s,
        max_connections=settings.concurrency,
        **client_options,
    ) as client:
        catalog = await _fetch(client, settings)
        unresolved = check_resolution(
            settings.operations,
            catalog,
            resume.done,
            Report(str(settings.operations), rows=total_rows, repeats=offline.repeats),
        )
        if not unresolved.ok and not settings.skip_invalid:
            raise JobInvalid(unresolved)
        with reporter() as progress:
            run = Run(
                settings,
                client,
                catalog,
                digest=digest,
                total_rows=total_rows,
                resume=resume,
                reporter=progress,
                repeats=offline.repeats,
            )
            return await run.execute()


async def _fetch(client: Any, settings: RunSettings) -> Catalog:
    try:
        return await fetch_catalog(client)
    except AuthError as exc:
        raise CredentialsRefused(exc.status) from exc
    except CloseError as exc:
        raise UsageError(
            f"{settings.base_url}: could not read the org's fields, roles and types ({exc}); "
            "check --base-url and the network"
        ) from exc


class CredentialsRefused(ScfBatchError):
    """Close refused the API key before anything was changed (exit 3)."""

    def __init__(self, status: int | None) -> None:
        super().__init__(
            f"Close refused the credentials (HTTP {status}); check the API key's env var "
            "and its permissions"
        )
        self.status = status
