"""The order step: an object's schema and the wanted order of its shared fields -> the ids to PUT.

Only the shared fields the order names move, and only among the places they already hold:
regular fields and shared fields the order does not name keep their exact positions, so their
relative order is untouched. Names the object lacks are left out (nothing to place).

An order row names its object as an operation does (a custom type by name); `resolve_order`
finds it in the snapshot. The schema itself is not in the snapshot: `plan` and `run` read it
when they come to the order rows, after the definitions and associations.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from scf_batch.models import (
    TYPE_NAME_KEYS,
    FieldOrder,
    ObjectType,
    Problem,
    Ref,
    SchemaField,
    StepKind,
    Target,
)
from scf_batch.plan.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class OrderStep:
    """What an order row does to its object's schema: the ids to PUT (None: nothing to send)
    and the neighbouring pairs it puts the other way round."""

    kind: StepKind
    ids: list[str] | None
    differences: tuple[str, ...] = ()


def plan_order(schema: Sequence[SchemaField], wanted: Sequence[str]) -> OrderStep:
    """The step that gives the schema's shared fields the wanted relative order."""
    ids = reorder(schema, wanted)
    if ids is None:
        return OrderStep(StepKind.NOTHING, None)
    return OrderStep(StepKind.UPDATE, ids, tuple(differences(schema, wanted)))


def resolve_order(order: FieldOrder, snapshot: Snapshot, path: str) -> Target | tuple[Problem, ...]:
    """The object the order row names: a built-in one, or the custom type by its name."""
    if order.type_name is None:
        return Target(order.object_type)
    problems: list[Problem] = []

    def problem(column: str, found: str, expected: str) -> None:
        problems.append(
            Problem(path, order.line, TYPE_NAME_KEYS[order.object_type], found, expected)
        )

    kind = snapshot.activity_types
    if order.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
        kind = snapshot.object_types
    type_id = kind.find(Ref(name=order.type_name), problem)
    if type_id is None:
        return tuple(problems)
    return Target(order.object_type, type_id)


def reorder(schema: Sequence[SchemaField], wanted: Sequence[str]) -> list[str] | None:
    """The full id list for `PUT custom_field_schema/...`, or None when the named shared fields
    already stand in the wanted relative order (nothing to send)."""
    placed = _placed(schema, wanted)
    if [schema[i].name for i in sorted(placed.values())] == list(placed):
        return None
    slots = sorted(placed.values())
    moved = dict(zip(slots, (placed[name] for name in placed), strict=True))
    return [schema[moved.get(i, i)].id for i in range(len(schema))]


def differences(schema: Sequence[SchemaField], wanted: Sequence[str]) -> list[str]:
    """The plan's reading of what would change: `"Industry" before "Account Owner"` for each
    neighbouring pair of the wanted order that the schema has the other way round."""
    placed = _placed(schema, wanted)
    return [
        f'"{first}" before "{second}"'
        for first, second in itertools.pairwise(placed)
        if placed[first] > placed[second]
    ]


def _placed(schema: Sequence[SchemaField], wanted: Sequence[str]) -> dict[str, int]:
    """The wanted names the schema has as shared fields, in wanted order, with their index."""
    where = {entry.name: i for i, entry in enumerate(schema) if entry.is_shared}
    return {name: where[name] for name in dict.fromkeys(wanted) if name in where}
