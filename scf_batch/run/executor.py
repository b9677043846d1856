"""The one executor of a run: each prepared row, whatever its kind, carried out and given its
result line. Only writes are sent, and their outcomes are confirmed by reading (confirm.py).

| the prepared row       | carried out by                | result line's action |
|------------------------|-------------------------------|----------------------|
| invalid                | nothing: its `invalid` line   | the row's, if known  |
| names gone (repairing) | nothing: failed, `not_found`  | the row's action     |
| field definition       | fields.py: create or update   | `define field`       |
| association            | pairs.py: create/update/delete| the row's action     |
| field order            | order.py: the schema's PUT    | `order`              |

A row's step comes from the plan, made against the state its field or pair is known to be in.
`resuming`: the pass was started by an earlier run, whose writes in flight may have landed; a
row that finds nothing to do where the pass's first snapshot planned a write that leaves the org
as it is now is labelled by that write's outcome (the earlier run stopped before recording it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.close.retry import RetryPolicy
from scf_batch.job.opsfile import OperationsFile
from scf_batch.models import (
    FieldOrder,
    Operation,
    Outcome,
    ResolvedOperation,
    RowError,
    RowResult,
    Status,
    StepKind,
    Target,
)
from scf_batch.options import RunSettings
from scf_batch.plan.fields import (
    FieldStep,
    PlannedField,
    fields_by_id,
    first_steps,
    plan_field,
    with_fields,
)
from scf_batch.plan.prepare import ORDER_ACTION, Prepared, Report
from scf_batch.plan.protect import NO_PROTECTION, Protection
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.steps import UNRECORDED, PairStates, Step, plan_step
from scf_batch.run.confirm import Verdict
from scf_batch.run.fields import FieldApi, carry_out_definition
from scf_batch.run.order import SchemaApi, carry_out_order
from scf_batch.run.pairs import AssociationApi, carry_out_pair
from scf_batch.runfolder.records import utc_now

DEFINE_ACTION = "define field"


class RowApi(AssociationApi, FieldApi, SchemaApi, Protocol):
    """Every client call a row may need (CloseClient implements them)."""


class Executor:
    """Runs prepared rows against the org, keeping each pair's state as its rows leave it.

    Rows of one pair reach it in input order, one at a time (the runner chains them), so the
    state it keeps per pair is exact. The fields definitions leave are kept until
    `settle_definitions` extends the snapshot with them, before the association rows run.
    `first_fields`: definition row -> the step the pass's first snapshot planned (on resume).
    `protection`: the pairs no row disassociates, by their names in the snapshot as it runs.
    """

    def __init__(
        self,
        api: RowApi,
        snapshot: Snapshot,
        policy: RetryPolicy,
        *,
        resuming: bool,
        first_fields: Mapping[int, FieldStep] | None = None,
        clock: Callable[[], float] = time.monotonic,
        protection: Protection = NO_PROTECTION,
    ) -> None:
        self.api = api
        self.snapshot = snapshot
        self.policy = policy
        self.resuming = resuming
        self.first_fields = first_fields or {}
        self.clock = clock
        self.protection = protection
        self.org_id = snapshot.org.id if snapshot.org is not None else None
        self.retried_rows = 0
        self._states = PairStates()
        self._fields = fields_by_id(snapshot)
        self._defined: list[Mapping[str, Any]] = []

    async def execute(self, prepared: Prepared) -> RowResult:
        """The row's result line; a row with an error or no resolution gets its `invalid` line."""
        planned = prepared.field_plan
        if prepared.error is None and planned is not None:
            return await self._define(prepared, planned)
        order, target = prepared.order, prepared.order_target
        if prepared.error is None and order is not None and target is not None:
            return await self._order(prepared, order, target)
        if prepared.unresolved is not None and prepared.op is not None:
            return not_found_result(prepared, prepared.op, prepared.unresolved)
        if prepared.error is not None or prepared.resolved is None:
            return invalid_result(prepared)
        return await self._associate(prepared, prepared.resolved)

    def settle_definitions(self) -> Snapshot:
        """The snapshot with the fields the definitions left, as they now are; association
        rows run against it."""
        if self._defined:
            self.snapshot = with_fields(self.snapshot, self._defined)
            self._defined = []
        return self.snapshot

    async def _associate(self, prepared: Prepared, rop: ResolvedOperation) -> RowResult:
        started = self.clock()
        attempts = Attempts(self.policy)
        recorded = self._states.recorded(rop.pair)
        before = self.snapshot.association(rop.pair) if recorded is UNRECORDED else recorded
        protected = self.protection.covers(rop, self.snapshot)
        step = plan_step(rop, before, protected=protected)
        if recorded is UNRECORDED and self.resuming and prepared.step is not None:
            step = _as_first_planned(step, prepared.step)
        verdict = await carry_out_pair(self.api, attempts, rop, step, before, protected=protected)
        self._states.record(rop.pair, verdict.after)
        return self._line(
            prepared,
            rop.op.action.value,
            verdict,
            attempts,
            started,
            scf_id=rop.scf_id,
            scf_name=self.snapshot.field_name(rop.scf_id),
            object_type=rop.target.object_type.value,
            target=rop.target.path,
            target_name=self.snapshot.target_name(rop.target),
        )

    async def _define(self, prepared: Prepared, planned: PlannedField) -> RowResult:
        resolved, step, definition = planned.resolved, planned.step, planned.definition
        if resolved is None or step is None:
            raise ValueError("only resolved definitions run")
        started = self.clock()
        attempts = Attempts(self.policy)
        current = self._fields.get(resolved.scf_id) if resolved.scf_id else None
        protected = definition.delete and self.protection.guards_field(definition.name)
        if protected:  # whatever the plan said: a protected field is never deleted
            step = plan_field(resolved, current, protected=True)
        verdict = await carry_out_definition(
            self.api, attempts, resolved, step, current, protected=protected
        )
        first = self.first_fields.get(definition.row)
        if verdict.outcome is Outcome.UNCHANGED and first is not None and first.kind.writes:
            # the pass's first run planned this write and stopped before recording it
            verdict = Verdict(Status.OK, first.outcome, verdict.after)
        field = verdict.after
        if field is not None:
            self._defined.append(field)
        scf_id = str(field["id"]) if field is not None else resolved.scf_id
        return self._line(
            prepared,
            DEFINE_ACTION,
            verdict,
            attempts,
            started,
            scf_id=scf_id,
            scf_name=definition.name,
        )

    async def _order(self, prepared: Prepared, order: FieldOrder, target: Target) -> RowResult:
        started = self.clock()
        attempts = Attempts(self.policy)
        verdict = await carry_out_order(self.api, attempts, target, order.fields)
        return self._line(
            prepared,
            ORDER_ACTION,
            verdict,
            attempts,
            started,
            object_type=target.object_type.value,
            target=target.path,
            target_name=order.type_name,
        )

    def _line(
        self,
        prepared: Prepared,
        action: str,
        verdict: Verdict[Any],
        attempts: Attempts,
        started: float,
        **kind: str | None,
    ) -> RowResult:
        """The result line of a row that ran; `kind`: what its kind of row names."""
        self.retried_rows += attempts.retries > 0
        return RowResult(
            row=prepared.row,
            line=prepared.line,
            key=prepared.key,
            action=action,
            status=verdict.status,
            outcome=verdict.outcome,
            org=self.org_id,
            http_status=verdict.http_status,
            requests=attempts.count,
            retries=attempts.retries,
            error=verdict.error,
            field_errors=verdict.field_errors,
            duration_ms=round((self.clock() - started) * 1000),
            finished_at=utc_now(),
            note=verdict.note,
            **kind,
        )


