"""What the target org lacks that a job names: custom types and roles, each with its lines. Pure.

This tool creates fields, never custom activity types, custom object types or roles, so a job
that names one the org lacks cannot run those rows: `validate --online` and `plan` say so up
front, grouped by what is missing, so an admin can create them in Close first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from scf_batch.models import BUILTIN_ROLES, FieldDefinition, ObjectType, Operation, Ref
from scf_batch.plan.snapshot import Kind, Snapshot
from scf_batch.text import did_you_mean, show

SHOWN_LINES = 10


class Row(Protocol):
    """A prepared row, as far as this module reads it."""

    @property
    def op(self) -> Operation | None: ...
    @property
    def definition(self) -> FieldDefinition | None: ...


@dataclass(slots=True)
class Missing:
    """One missing object: the first lines that need it, and how many rows do."""

    lines: list[int] = field(default_factory=list)
    rows: int = 0
    suggestion: str = ""  # "did you mean ...?" when the org has a close name

    def add(self, line: int) -> None:
        self.rows += 1
        if len(self.lines) < SHOWN_LINES:
            self.lines.append(line)


@dataclass(slots=True)
class Lacking:
    """Missing objects by (noun, name or id), in the order first met."""

    missing: dict[tuple[str, str], Missing] = field(default_factory=dict)

    def see(self, row: Row, snapshot: Snapshot) -> None:
        """Note what this row names that the org lacks."""
        op, definition = row.op, row.definition
        if op is not None:
            self._see_op(op, snapshot)
        if definition is not None and definition.referenced_type is not None:
            ref = Ref(name=definition.referenced_type)
            self._check(snapshot.object_types, ref, definition.line)

    def _see_op(self, op: Operation, snapshot: Snapshot) -> None:
        if op.type_ref is not None:
            kind = snapshot.activity_types
            if op.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
                kind = snapshot.object_types
            self._check(kind, op.type_ref, op.line)
        for entry in op.editable_with_roles or ():
            if entry not in BUILTIN_ROLES:
                ref = Ref(id=entry) if entry.startswith("role_") else Ref(name=entry)
                self._check(snapshot.roles, ref, op.line)

    def _check(self, kind: Kind, ref: Ref, line: int) -> None:
        known = ref.id in kind.names if ref.id is not None else ref.name in kind.by_name
        if known:
            return
        label = show(ref.id) if ref.id is not None else show(ref.name)
        missing = self.missing.get((kind.noun, label))
        if missing is None:
            close = did_you_mean(ref.name, kind.by_name) if ref.name is not None else ""
            missing = self.missing[kind.noun, label] = Missing(suggestion=close)
        missing.add(line)

    def __bool__(self) -> bool:
        return bool(self.missing)

    def lines(self) -> Iterable[str]:
        """`the org lacks custom object type "Contract": lines 4, 9 (2 rows)`, one a line."""
        for (noun, label), missing in self.missing.items():
            shown = ", ".join(map(str, missing.lines))
            more = f" and {missing.rows - len(missing.lines)} more" * (
                missing.rows > len(missing.lines)
            )
            suggestion = f" ({missing.suggestion})" if missing.suggestion else ""
            yield f"  {noun} {label}: line(s) {shown}{more}{suggestion}"

    def render(self) -> str:
        """The block validate and plan print; empty when nothing is missing."""
        if not self.missing:
            return ""
        head = (
            "the org lacks what these rows name (create them in Close first; "
            "scf-batch creates fields only):"
        )
        return "\n".join([head, *self.lines()])
