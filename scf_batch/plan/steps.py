"""The plan: for one resolved row and the state of its (field, target), the one step to take. Pure.

A step is a write (create, update with the differences, delete), nothing to do (the org is
already as the row asks), or a failure known without a request. `PlanState` follows a file's
rows in input order from a snapshot, so each row is planned against the state the earlier rows
of its pair leave (as they would if their writes succeed).

| action       | absent                  | present, as asked           | other settings |
|--------------|-------------------------|-----------------------------|----------------|
| associate    | create                  | nothing: already_associated | fail: conflict |
| update       | fail: not_associated    | nothing: unchanged          | update         |
| disassociate | nothing: not_associated | delete                      | delete         |
| ensure       | create                  | nothing: unchanged          | update         |

A disassociate of a pair the job spec protects (plan/protect.py) fails `protected`, whatever the
pair's state, and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from scf_batch.models import (
    PROTECTED_REASON,
    Action,
    Association,
    Change,
    Outcome,
    ResolvedOperation,
    StepKind,
)
from scf_batch.plan.snapshot import TYPE_ID_KEYS, Pair, Snapshot


@dataclass(frozen=True, slots=True)
class Step:
    """What one row does: its kind, the outcome it ends with, and the state it leaves."""

    kind: StepKind
    outcome: Outcome
    after: Association | None
    body: dict[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Wanted:
    """The settings a row asks for; None means "not set by the row"."""

    required: bool | None
    roles: frozenset[str] | None

    def changes(self, current: Association) -> tuple[Change, ...]:
        found: list[Change] = []
        if self.required is not None and self.required != current.required:
            found.append(("required", current.required, self.required))
        if self.roles is not None and self.roles != current.roles:
            found.append(("editable_with_roles", sorted(current.roles), sorted(self.roles)))
        return tuple(found)

    def applied_to(self, current: Association) -> Association:
        return Association(
            current.required if self.required is None else self.required,
            current.roles if self.roles is None else self.roles,
        )


def wanted(rop: ResolvedOperation) -> Wanted:
    """What the row asks for; associate names `required` always (empty = false)."""
    required = rop.op.required
    if rop.op.action is Action.ASSOCIATE:
        required = bool(required)
    roles = rop.editable_with_roles
    return Wanted(required, None if roles is None else frozenset(roles))


def plan_step(
    rop: ResolvedOperation, current: Association | None, *, protected: bool = False
) -> Step:
    """The one step that brings the pair from `current` to what the row asks (table above);
    `protected`: the pair may never be disassociated (plan/protect.py says which)."""
    action = rop.op.action
    if action is Action.DISASSOCIATE:
        if protected:
            return Step(StepKind.FAIL, Outcome.PROTECTED, current, reason=PROTECTED_REASON)
        if current is None:
            return Step(StepKind.NOTHING, Outcome.NOT_ASSOCIATED, None)
        return Step(StepKind.DELETE, Outcome.DELETED, None)
    want = wanted(rop)
    if current is not None:
        return _present(action, want, current)
    if action is Action.UPDATE:
        reason = "not associated, so there is nothing to update"
        return Step(StepKind.FAIL, Outcome.NOT_ASSOCIATED, None, reason=reason)
    return _create(rop, want)


def _present(action: Action, want: Wanted, current: Association) -> Step:
    """associate, update or ensure of a pair that is associated."""
    changes = want.changes(current)
    if not changes:
        outcome = Outcome.ALREADY_ASSOCIATED if action is Action.ASSOCIATE else Outcome.UNCHANGED
        return Step(StepKind.NOTHING, outcome, current)
    if action is Action.ASSOCIATE:
        reason = "associated already, with other settings: " + describe_changes(changes)
        return Step(StepKind.FAIL, Outcome.CONFLICT, current, changes=changes, reason=reason)
    body = {name: after for name, _, after in changes}
    after = want.applied_to(current)
    return Step(StepKind.UPDATE, Outcome.UPDATED, after, body=body, changes=changes)


def _create(rop: ResolvedOperation, want: Wanted) -> Step:
    """The POST body: bare object type, the specific type's id, and the settings."""
    target = rop.target
    body: dict[str, Any] = {"object_type": target.object_type.value}
    id_key = TYPE_ID_KEYS.get(target.object_type)
    if id_key is not None:
        body[id_key] = target.type_id
    required = bool(want.required)
    body["required"] = required
    if want.roles is not None:
        body["editable_with_roles"] = sorted(want.roles)
    after = Association(required, want.roles or frozenset())
    return Step(StepKind.CREATE, Outcome.CREATED, after, body=body)


def describe_changes(changes: tuple[Change, ...]) -> str:
    """`required false → true, editable_with_roles [] → [admin]`."""
    return ", ".join(f"{name} {_value(old)} → {_value(new)}" for name, old, new in changes)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class Unrecorded(Enum):
    """No row has left its pair in a state yet (the snapshot's state holds)."""

    TOKEN = 0


UNRECORDED = Unrecorded.TOKEN


class PairStates:
    """The state rows have left each pair in: one entry per pair a row has touched, at most one
    per (field, target) of the org (and the fields created meanwhile), whatever the file."""

    def __init__(self) -> None:
        self._states: dict[Pair, Association | None] = {}

    def __len__(self) -> int:
        return len(self._states)

    def recorded(self, pair: Pair) -> Association | Unrecorded | None:
        """The state the rows so far left `pair` in, or UNRECORDED."""
        return self._states.get(pair, UNRECORDED)

    def record(self, pair: Pair, state: Association | None) -> None:
        self._states[pair] = state


class PlanState:
    """Plans rows in input order, each against the state its pair's earlier rows leave.

    Starts from `baseline` (a snapshot's associations); it remembers what rows left each pair
    they wrote in, in `PairStates` (an entry per pair, never per row).
    """

    def __init__(self, baseline: Snapshot) -> None:
        self._baseline = baseline
        self._pairs = PairStates()

    def current(self, pair: Pair) -> Association | None:
        found = self._pairs.recorded(pair)
        return self._baseline.association(pair) if found is UNRECORDED else found

    def plan(self, rop: ResolvedOperation, *, protected: bool = False) -> Step:
        """The row's step, and the pair moved on as if it succeeds."""
        step = plan_step(rop, self.current(rop.pair), protected=protected)
        if step.kind.writes:
            self._pairs.record(rop.pair, step.after)
        return step
