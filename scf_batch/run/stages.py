"""What a run carries out, from one reading of the job: the preparation pass (which refuses
invalid rows and unallowed deletes), then the rows in stages (the field definitions, then every
other row, then the field orders)."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator

import structlog

from scf_batch.errors import DeletesRefused, JobInvalid
from scf_batch.job.opsfile import OperationsFile
from scf_batch.options import RunSettings
from scf_batch.plan.prepare import Prepared, Report, prepare, survey
from scf_batch.plan.protect import NO_PROTECTION, Protection
from scf_batch.plan.prune import PrunedJob, Rows, pruned_job
from scf_batch.plan.snapshot import Snapshot

log = structlog.get_logger("scf_batch.run.stages")


def read_job(
    settings: RunSettings,
    operations: OperationsFile,
    snapshot: Snapshot,
    planned_from: Snapshot,
    done: Container[int],
    *,
    repairing: bool,
) -> tuple[PrunedJob, Report]:
    """The job's rows with its prune rows (from the snapshot the pass plans from), and the
    preparation pass over them against `snapshot`."""
    job_rows = pruned_job(settings, operations, planned_from)
    return job_rows, surveyed(settings, job_rows, snapshot, done, repairing=repairing)


def surveyed(
    settings: RunSettings,
    operations: PrunedJob,
    snapshot: Snapshot,
    done: Container[int],
    *,
    repairing: bool,
) -> Report:
    """The preparation pass over the job's rows and its prune rows; invalid rows and unallowed
    deletes (prune's included) refuse the run (exit 2)."""
    report = survey(
        operations.items(role_name=snapshot.role_name),
        snapshot,
        where=operations.where,
        defines_where=operations.defines_where,
        done=done,
        repairing=repairing,
        protection=Protection.from_names(settings.protect),
    )
    for warning in [*report.warnings, *operations.pruned.warnings]:
        log.warning("spec_name_not_found", detail=warning)
    for note in operations.pruned.notes:
        log.info("prune", detail=note)
    if report.unresolved_rows:
        log.warning("names_not_found", rows=report.unresolved_rows)
    if not report.ok and not settings.skip_invalid:
        raise JobInvalid(
            report, invalid_rows=report.invalid_rows, problem_count=report.problem_count
        )
    if report.delete_count and not settings.allow_delete:
        raise DeletesRefused(report, snapshot, delete_count=report.delete_count)
    return report


def stages(
    operations: Rows,
    report: Report,
    settle: Callable[[], Snapshot],
    baseline: Snapshot,
    *,
    planned: bool,
    repairing: bool,
    protection: Protection = NO_PROTECTION,
) -> Iterator[Iterable[Prepared]]:
    """The run's rows in stages: the definitions (kept by the preparation pass), then every
    other row, resolved against the snapshot extended by the fields as they now are, then the
    orders (kept too), once the fields they place are defined and associated. `settle` gives
    the snapshot with the fields as the definitions left them (the executor's); `planned`: the
    rows carry the steps the pass's first snapshot planned (a resumed pass labels by them);
    `protection`: the pairs no row disassociates (the executor's)."""
    yield report.definitions
    snapshot = settle()
    rows = prepare(
        operations.items(role_name=snapshot.role_name),
        snapshot,
        where=operations.where,
        defines_where=operations.defines_where,
        baseline=baseline,
        project=False,
        plan=planned,
        repairing=repairing,
        protection=protection,
    )
    # a valid definition or order runs in its own stage (or ran in an earlier run of the pass)
    yield (p for p in rows if (p.definition is None and p.order is None) or p.error is not None)
    yield report.orders
