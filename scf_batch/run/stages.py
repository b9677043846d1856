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
from scf_batch.plan.snapshot import Snapshot

log = structlog.get_logger("scf_batch.run.stages")


def surveyed(
    settings: RunSettings,
    operations: OperationsFile,
    snapshot: Snapshot,
    done: Container[int],
    *,
    repairing: bool,
) -> Report:
    """The preparation pass; invalid rows and unallowed deletes refuse the run (exit 2)."""
    report = survey(
        operations.items(),
        snapshot,
        where=operations.where,
        done=done,
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


def stages(
    operations: OperationsFile,
    report: Report,
    settle: Callable[[], Snapshot],
    baseline: Snapshot,
    *,
    planned: bool,
    repairing: bool,
) -> Iterator[Iterable[Prepared]]:
    """The run's rows in stages: the definitions (kept by the preparation pass), then every
    other row, resolved against the snapshot extended by the fields as they now are, then the
    orders (kept too), once the fields they place are defined and associated. `settle` gives
    the snapshot with the fields as the definitions left them (the executor's); `planned`: the
    rows carry the steps the pass's first snapshot planned (a resumed pass labels by them)."""
    yield report.definitions
    snapshot = settle()
    rows = prepare(
        operations.items(),
        snapshot,
        where=operations.where,
        baseline=baseline,
        project=False,
        plan=planned,
        repairing=repairing,
    )
    # a valid definition or order runs in its own stage (or ran in an earlier run of the pass)
    yield (p for p in rows if (p.definition is None and p.order is None) or p.error is not None)
    yield report.orders
