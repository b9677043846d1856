"""Carrying out a planned row against the API: only writes are sent, and outcomes are confirmed.

A row's step comes from the plan (plan.py), made against the state its pair is known to be in.
A write that meets another state than expected (400 on create, 404 on update or delete) or whose
fate is unknown (5xx, timeout, dropped connection on a POST or DELETE) is confirmed by reading
the association, never by reading error text, and the row is planned again against what was
read. So a retry never creates a duplicate, and a pair that existed before the run is never
reported `created`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from scf_batch.close.attempts import Attempts
from scf_batch.close.retry import RetryPolicy
from scf_batch.errors import ApiError, AuthError, CloseError, GaveUp, ServerRefusing, UnknownFate
from scf_batch.models import (
    Association,
    Outcome,
    ResolvedOperation,
    RowResult,
    Status,
    Target,
)
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.steps import UNRECORDED, PairStates, Step, StepKind, plan_step

# A row is planned again after each surprise (a refusal, or a pair read back in another state than
# planned for); past this many, the pair keeps changing under us. A write whose fate was unknown
# and that did not land is no surprise: it is replayed, as often as the retry policy allows.
MAX_SURPRISES = 3


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


REMOVED_MEANWHILE = "the pair was in the snapshot and was removed after it, by someone else"


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a row ended, and the state it leaves its pair in (as far as is known)."""

    status: Status
    outcome: Outcome
    after: Association | None
    http_status: int | None = None
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()
    note: str | None = None


def ok(outcome: Outcome, after: Association | None, status: int | None = None) -> Verdict:
    return Verdict(Status.OK, outcome, after, status)


def failed(
    outcome: Outcome, after: Association | None, error: CloseError | str | None = None
) -> Verdict:
    if isinstance(error, CloseError):
        fields = error.field_errors if isinstance(error, ApiError) else {}
        return Verdict(
            Status.FAILED, outcome, after, error.status, str(error), tuple(sorted(fields.items()))
        )
    return Verdict(Status.FAILED, outcome, after, None, error)


class _FieldGone(Exception):
    """The field itself no longer exists."""


class StepRunner:
    """Carries out one row's step, confirming by reading whenever the answer leaves doubt."""

    def __init__(self, api: AssociationApi, attempts: Attempts) -> None:
        self.api = api
        self.attempts = attempts

    async def carry_out(
        self, rop: ResolvedOperation, step: Step, before: Association | None
    ) -> Verdict:
        try:
            return await self._carry_out(rop, step, before)
        except GaveUp as exc:
            return failed(Outcome.GAVE_UP, before, exc.last)
        except _FieldGone:
            return failed(Outcome.NOT_FOUND, None, "the field does not exist (any more)")
        except (AuthError, ServerRefusing):
            raise  # not a row outcome: the run stops
        except CloseError as exc:
            # an answer no rule covers (a redirect, a 2xx without a JSON object)
            return failed(Outcome.REJECTED, before, exc)

    async def _carry_out(
        self, rop: ResolvedOperation, step: Step, before: Association | None
    ) -> Verdict:
        sent: Step | None = None  # a write that may have been applied
        surprises = 0
        removed = False  # read back absent where the row's plan had the pair present
        while surprises <= MAX_SURPRISES:
            if not step.kind.writes:
                return _settled(step, sent, removed=removed)
            refused: ApiError | None = None
            try:
                status = await self._send(rop, step)
            except UnknownFate:
                sent = step
            except ApiError as exc:
                if exc.status == 404 and step.kind is StepKind.CREATE:
                    return failed(Outcome.NOT_FOUND, None, exc)  # the field (or type) is gone
                if exc.status not in (400, 404):
                    return failed(Outcome.REJECTED, before, exc)
                refused = exc
            else:
                return _landed(step, status, removed=removed)
            gone_maybe = refused is not None and refused.status == 404
            now = await self._read(rop, check_field=gone_maybe)
            removed = removed or (before is not None and now is None)
            again = plan_step(rop, now)
            if refused is not None and again.kind is step.kind:
                return failed(Outcome.REJECTED, now, refused)  # not a state problem
            surprises += refused is not None or now != before
            before, step = now, again
        return failed(Outcome.GAVE_UP, None, "the association kept changing while this row ran")

    async def _send(self, rop: ResolvedOperation, step: Step) -> int:
        scf_id, target = rop.scf_id, rop.target
        if step.kind is StepKind.CREATE:
            await self.attempts.run(
                lambda: self.api.create_association(scf_id, step.body), safe=False
            )
            return 201
        if step.kind is StepKind.UPDATE:
            await self.attempts.run(
                lambda: self.api.update_association(scf_id, target, step.body), safe=True
            )
            return 200
        await self.attempts.run(lambda: self.api.delete_association(scf_id, target), safe=False)
        return 204

    async def _read(self, rop: ResolvedOperation, *, check_field: bool) -> Association | None:
        """The pair's state now; with `check_field`, a missing association of a missing field
        raises _FieldGone."""
        found = await self.attempts.run(
            lambda: self.api.get_association(rop.scf_id, rop.target), safe=True
        )
        if found is None:
            if check_field:
                field = await self.attempts.run(lambda: self.api.get_field(rop.scf_id), safe=True)
                if field is None:
                    raise _FieldGone
            return None
        roles = found.get("editable_with_roles") or ()
        return Association(bool(found.get("required")), frozenset(map(str, roles)))


