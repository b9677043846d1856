"""Rows of one file that contradict each other on the same (field, target) pair.

The rule: `associate` and `ensure` *declare* the state of a pair, `update` and `disassociate`
*change* it. Reading the file in order, each pair has the state the earlier rows leave it in
(present with the settings they named, or absent). A row conflicts with the row that last set
that state when:

- it declares (`associate`, `ensure`) settings that disagree with the state the file has already
  declared or set for the pair — e.g. two `associate` rows with different `required`, or
  `ensure` with other roles after an `associate`. Disagreeing means a value both rows name
  differs; `associate` names all of them (empty `required` is false, empty roles are none),
  `ensure` and `update` only what they set. Identical repeats are fine.
- it updates a pair the file has disassociated (and not associated again).

Sequences that change the state on purpose are fine: associate -> update -> disassociate,
disassociate -> associate, update -> update. References are compared as written: a field given
by id on one row and by name on another is not recognised as the same (`validate --online` and
the runner compare ids). Memory is one small tuple per distinct pair, never per row.
"""

from __future__ import annotations

from scf_batch.models import Action, Operation

PairKey = tuple[str | None, str | None, str, str | None, str | None]
Plan = tuple[PairKey, Action, bool | None, frozenset[str] | None]


class PairState:
    """What the rows so far leave one pair in, and the row that last set it."""

    __slots__ = ("action", "line", "plan", "present", "required", "roles", "row")

    def __init__(self, planned: Plan, row: int, line: int) -> None:
        self.present = False
        self.required: bool | None = None
        self.roles: frozenset[str] | None = None
        self.advance(planned, row, line)

    def advance(self, planned: Plan, row: int, line: int) -> None:
        """Apply a row that does not contradict the state."""
        _, action, required, roles = planned
        if action is Action.DISASSOCIATE:
            self.present, self.required, self.roles = False, None, None
        elif action is not Action.ASSOCIATE and self.present:
            # update / ensure on a present pair: what they leave unset stays as the file had it
            self.required = self.required if required is None else required
            self.roles = self.roles if roles is None else roles
        else:
            self.present, self.required, self.roles = True, required, roles
        self.plan, self.action, self.row, self.line = planned, action, row, line


class ConflictTracker:
    """Remembers, per (field, target) pair, the state the rows read so far leave it in."""

    __slots__ = ("_pairs", "_role_sets")

    def __init__(self) -> None:
        self._pairs: dict[PairKey, PairState] = {}
        self._role_sets: dict[frozenset[str], frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def state(self, pair: PairKey) -> PairState | None:
        """The pair's state, for a reader that repeats a row's plan (see PairState.plan)."""
        return self._pairs.get(pair)

    def see(self, op: Operation) -> tuple[str, str] | None:
        """Record a valid row; return (found, expected) when it contradicts an earlier row."""
        return self.check(self.plan(op), op.row, op.line)

    def plan(self, op: Operation) -> Plan:
        """`plan(op)`, its role set shared with equal ones (a frozenset per pair adds up)."""
        pair, action, required, roles = plan(op)
        if roles is not None:
            roles = self._role_sets.setdefault(roles, roles)
        return pair, action, required, roles

    def check(self, planned: Plan, row: int, line: int) -> tuple[str, str] | None:
        """`see` for a row whose plan is already known (the CSV reader caches plans)."""
        state = self._pairs.get(planned[0])
        if state is None:
            self._pairs[planned[0]] = PairState(planned, row, line)
            return None
        if state.plan is planned:  # the very settings that made this state: nothing changes
            state.row, state.line = row, line
            return None
        clash = _clash(planned, state)
        if clash is None:
            state.advance(planned, row, line)
        return clash


def plan(op: Operation) -> Plan:
    """What the tracker needs of a row: its pair and the settings it names (associate: all)."""
    type_ref = op.type_ref
    pair: PairKey = (
        op.field.id,
        op.field.name,
        op.object_type,
        None if type_ref is None else type_ref.id,
        None if type_ref is None else type_ref.name,
    )
    required = op.required
    roles = None if op.editable_with_roles is None else frozenset(op.editable_with_roles)
    if op.action is Action.ASSOCIATE:
        required = bool(required)
        roles = frozenset() if roles is None else roles
    return pair, op.action, required, roles


def _clash(planned: Plan, state: PairState) -> tuple[str, str] | None:
    _, action, required, roles = planned
    earlier = f"row {state.row} (line {state.line})"
    if action is Action.UPDATE and not state.present:
        return (
            f"update after {earlier} disassociates the pair",
            "an associate row before updating it again, or no update",
        )
    if action in (Action.ASSOCIATE, Action.ENSURE) and state.present:
        old_required, old_roles = state.required, state.roles
        agree = (required is None or old_required is None or required == old_required) and (
            roles is None or old_roles is None or roles == old_roles
        )
        if not agree:
            mine = _describe(required, roles)
            theirs = _describe(old_required, old_roles)
            return (
                f"{action.value} with {mine}, contradicting {earlier} "
                f"({state.action.value} with {theirs})",
                f"the settings {earlier} left (or an update row to change them)",
            )
    return None


def _describe(required: bool | None, roles: frozenset[str] | None) -> str:
    parts = []
    if required is not None:
        parts.append(f"required={str(required).lower()}")
    if roles is not None:
        parts.append("editable_with_roles=[" + ", ".join(sorted(roles)) + "]")
    return ", ".join(parts) or "no settings"
