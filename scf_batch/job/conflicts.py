"""Rows of one file that contradict each other on the same (field, target) pair. Pure.

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
by id on one row and by name on another is not recognised as the same (the plan, made against
the org's snapshot, compares ids).

Memory: one dict entry per distinct pair, never one per row: a pair is keyed by its references
as written, and holds its state with the row and the line that set it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scf_batch.models import Action, Operation

# what a row declares of a pair: (action, required, roles); None = not named by the row
Declared = tuple[Action, bool | None, frozenset[str] | None]
# a pair as written: its field reference and its target (object type and custom type reference)
WrittenPair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PairState:
    """What the rows so far leave a pair in, and which row set it last."""

    action: Action
    required: bool | None
    roles: frozenset[str] | None
    row: int
    line: int

    @property
    def present(self) -> bool:
        return self.action is not Action.DISASSOCIATE

    @property
    def declared(self) -> Declared:
        return (self.action, self.required, self.roles)

    def describe(self, role_name: Callable[[str], str] = str) -> str:
        """The settings the row names, its roles as `role_name` shows them (by name)."""
        parts = []
        if self.required is not None:
            parts.append(f"required={str(self.required).lower()}")
        if self.roles is not None:
            roles = sorted(role_name(role) for role in self.roles)
            parts.append("editable_with_roles=[" + ", ".join(roles) + "]")
        return ", ".join(parts) or "no settings"


class ConflictTracker:
    """Remembers, per (field, target) pair, the state the rows read so far leave it in."""

    def __init__(self, role_name: Callable[[str], str] = str) -> None:
        """`role_name` shows a role reference in a message (by its name, when the org is known)."""
        self._pairs: dict[WrittenPair, PairState] = {}
        self._role_name = role_name

    def __len__(self) -> int:
        return len(self._pairs)

    def see(self, op: Operation) -> tuple[str, str] | None:
        """Record a valid row; return (found, expected) when it contradicts an earlier row."""
        key = written_pair(op)
        new = declared_state(op)
        old = self._pairs.get(key)
        if old is not None:
            clash = _clash(new, old, self._role_name)
            if clash is not None:
                return clash
            if old.present and new.action in (Action.UPDATE, Action.ENSURE):
                # what update / ensure leave unset stays as the earlier rows had it
                required = old.required if new.required is None else new.required
                roles = old.roles if new.roles is None else new.roles
                new = PairState(new.action, required, roles, new.row, new.line)
        self._pairs[key] = new
        return None


def written_pair(op: Operation) -> WrittenPair:
    """The pair as written, exactly: an id and a name never meet (`i…` vs `n…`)."""
    field = ("i" + op.field.id) if op.field.id is not None else ("n" + (op.field.name or ""))
    target = op.object_type.value
    if op.type_ref is not None:  # no object type holds "\0": the split stays unambiguous
        ref = op.type_ref
        target += "\0" + (("i" + ref.id) if ref.id is not None else ("n" + (ref.name or "")))
    return field, target


def declared_state(op: Operation) -> PairState:
    """The state a row names: associate names every setting (false, no roles by default)."""
    required = op.required
    roles = None if op.editable_with_roles is None else frozenset(op.editable_with_roles)
    if op.action is Action.ASSOCIATE:
        required = bool(required)
        roles = frozenset() if roles is None else roles
    return PairState(op.action, required, roles, op.row, op.line)


def _clash(
    new: PairState, old: PairState, role_name: Callable[[str], str]
) -> tuple[str, str] | None:
    earlier = f"row {old.row} (line {old.line})"
    if new.action is Action.UPDATE and not old.present:
        return (
            f"update after {earlier} disassociates the pair",
            "an associate or ensure row before updating it again, or no update",
        )
    if new.action in (Action.ASSOCIATE, Action.ENSURE) and old.present:
        agree = _agree(new.required, old.required) and _agree(new.roles, old.roles)
        if not agree:
            return (
                f"{new.action.value} with {new.describe(role_name)}, contradicting {earlier} "
                f"({old.action.value} with {old.describe(role_name)})",
                f"the settings {earlier} left (or an update row to change them)",
            )
    return None


def _agree(mine: object, theirs: object) -> bool:
    """Two settings agree unless both rows name one and the values differ."""
    return mine is None or theirs is None or mine == theirs
