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

# (present, required, roles, row, line, action) — roles as a frozenset, None = not known
State = tuple[bool, bool | None, frozenset[str] | None, int, int, Action]
PairKey = tuple[str | None, str | None, str, str | None, str | None]


class ConflictTracker:
    """Remembers, per (field, target) pair, the state the rows read so far leave it in."""

    __slots__ = ("_pairs",)

    def __init__(self) -> None:
        self._pairs: dict[PairKey, State] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def see(self, op: Operation) -> tuple[str, str] | None:
        """Record a valid row; return (found, expected) when it contradicts an earlier row."""
        type_ref = op.type_ref
        key: PairKey = (
            op.field.id,
            op.field.name,
            op.object_type,
            None if type_ref is None else type_ref.id,
            None if type_ref is None else type_ref.name,
        )
        action = op.action
        required = op.required
        roles = None if op.editable_with_roles is None else frozenset(op.editable_with_roles)
        if action is Action.ASSOCIATE:
            required = bool(required)
            roles = frozenset() if roles is None else roles
        prior = self._pairs.get(key)
        if prior is not None:
            clash = _clash(action, required, roles, prior)
            if clash is not None:
                return clash
        self._pairs[key] = _next_state(op, action, required, roles, prior)
        return None


def _clash(
    action: Action, required: bool | None, roles: frozenset[str] | None, prior: State
) -> tuple[str, str] | None:
    present, old_required, old_roles, row, line, old_action = prior
    earlier = f"row {row} (line {line})"
    if action is Action.UPDATE and not present:
        return (
            f"update after {earlier} disassociates the pair",
            "an associate row before updating it again, or no update",
        )
    if action in (Action.ASSOCIATE, Action.ENSURE) and present:
        agree = (required is None or old_required is None or required == old_required) and (
            roles is None or old_roles is None or roles == old_roles
        )
        if not agree:
            mine = _describe(required, roles)
            theirs = _describe(old_required, old_roles)
            return (
                f"{action.value} with {mine}, contradicting {earlier} "
                f"({old_action.value} with {theirs})",
                f"the settings {earlier} left (or an update row to change them)",
            )
    return None


def _next_state(
    op: Operation,
    action: Action,
    required: bool | None,
    roles: frozenset[str] | None,
    prior: State | None,
) -> State:
    if action is Action.DISASSOCIATE:
        return (False, None, None, op.row, op.line, action)
    if action is not Action.ASSOCIATE and prior is not None and prior[0]:
        # update / ensure on a present pair: what they leave unset stays as the file had it
        required = prior[1] if required is None else required
        roles = prior[2] if roles is None else roles
    return (True, required, roles, op.row, op.line, action)


def _describe(required: bool | None, roles: frozenset[str] | None) -> str:
    parts = []
    if required is not None:
        parts.append(f"required={str(required).lower()}")
    if roles is not None:
        parts.append("editable_with_roles=[" + ", ".join(sorted(roles)) + "]")
    return ", ".join(parts) or "no settings"