def _as_first_planned(step: Step, planned: Step) -> Step:
    """Nothing to do now, where the pass's first snapshot called for a write that leaves the
    pair as it is now: that write was this pass's (a run stopped before recording it)."""
    if step.kind is StepKind.NOTHING and planned.kind.writes and planned.after == step.after:
        return Step(StepKind.NOTHING, planned.outcome, step.after)
    return step


def invalid_result(prepared: Prepared) -> RowResult:
    """The `invalid` line of a row that could not be read or resolved."""
    problems = prepared.error.problems if prepared.error is not None else ()
    op = prepared.op
    return RowResult(
        row=prepared.row,
        line=prepared.line,
        key=prepared.key,
        action=op.action.value if op is not None else "",
        status=Status.INVALID,
        outcome=Outcome.INVALID,
        object_type=op.object_type.value if op is not None else None,
        error="; ".join(str(p) for p in problems),
        finished_at=utc_now(),
    )


def not_found_result(prepared: Prepared, op: Operation, unresolved: RowError) -> RowResult:
    """The `not_found` line of a row whose names no longer resolve (a pass that repairs)."""
    return RowResult(
        row=prepared.row,
        line=prepared.line,
        key=prepared.key,
        action=op.action.value,
        status=Status.FAILED,
        outcome=Outcome.NOT_FOUND,
        scf_id=op.field.id,
        scf_name=op.field.name,
        object_type=op.object_type.value,
        error="; ".join(str(p) for p in unresolved.problems),
        finished_at=utc_now(),
    )


def executor_for(
    settings: RunSettings,
    api: RowApi,
    operations: OperationsFile,
    report: Report,
    *,
    snapshot: Snapshot,
    baseline: Snapshot,
    resuming: bool,
) -> Executor:
    """The executor of a run, with the job's retry policy and protection; a resumed pass labels
    a definition by the step its first snapshot planned."""
    policy = RetryPolicy(settings.max_retries, row_deadline_s=settings.row_deadline_s)
    return Executor(
        api,
        snapshot,
        policy,
        resuming=resuming,
        first_fields=_first_fields(operations, report, snapshot, baseline),
        protection=Protection.from_names(settings.protect),
    )


def _first_fields(
    operations: OperationsFile, report: Report, snapshot: Snapshot, baseline: Snapshot
) -> dict[int, FieldStep]:
    if baseline is snapshot:
        return {}
    definitions = (p.definition for p in report.definitions if p.definition is not None)
    return first_steps(definitions, baseline, operations.defines_where)
