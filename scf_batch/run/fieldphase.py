"""The first phase of a run: the job's field definitions, before any association row.

Definitions are few (an org's fields), so they are collected in a list; each runs once, gets its
result line and is marked done like any row, and the snapshot is extended with the fields as
they now are, so the association phase resolves the new fields' names without reading again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import anyio

from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import AuthError, CredentialsRefused, ScfBatchError, ServerRefusing
from scf_batch.models import RowResult
from scf_batch.plan.fields import FieldPlanner, FieldStep, PlannedField, fields_by_id, with_fields
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.fieldexec import FieldApi, FieldExecutor
from scf_batch.runfolder.folder import DoneRows
from scf_batch.runfolder.results import Tally

MAX_CONCURRENT_DEFINITIONS = 4


class Sink(Protocol):
    """Where result lines go (the pass recorder)."""

    def write(self, result: RowResult, *, now: float) -> None: ...


def first_steps(pending: list[PlannedField], baseline: Snapshot, path: str) -> dict[int, FieldStep]:
    """Each pending definition's step as planned against the pass's first snapshot."""
    planner = FieldPlanner(baseline)
    steps = {}
    for planned in pending:
        first = planner.plan(planned.definition, path)
        if first.step is not None:
            steps[planned.definition.row] = first.step
    return steps


def _executor(
    pending: list[PlannedField],
    snapshot: Snapshot,
    baseline: Snapshot,
    api: FieldApi,
    policy: RetryPolicy,
    *,
    path: str,
    clock: Callable[[], float],
) -> FieldExecutor:
    """The field executor; a resumed pass labels by the steps its first snapshot planned."""
    first = first_steps(pending, baseline, path) if baseline is not snapshot else {}
    org_id = snapshot.org.id if snapshot.org is not None else None
    return FieldExecutor(
        api, fields_by_id(snapshot), policy, org_id=org_id, first_planned=first, clock=clock
    )


async def define_fields(
    pending: list[PlannedField],
    snapshot: Snapshot,
    baseline: Snapshot,
    api: FieldApi,
    policy: RetryPolicy,
    *,
    path: str,
    sink: Sink,
    done: DoneRows,
    tally: Tally,
    concurrency: int,
    clock: Callable[[], float] = time.monotonic,
) -> Snapshot:
    """Run the definitions not done yet (the preparation pass's `Report.definitions`); the
    snapshot with the fields as they now are.

    Refused credentials stop the run (CredentialsRefused); each other outcome is a row's.
    """
    if not pending:
        return snapshot
    executor = _executor(pending, snapshot, baseline, api, policy, path=path, clock=clock)
    fields: list[Mapping[str, Any]] = []
    limiter = anyio.CapacityLimiter(max(1, min(concurrency, MAX_CONCURRENT_DEFINITIONS)))

    stopped: list[ScfBatchError] = []

    async def one(planned: PlannedField, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                result, obj = await executor.execute(planned)
            except (AuthError, ServerRefusing) as exc:
                error = exc if isinstance(exc, ServerRefusing) else CredentialsRefused(exc.status)
                stopped.append(error)
                scope.cancel()
                return
        sink.write(result, now=clock())
        tally.add(result.status.value, result.outcome.value)
        done.add(result.row)
        if obj is not None:
            fields.append(obj)

    async with anyio.create_task_group() as group:
        for planned in pending:
            group.start_soon(one, planned, group.cancel_scope)
    if stopped:
        raise stopped[0]
    return with_fields(snapshot, fields)
