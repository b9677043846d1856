"""Plan or run the orgs of a fleet side by side in one process: at most `parallel` at once.

Each org is an ordinary plan or run (`run.job`) with its own settings, client, pacing, run
folder, lock and pin; Close's limits are per key and per org, so orgs never compete for one.
One org's failure (an unset or refused key, a pin to another org, an invalid job, a held lock)
is that org's verdict and never stops the others. A signal cancels every org; each run keeps
its checkpoint, and rerunning the fleet continues them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType

import anyio
import structlog

from scf_batch.errors import ScfBatchError
from scf_batch.exitcodes import ExitCode, exit_code_for
from scf_batch.fleet.manifest import FleetOrg, Manifest
from scf_batch.fleet.settings import org_settings
from scf_batch.fleet.signals import STOP_SIGNALS, handlers_kept
from scf_batch.fleet.verdicts import OrgVerdict, run_counts, stopped
from scf_batch.job.opsfile import OperationsFile, check_operations
from scf_batch.models import StepKind
from scf_batch.options import RunSettings
from scf_batch.plan.prepare import Prepared, Report
from scf_batch.plan.snapshot import Snapshot
from scf_batch.report.summary import RunReport
from scf_batch.report.written import drift_repaired
from scf_batch.run.job import run_job
from scf_batch.run.org import credentials_for
from scf_batch.run.plan import plan_job
from scf_batch.run.progress import Progress, Reporter

log = structlog.get_logger("scf_batch.fleet")

OrgWork = Callable[[FleetOrg], Awaitable[OrgVerdict]]


def _checked(settings: RunSettings) -> OperationsFile:
    """The org's operations file, checked once before its key is read (as `run` does)."""
    return check_operations(
        settings.operations,
        encoding=settings.encoding,
        allow_empty=settings.allow_empty,
        definitions=settings.definitions,
    )


async def plan_fleet(
    manifest: Manifest,
    orgs: list[FleetOrg],
    environ: Mapping[str, str] = os.environ,
    *,
    finished: Callable[[OrgVerdict], None] = lambda _: None,
) -> list[OrgVerdict]:
    """Each org's plan against one snapshot of it, in manifest order; nothing is written.
    `finished` sees each org's verdict as it is made."""

    async def plan_one(org: FleetOrg) -> OrgVerdict:
        settings = org_settings(manifest, org, environ)
        operations = _checked(settings)
        credentials = credentials_for(settings, environ)
        report = await plan_job(settings, credentials, operations=operations, each=_ignore)
        return planned(org.name, report)

    return await _each_org(manifest, orgs, plan_one, finished=finished)


async def run_fleet(
    manifest: Manifest,
    orgs: list[FleetOrg],
    environ: Mapping[str, str] = os.environ,
    *,
    finished: Callable[[OrgVerdict], None] = lambda _: None,
) -> list[OrgVerdict]:
    """Run each org in its own folder, in manifest order; `finished` sees each org's verdict
    as it ends (the fleet's summary is written by the caller, interrupted or not)."""

    async def run_one(org: FleetOrg) -> OrgVerdict:
        settings = org_settings(manifest, org, environ)
        operations = _checked(settings)
        credentials = credentials_for(settings, environ)
        report = await run_job(
            settings, credentials, operations=operations, reporter=Quiet, own_signals=False
        )
        return ran(org.name, report)

    # One receiver for the whole fleet: the first SIGINT/SIGTERM cancels every org's run,
    # each of which keeps its checkpoint and summary; later signals change nothing.
    interrupted: list[int] = []
    with handlers_kept():
        verdicts = await _watched(manifest, orgs, run_one, finished, interrupted)
    if interrupted:
        raise KeyboardInterrupt
    return verdicts


async def _watched(
    manifest: Manifest,
    orgs: list[FleetOrg],
    run_one: OrgWork,
    finished: Callable[[OrgVerdict], None],
    interrupted: list[int],
) -> list[OrgVerdict]:
    verdicts: list[OrgVerdict] = []
    work = anyio.CancelScope()
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                async for signum in signals:
                    if not interrupted:
                        log.warning("fleet_interrupted", signal=signal.Signals(signum).name)
                        interrupted.append(signum)
                        work.cancel()

            group.start_soon(watch)
            with work:
                verdicts = await _each_org(manifest, orgs, run_one, finished=finished)
            group.cancel_scope.cancel()
    return verdicts


async def _each_org(
    manifest: Manifest,
    orgs: list[FleetOrg],
    work: OrgWork,
    *,
    finished: Callable[[OrgVerdict], None] = lambda _: None,
) -> list[OrgVerdict]:
    verdicts: dict[str, OrgVerdict] = {}
    limiter = anyio.CapacityLimiter(manifest.parallel)

    async def one(org: FleetOrg) -> None:
        async with limiter:
            with structlog.contextvars.bound_contextvars(fleet_org=org.name):
                verdict = await _guarded(manifest, org, work)
                verdicts[org.name] = verdict
                log.info("org_done", exit_code=int(verdict.exit_code), reason=verdict.reason)
                finished(verdict)

    async with anyio.create_task_group() as group:
        for org in orgs:
            group.start_soon(one, org)
    return [verdicts[org.name] for org in orgs]


async def _guarded(manifest: Manifest, org: FleetOrg, work: OrgWork) -> OrgVerdict:
    """The org's verdict; its own errors (and a full disk in its folder) end it alone."""
    folder = str(manifest.out / org.name)
    try:
        return await work(org)
    except (ScfBatchError, OSError) as exc:
        return stopped(org.name, exit_code_for(exc), _first_line(exc), folder=folder)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def planned(name: str, report: Report) -> OrgVerdict:
    """An org's plan as a verdict: exit 2 when its job has problems, else 0."""
    org = report.org
    steps = report.by_step
    problems = report.problem_count
    return OrgVerdict(
        name,
        ExitCode.USAGE if problems else ExitCode.OK,
        reason=f"{problems} problem(s) in the job (scf-batch validate)" if problems else "",
        org_id=org.id if org is not None else None,
        org_name=org.name if org is not None else None,
        create=steps[StepKind.CREATE.value],
        update=steps[StepKind.UPDATE.value],
        delete=steps[StepKind.DELETE.value],
        unchanged=steps[StepKind.NOTHING.value],
        failing=steps[StepKind.FAIL.value],
        invalid=report.invalid_rows,
    )


def ran(name: str, report: RunReport) -> OrgVerdict:
    """An org's run as a verdict, with its counts from the pass's results."""
    org = report.org
    return OrgVerdict(
        name,
        report.exit_code,
        reason=report.reason or "",
        org_id=org.id if org is not None else None,
        org_name=org.name if org is not None else None,
        folder=str(report.folder),
        drift_repaired=drift_repaired(report.tally, report.pass_number),
        **run_counts(report.tally.by_outcome),
    )


def _ignore(prepared: Prepared, snapshot: Snapshot) -> None:
    """A fleet plan counts steps; it prints no row."""


class Quiet:
    """No progress per org: the fleet logs each org's end instead."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def update(self, progress: Progress, *, now: float) -> None:
        return None
