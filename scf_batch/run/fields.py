"""A definition row's writes: create or update one shared custom field.

The subject of the confirm-by-reading loop (confirm.py) for a field: a create whose fate is
unknown is never sent again before the field list is read and shows no field of that name; a
create refused with 400 or an update refused with 404 is read back the same way, and the
definition planned again against what was read. So a field is never created twice, and one
that existed is never reported `created`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from scf_batch.close.answers import FIELDS_PATH
from scf_batch.close.attempts import Attempts
from scf_batch.errors import ApiError
from scf_batch.models import Outcome, Status, StepKind
from scf_batch.plan.fields import FieldStep, ResolvedDefinition, plan_field
from scf_batch.run.confirm import Confirmed, Ending, Verdict, carried_out, failed

# every read is planned again: past this many steps, the field keeps changing under us
MAX_STEPS = 4
FieldObject = Mapping[str, Any] | None
FieldVerdict = Verdict[FieldObject]


class FieldApi(Protocol):
    """The client calls a definition may need (CloseClient implements them)."""

    async def list_all(self, path: str) -> list[dict[str, Any]]: ...
    async def create_field(self, body: dict[str, Any]) -> dict[str, Any]: ...
    async def update_field(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]: ...


class FieldSubject:
    """One definition's field on the org, found again by name after each read."""

    def __init__(self, api: FieldApi, attempts: Attempts, resolved: ResolvedDefinition) -> None:
        self.api = api
        self.attempts = attempts
        self.resolved = resolved

    async def send(self, step: FieldStep) -> tuple[int, FieldObject]:
        if step.kind is StepKind.CREATE:
            body = step.body
            return 200, await self.attempts.run(lambda: self.api.create_field(body), safe=False)
        scf_id = str(self.resolved.scf_id)
        written = await self.attempts.run(
            lambda: self.api.update_field(scf_id, step.body), safe=True
        )
        return 200, written

    async def read(self, refused: ApiError | None) -> FieldObject:
        """The org's field of the definition's name now, from the field list (all pages)."""
        fields = await self.attempts.run(lambda: self.api.list_all(FIELDS_PATH), safe=True)
        name = self.resolved.definition.name
        current = next((f for f in fields if f.get("name") == name), None)
        scf_id = str(current["id"]) if current is not None else None
        self.resolved = ResolvedDefinition(
            self.resolved.definition, scf_id, self.resolved.referenced_type_id
        )
        return current

    def plan(self, state: FieldObject) -> FieldStep:
        return plan_field(self.resolved, state)

    def explains(self, refused: ApiError, step: FieldStep) -> bool:
        return refused.status in (400, 404)

    def surprising(self, before: FieldObject, now: FieldObject, refused: ApiError | None) -> bool:
        return True  # each step counts: a field is planned again after every read

    def verdict(self, confirmed: Confirmed[FieldStep, FieldObject]) -> FieldVerdict:
        step, state, sent = confirmed.step, confirmed.state, confirmed.sent
        if confirmed.ending is Ending.LANDED:
            return Verdict(Status.OK, step.outcome, state, confirmed.status)
        if confirmed.ending is Ending.REFUSED:
            return failed(Outcome.REJECTED, None, confirmed.refused)
        if confirmed.ending is Ending.UNSETTLED:
            return failed(Outcome.GAVE_UP, None, "the field kept changing while this row ran")
        if step.kind is StepKind.FAIL:
            return Verdict(Status.FAILED, step.outcome, state, error=step.reason)
        if sent is not None and step.kind is StepKind.NOTHING:
            # after a write of unknown fate that leaves nothing to do, the write landed
            return Verdict(Status.OK, sent.outcome, state)
        return Verdict(Status.OK, step.outcome, state)


async def carry_out_definition(
    api: FieldApi,
    attempts: Attempts,
    resolved: ResolvedDefinition,
    step: FieldStep,
    current: FieldObject,
) -> FieldVerdict:
    """Carry out one definition's step, confirming by reading where an answer leaves doubt."""
    subject = FieldSubject(api, attempts, resolved)
    return await carried_out(
        subject,
        step,
        current,
        max_surprises=MAX_STEPS - 1,
        verdict=subject.verdict,
        unknown=None,
    )
