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
the runner compare ids). Memory is one small tuple per kept pair, never per row: pairs are
kept by target (few) and then by field, so a pair costs one dict entry and its state tuple.
With `repeats`, only the first MAX_PAIRS pairs and then those that repeat are kept (repeats.py).
"""

from __future__ import annotations

from collections import defaultdict
from sys import intern

from scf_batch.models import Action, ObjectType, Operation
from scf_batch.repeats import Repeats

# (object_type, type id, type name): one shared tuple per target, whatever the number of fields
TargetKey = tuple[ObjectType, str | None, str | None]
# a field by id is its id; by name, a 1-tuple, so that a name never equals an id
FieldKey = str | tuple[str]
PairKey = tuple[TargetKey, FieldKey]
Plan = tuple[PairKey, Action, bool | None, frozenset[str] | None]
# What the rows so far leave a pair in: (action, required, role set number, row, line - row) of
# the row that last set its state, required and roles as the rows so far leave them; the pair is
# present unless that action was disassociate. Only plain values (the action as text), so the
# garbage collector stops tracking the tuple at once: an enum member or a frozenset in it would
# keep a million tuples under its scans. The line as an offset: a small int, which CPython shares.
State = tuple[str, bool | None, int | None, int, int]
Declared = tuple[str, bool | None, int | None]
NO_ROLES: frozenset[str] = frozenset()
PLAIN_ACTIONS = {action: action.value for action in Action}
DISASSOCIATE = Action.DISASSOCIATE.value
# per-row comparisons read the member from here: `Action.ASSOCIATE` goes through the enum
# metaclass's attribute lookup, several times slower on Python 3.11
ASSOCIATE = Action.ASSOCIATE
# pairs kept before asking which repeat: ~160 bytes each, 8 MB; real files name fewer pairs
MAX_PAIRS = 50_000


class ConflictTracker:
    """Remembers, per (field, target) pair, the state the rows read so far leave it in.

    With `repeats`, it keeps the first `max_pairs` pairs it meets, then only those `repeats`
    says may occur again (see repeats.py): memory stays bounded however many pairs the file has.
    """

    __slots__ = ("_kept", "_max_pairs", "_repeats", "_role_numbers", "_role_sets", "_targets")

    def __init__(self, repeats: Repeats | None = None, max_pairs: int | None = None) -> None:
        self._targets: defaultdict[TargetKey, dict[FieldKey, State]] = defaultdict(dict)
        self._role_numbers: dict[frozenset[str], int] = {}
        self._role_sets: list[frozenset[str]] = []
        self._repeats = repeats
        self._max_pairs = -1 if repeats is None else MAX_PAIRS if max_pairs is None else max_pairs
        self._kept = 0
        self.role_number(NO_ROLES)

    def __len__(self) -> int:
        return self._kept

    def see(self, op: Operation) -> tuple[str, str] | None:
        """Record a valid row; return (found, expected) when it contradicts an earlier row."""
        return self.check(self.plan(op), op.row, op.line)

    def plan(self, op: Operation) -> Plan:
        """`plan(op)`, its role set shared with equal ones (a frozenset per pair adds up)."""
        pair, action, required, roles = plan(op)
        if roles is not None:
            roles = self._role_sets[self.role_number(roles)]
        return pair, action, required, roles

    def role_number(self, roles: frozenset[str]) -> int:
        """The number this tracker knows the role set by (equal sets, one number)."""
        number = self._role_numbers.get(roles)
        if number is None:
            number = self._role_numbers[roles] = len(self._role_sets)
            self._role_sets.append(roles)
        return number

    def check(self, planned: Plan, row: int, line: int) -> tuple[str, str] | None:
        """`see` for a row whose plan is already known."""
        (target, field), action, required, roles = planned
        number = None if roles is None else self.role_number(roles)
        declared = declaration(action, required)
        return self.record(target, field, declared, number, row=row, line=line)

    def record(
        self,
        target: TargetKey,
        field: FieldKey,
        declared: Declared,
        roles: int | None,
        *,
        row: int,
        line: int,
    ) -> tuple[str, str] | None:
        """`check` for a reader with the pair's keys, declaration and role set number at hand.

        The CSV reader's per-row call, so the common cases are kept short: the pair's first row,
        and a row that says again what the pair's state says (nothing to contradict or merge).
        """
        pairs = self._targets[target]
        state = pairs.get(field)
        if state is None and self._kept == self._max_pairs:
            # past the cap: keep the pair only if it may repeat
            if self._repeats is None or not self._repeats.keep(hash((target, field))):
                return None
            self._max_pairs += 1  # the cap moves with the pairs kept past it
        action, required, unset_roles = declared
        new = (action, required, unset_roles if roles is None else roles, row, line - row)
        if state is None:
            self._kept += 1
            # sys.intern: one string per field id, shared by its pairs with every target
            pairs[intern(field) if isinstance(field, str) else field] = new
            return None
        if state[0] == action and state[1] is required and state[2] == new[2]:
            pairs[field] = new
            return None
        return self._follow(pairs, field, state, new)

    def _follow(
        self, pairs: dict[FieldKey, State], field: FieldKey, state: State, new: State
    ) -> tuple[str, str] | None:
        """Give the pair the state a row leaves it in, unless the row contradicts it."""
        clash = self._clash(new, state)
        if clash is not None:
            return clash
        action, required, roles, row, offset = new
        if state[0] != DISASSOCIATE and action in ("update", "ensure"):
            # update / ensure on a present pair: what they leave unset stays as the file had it
            required = state[1] if required is None else required
            roles = state[2] if roles is None else roles
            new = action, required, roles, row, offset
        pairs[field] = new
        return None

    def _clash(self, new: State, state: State) -> tuple[str, str] | None:
        action, required, roles, _, _ = new
        old_action, old_required, old_roles, row, offset = state
        present = old_action != DISASSOCIATE
        if action == "update" and not present:
            earlier = f"row {row} (line {row + offset})"
            return (
                f"update after {earlier} disassociates the pair",
                "an associate row before updating it again, or no update",
            )
        if action in ("associate", "ensure") and present:
            agree = (required is None or old_required is None or required == old_required) and (
                roles is None or old_roles is None or roles == old_roles
            )
            if not agree:
                earlier = f"row {row} (line {row + offset})"
                mine = self._describe(required, roles)
                theirs = self._describe(old_required, old_roles)
                return (
                    f"{action} with {mine}, contradicting {earlier} ({old_action} with {theirs})",
                    f"the settings {earlier} left (or an update row to change them)",
                )
        return None

    def _describe(self, required: bool | None, roles: int | None) -> str:
        parts = []
        if required is not None:
            parts.append(f"required={str(required).lower()}")
        if roles is not None:
            names = sorted(self._role_sets[roles])
            parts.append("editable_with_roles=[" + ", ".join(names) + "]")
        return ", ".join(parts) or "no settings"


def declaration(action: Action, required: bool | None) -> Declared:
    """What a row with this action and required says: (action text, required, roles if unset).

    Associate names every setting: empty required is false, no roles are none (NO_ROLES, 0).
    """
    if action is ASSOCIATE:
        return PLAIN_ACTIONS[action], bool(required), 0
    return PLAIN_ACTIONS[action], required, None


def plan(op: Operation) -> Plan:
    """What the tracker needs of a row: its pair and the settings it names (associate: all)."""
    type_ref = op.type_ref
    target: TargetKey = (
        op.object_type,
        None if type_ref is None else type_ref.id,
        None if type_ref is None else type_ref.name,
    )
    field: FieldKey = op.field.id if op.field.id is not None else (op.field.name or "",)
    required = op.required
    roles = None if op.editable_with_roles is None else frozenset(op.editable_with_roles)
    if op.action is Action.ASSOCIATE:
        required = bool(required)
        roles = NO_ROLES if roles is None else roles
    return (target, field), op.action, required, roles