def _landed(step: Step, status: int | None, *, removed: bool) -> Verdict:
    """The verdict of a write that landed; a create of a pair someone removed after the
    snapshot is `recreated`, and its note says so."""
    if removed and step.kind is StepKind.CREATE:
        return Verdict(Status.OK, Outcome.RECREATED, step.after, status, note=REMOVED_MEANWHILE)
    return ok(step.outcome, step.after, status)


def _settled(step: Step, sent: Step | None, *, removed: bool) -> Verdict:
    """The verdict of a step that sends nothing; after a write of unknown fate that left the
    pair as that write would, the write's own outcome (it landed)."""
    if sent is not None and step.kind is StepKind.NOTHING and step.after == sent.after:
        return _landed(sent, None, removed=removed)
    if step.kind is StepKind.FAIL:
        return failed(step.outcome, step.after, step.reason)
    return ok(step.outcome, step.after)


class PairExecutor:
    """Runs prepared rows against the org, keeping each pair's state as its rows leave it.

    Rows of one pair reach it in input order, one at a time (the runner chains them), so the
    state it keeps per pair is exact. `resuming`: the pass was started by an earlier run, whose
    writes in flight may have landed; the first row of each pair this run sees is labelled by
    the step planned against the pass's first snapshot when the org now is as that step leaves it.
    """

    def __init__(
        self,
        api: AssociationApi,
        snapshot: Snapshot,
        policy: RetryPolicy,
        *,
        resuming: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.snapshot = snapshot
        self.policy = policy
        self.resuming = resuming
        self.clock = clock
        self.org_id = snapshot.org.id if snapshot.org is not None else None
        self._states = PairStates()
        self.retried_rows = 0

    async def execute(self, prepared: Prepared) -> RowResult:
        """The row's result line; a row with no resolution gets its `invalid` line."""
        rop = prepared.resolved
        if rop is None:
            return invalid_result(prepared)
        started = self.clock()
        attempts = Attempts(self.policy)
        recorded = self._states.recorded(rop.pair)
        first = recorded is UNRECORDED
        before = self.snapshot.association(rop.pair) if recorded is UNRECORDED else recorded
        step = plan_step(rop, before)
        if first and self.resuming and prepared.step is not None:
            step = _as_first_planned(step, prepared.step)
        verdict = await StepRunner(self.api, attempts).carry_out(rop, step, before)
        self._states.record(rop.pair, verdict.after)
        self.retried_rows += attempts.retries > 0
        return RowResult(
            row=prepared.row,
            line=prepared.line,
            key=prepared.key,
            action=rop.op.action.value,
            status=verdict.status,
            outcome=verdict.outcome,
            scf_id=rop.scf_id,
            scf_name=self.snapshot.field_name(rop.scf_id),
            object_type=rop.target.object_type.value,
            target=rop.target.path,
            target_name=self.snapshot.target_name(rop.target),
            org=self.org_id,
            http_status=verdict.http_status,
            requests=attempts.count,
            retries=attempts.retries,
            error=verdict.error,
            field_errors=verdict.field_errors,
            duration_ms=round((self.clock() - started) * 1000),
            finished_at=utc_now(),
            note=verdict.note,
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


def utc_now() -> str:
    """Now, as the ISO 8601 UTC text result lines and checkpoints carry."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
