"""An association row's writes: create, update or delete one (field, target) pair.

The subject of the confirm-by-reading loop (confirm.py) for a pair: a 404 on a create means the
field (or the target's type) is gone; a 404 elsewhere, or a 400, is read back, and a missing
association of a missing field ends the row `not_found`. A create of a pair someone removed
after the snapshot is `recreated`, and its note says so.
"""

from __future__ import annotations

from typing import Any, Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.errors import ApiError
from scf_batch.models import Association, Outcome, ResolvedOperation, Status, StepKind, Target
from scf_batch.plan.steps import Step, plan_step
from scf_batch.run.confirm import Confirmed, Ending, Verdict, carried_out, failed

# A row is planned again after each surprise (a refusal, or a pair read back in another state than
# planned for); past this many, the pair keeps changing under us. A write whose fate was unknown
# and that did not land is no surprise: it is replayed, as often as the retry policy allows.
MAX_SURPRISES = 3
REMOVED_MEANWHILE = "the pair was in the snapshot and was removed after it, by someone else"
PairVerdict = Verdict[Association | None]


class AssociationApi(Protocol):
    """The client calls a row may need (CloseClient implements them)."""

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None: ...
    # The writes' answers are not used: what a write leaves is known from the plan.
    async def create_association(self, scf_id: str, body: dict[str, Any]) -> object: ...
    async def update_association(
        self, scf_id: str, target: Target, body: dict[str, Any]
    ) -> object: ...
    async def delete_association(self, scf_id: str, target: Target) -> None: ...
    async def get_field(self, scf_id: str) -> dict[str, Any] | None: ...


class _FieldGone(Exception):
    """The field itself no longer exists."""


class PairSubject:
    """One row's pair on the org; `removed`: read back absent where the plan had it present."""

    def __init__(self, api: AssociationApi, attempts: Attempts, rop: ResolvedOperation) -> None:
        self.api = api
        self.attempts = attempts
        self.rop = rop
        self.removed = False

    async def send(self, step: Step) -> tuple[int, Association | None]:
        scf_id, target = self.rop.scf_id, self.rop.target
        if step.kind is StepKind.CREATE:
            await self.attempts.run(
                lambda: self.api.create_association(scf_id, step.body), safe=False
            )
            return 201, step.after
        if step.kind is StepKind.UPDATE:
            await self.attempts.run(
                lambda: self.api.update_association(scf_id, target, step.body), safe=True
            )
            return 200, step.after
        await self.attempts.run(lambda: self.api.delete_association(scf_id, target), safe=False)
        return 204, step.after

    async def read(self, refused: ApiError | None) -> Association | None:
        """The pair's state now; after a 404, a missing association of a missing field raises
        _FieldGone."""
        scf_id, target = self.rop.scf_id, self.rop.target
        found = await self.attempts.run(lambda: self.api.get_association(scf_id, target), safe=True)
        if found is None:
            if refused is not None and refused.status == 404:
                field = await self.attempts.run(lambda: self.api.get_field(scf_id), safe=True)
                if field is None:
                    raise _FieldGone
            return None
        roles = found.get("editable_with_roles") or ()
        return Association(bool(found.get("required")), frozenset(map(str, roles)))

    def plan(self, state: Association | None) -> Step:
        return plan_step(self.rop, state)

    def explains(self, refused: ApiError, step: Step) -> bool:
        # a 404 on a create: the field (or type) is gone, which no read of the pair changes
        if refused.status == 404:
            return step.kind is not StepKind.CREATE
        return refused.status == 400

    def surprising(
        self, before: Association | None, now: Association | None, refused: ApiError | None
    ) -> bool:
        self.removed = self.removed or (before is not None and now is None)
        return refused is not None or now != before

    def verdict(self, confirmed: Confirmed[Step, Association | None]) -> PairVerdict:
        step, state = confirmed.step, confirmed.state
        if confirmed.ending is Ending.LANDED:
            return self._landed(step, confirmed.status)
        if confirmed.ending is Ending.SETTLED:
            return self._settled(step, confirmed.sent)
        refused = confirmed.refused
        if confirmed.ending is Ending.REFUSED and refused is not None:
            if refused.status == 404 and step.kind is StepKind.CREATE:
                return failed(Outcome.NOT_FOUND, None, refused)
            return failed(Outcome.REJECTED, state, refused)
        return failed(Outcome.GAVE_UP, None, "the association kept changing while this row ran")

    def _landed(self, step: Step, status: int | None) -> PairVerdict:
        """A write that landed; a create of a pair removed after the snapshot is `recreated`."""
        if self.removed and step.kind is StepKind.CREATE:
            return Verdict(Status.OK, Outcome.RECREATED, step.after, status, note=REMOVED_MEANWHILE)
        return Verdict(Status.OK, step.outcome, step.after, status)

    def _settled(self, step: Step, sent: Step | None) -> PairVerdict:
        """A step that sends nothing; after a write of unknown fate that left the pair as that
        write would, the write's own outcome (it landed)."""
        if sent is not None and step.kind is StepKind.NOTHING and step.after == sent.after:
            return self._landed(sent, None)
        if step.kind is StepKind.FAIL:
            return failed(step.outcome, step.after, step.reason)
        return Verdict(Status.OK, step.outcome, step.after)


async def carry_out_pair(
    api: AssociationApi,
    attempts: Attempts,
    rop: ResolvedOperation,
    step: Step,
    before: Association | None,
) -> PairVerdict:
    """Carry out one row's step on its pair, confirming by reading where an answer leaves doubt."""
    subject = PairSubject(api, attempts, rop)
    try:
        return await carried_out(
            subject,
            step,
            before,
            max_surprises=MAX_SURPRISES,
            verdict=subject.verdict,
            unknown=before,
        )
    except _FieldGone:
        return failed(Outcome.NOT_FOUND, None, "the field does not exist (any more)")
