"""The order step: an object's schema and the wanted order of its shared fields -> the ids to PUT.

Only the shared fields the order names move, and only among the places they already hold:
regular fields and shared fields the order does not name keep their exact positions, so their
relative order is untouched. Names the object lacks are left out (nothing to place).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from scf_batch.models import SchemaField


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
