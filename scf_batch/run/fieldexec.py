"""Carrying out a field definition's step: create or update the field, confirmed by reading.

A create whose fate is unknown (5xx, timeout, dropped connection) is never sent again before
the field list is read and shows no field of that name; a create refused with 400 or an update
refused with 404 is checked the same way, and the definition planned again against what was
read. So a field is never created twice, and one that existed is never reported `created`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import ApiError, AuthError, CloseError, GaveUp, UnknownFate
from scf_batch.models import Outcome, RowResult, Status
from scf_batch.plan.fields import FieldStep, PlannedField, ResolvedDefinition, plan_field
from scf_batch.plan.steps import StepKind
from scf_batch.run.executor import utc_now
from scf_batch.run.orgreader import FIELDS_PATH

MAX_STEPS = 4
DEFINE_ACTION = "define field"


class FieldApi(Protocol):
    """The client calls a definition may need (CloseClient implements them)."""

    async def list_all(self, path: str) -> list[dict[str, Any]]: ...
    async def create_field(self, body: dict[str, Any]) -> dict[str, Any]: ...
    async def update_field(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FieldVerdict:
    """How a definition ended, and the field as it now is (None: unknown or absent)."""

    status: Status
    outcome: Outcome
    field: Mapping[str, Any] | None
    http_status: int | None = None
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()


def _failed(outcome: Outcome, error: CloseError | str | None) -> FieldVerdict:
    if isinstance(error, CloseError):
        fields = error.field_errors if isinstance(error, ApiError) else {}
        return FieldVerdict(
            Status.FAILED, outcome, None, error.status, str(error), tuple(sorted(fields.items()))
        )
    return FieldVerdict(Status.FAILED, outcome, None, None, error)


class FieldRunner:
    """Carries out one definition's step under one row's Attempts."""

    def __init__(self, api: FieldApi, attempts: Attempts) -> None:
        self.api = api
        self.attempts = attempts

    async def carry_out(
        self, resolved: ResolvedDefinition, step: FieldStep, current: Mapping[str, Any] | None
    ) -> FieldVerdict:
        try:
            return await self._carry_out(resolved, step, current)
        except GaveUp as exc:
            return _failed(Outcome.GAVE_UP, exc.last)
        except AuthError:
            raise
        except CloseError as exc:
            return _failed(Outcome.REJECTED, exc)

    async def _carry_out(
        self, resolved: ResolvedDefinition, step: FieldStep, current: Mapping[str, Any] | None
    ) -> FieldVerdict:
        sent: FieldStep | None = None  # a write that may have been applied
        for _ in range(MAX_STEPS):
            if not step.kind.writes:
                return _settled(step, sent, current)
            refused: ApiError | None = None
            try:
                written = await self._send(resolved, step)
            except UnknownFate:
                sent = step
            except ApiError as exc:
                if exc.status not in (400, 404):
                    return _failed(Outcome.REJECTED, exc)
                refused = exc
            else:
                return FieldVerdict(Status.OK, step.outcome, written, 200)
            current = await self._find(resolved.definition.name)
            scf_id = str(current["id"]) if current is not None else None
            resolved = ResolvedDefinition(resolved.definition, scf_id, resolved.referenced_type_id)
            again = plan_field(resolved, current)
            if refused is not None and again.kind is step.kind:
                return _failed(Outcome.REJECTED, refused)  # not a state problem
            step = again
        return _failed(Outcome.GAVE_UP, "the field kept changing while this row ran")

    async def _send(self, resolved: ResolvedDefinition, step: FieldStep) -> dict[str, Any]:
        if step.kind is StepKind.CREATE:
            return await self.attempts.run(lambda: self.api.create_field(step.body), safe=False)
        scf_id = str(resolved.scf_id)
        return await self.attempts.run(lambda: self.api.update_field(scf_id, step.body), safe=True)

    async def _find(self, name: str) -> dict[str, Any] | None:
        """The org's field of that name now, from the field list (one read, all pages)."""
        fields = await self.attempts.run(lambda: self.api.list_all(FIELDS_PATH), safe=True)
        return next((f for f in fields if f.get("name") == name), None)


def _settled(
    step: FieldStep, sent: FieldStep | None, current: Mapping[str, Any] | None
) -> FieldVerdict:
    """A step that sends nothing; after a write of unknown fate that leaves nothing to do, the
    write landed: its own outcome."""
    if step.kind is StepKind.FAIL:
        return FieldVerdict(Status.FAILED, step.outcome, current, error=step.reason)
    if sent is not None and step.kind is StepKind.NOTHING:
        return FieldVerdict(Status.OK, sent.outcome, current)
    return FieldVerdict(Status.OK, step.outcome, current)


class FieldExecutor:
    """Runs planned definitions, one result line each; `fields_by_id` gives their current
    objects. `first_planned`: row -> the step the pass's first snapshot planned (on resume)."""

    def __init__(
        self,
        api: FieldApi,
        fields_by_id: Mapping[str, Mapping[str, Any]],
        policy: RetryPolicy,
        *,
        org_id: str | None,
        first_planned: Mapping[int, FieldStep] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.fields_by_id = fields_by_id
        self.policy = policy
        self.org_id = org_id
        self.first_planned = first_planned or {}
        self.clock = clock
        self.retried_rows = 0

    async def execute(self, planned: PlannedField) -> tuple[RowResult, Mapping[str, Any] | None]:
        """The definition's result line and the field as it now is."""
        resolved, step, definition = planned.resolved, planned.step, planned.definition
        if resolved is None or step is None:
            raise ValueError("only resolved definitions run")
        started = self.clock()
        attempts = Attempts(self.policy)
        current = self.fields_by_id.get(resolved.scf_id) if resolved.scf_id else None
        verdict = await FieldRunner(self.api, attempts).carry_out(resolved, step, current)
        first = self.first_planned.get(definition.row)
        if verdict.outcome is Outcome.UNCHANGED and first is not None and first.kind.writes:
            # the pass's first run planned this write and stopped before recording it
            verdict = FieldVerdict(Status.OK, first.outcome, verdict.field)
        self.retried_rows += attempts.retries > 0
        obj = verdict.field
        result = RowResult(
            row=definition.row,
            line=definition.line,
            key=definition.key,
            action=DEFINE_ACTION,
            status=verdict.status,
            outcome=verdict.outcome,
            scf_id=str(obj["id"]) if obj is not None else resolved.scf_id,
            scf_name=definition.name,
            org=self.org_id,
            http_status=verdict.http_status,
            requests=attempts.count,
            retries=attempts.retries,
            error=verdict.error,
            field_errors=verdict.field_errors,
            duration_ms=round((self.clock() - started) * 1000),
            finished_at=utc_now(),
        )
        return result, obj
