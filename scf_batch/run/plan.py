"""`scf-batch plan` (and `run --dry-run`): the plan of a job against one snapshot of the org,
every row as the preparation pass plans it, then the orders against their objects' schemas as
they are now (the order rows run last, in a run too). Nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from scf_batch.close.client import CloseClient
from scf_batch.close.credentials import Credentials
from scf_batch.job.opsfile import OperationsFile
from scf_batch.options import RunSettings
from scf_batch.plan.order import plan_order
from scf_batch.plan.prepare import Prepared, Report, survey
from scf_batch.plan.protect import Protection
from scf_batch.plan.prune import pruned_job
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.org import client_for, read_pinned


async def plan_job(
    settings: RunSettings,
    credentials: Credentials,
    *,
    operations: OperationsFile,
    each: Callable[[Prepared, Snapshot], None],
) -> Report:
    """The plan of a job against one snapshot of the org; nothing is written anywhere.

    `operations`: the job's file as `check_operations` found it (the caller checks it once)."""
    async with client_for(settings, credentials) as client:
        snapshot = await read_pinned(client, settings)
        rows = pruned_job(settings, operations, snapshot)
        report = survey(
            rows.items(role_name=snapshot.role_name),
            snapshot,
            where=operations.where,
            defines_where=operations.defines_where,
            each=lambda prepared: each(prepared, snapshot),
            protection=Protection.from_names(settings.protect),
        )
        report.notes.extend(rows.pruned.notes)
        report.warnings.extend(rows.pruned.warnings)
        # the orders come last, as in a run: each object's schema read now, once
        for prepared in report.orders:
            planned = await _order_planned(client, prepared)
            report.count_order(planned)
            each(planned, snapshot)
    return report


async def _order_planned(client: CloseClient, prepared: Prepared) -> Prepared:
    """The order row with its step, planned against its object's schema as it is now."""
    order, target = prepared.order, prepared.order_target
    if order is None or target is None:
        return prepared
    schema = await client.get_schema(target)
    return replace(prepared, order_step=plan_order(schema, order.fields))
