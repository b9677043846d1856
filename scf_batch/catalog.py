"""What an org has (fields, roles, custom types) and the resolution of rows' names and ids to it.

Pure: built from the raw JSON lists Close returns; `fetch_catalog` only awaits a Lister (the
client), so this module imports nothing that speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from scf_batch.cells import BUILTIN_ROLES, show
from scf_batch.models import ObjectType, Operation, Problem, Ref, ResolvedOperation, Target

FIELDS_PATH = "custom_field/shared/"
ROLES_PATH = "role/"
ACTIVITY_TYPES_PATH = "custom_activity/"
OBJECT_TYPES_PATH = "custom_object_type/"


class Lister(Protocol):
    """Anything that lists every object of a Close collection, following its pages."""

    async def list_all(self, path: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of org object: its ids, and the ids behind each exact name."""

    noun: str
    id_column: str
    name_column: str
    ids: frozenset[str]
    by_name: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, noun: str, columns: tuple[str, str], objects: Iterable[dict[str, Any]]) -> Kind:
        """Index the objects that have a string id (others cannot be referred to)."""
        ids: list[str] = []
        by_name: dict[str, list[str]] = {}
        for obj in objects:
            object_id, name = obj.get("id"), obj.get("name")
            if not isinstance(object_id, str):
                continue
            ids.append(object_id)
            if isinstance(name, str):
                by_name.setdefault(name, []).append(object_id)
        named = {name: tuple(found) for name, found in by_name.items()}
        return cls(noun, *columns, frozenset(ids), named)

    def find(self, ref: Ref, problem: ProblemAt) -> str | None:
        """The id `ref` stands for, or None after reporting why there is none."""
        if ref.id is not None:
            if ref.id in self.ids:
                return ref.id
            problem(self.id_column, f"{show(ref.id)}, no {self.noun} of the org", _known(self))
            return None
        name = ref.name or ""
        found = self.by_name.get(name, ())
        if len(found) == 1:
            return found[0]
        if not found:
            found_text = f"{show(name)}, the name of no {self.noun} of the org"
            problem(self.name_column, found_text, _known(self))
        else:
            problem(
                self.name_column,
                f"{show(name)}, the name of {len(found)} {self.noun}s ({', '.join(found)})",
                f"a name only one {self.noun} has, or its id",
            )
        return None


class ProblemAt(Protocol):
    """Records one problem of the row being resolved."""

    def __call__(self, column: str, found: str, expected: str) -> None: ...


def _columns(prefix: str) -> tuple[str, str]:
    return f"{prefix}_id", f"{prefix}_name"


def _known(kind: Kind) -> str:
    if not kind.by_name:
        return f"a {kind.noun} that exists (the org has none)"
    names = sorted(kind.by_name)
    listed = ", ".join(show(name) for name in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"a {kind.noun} of the org, e.g. {listed}{more}"


@dataclass(frozen=True, slots=True)
class Catalog:
    """The org's shared fields, roles, custom activity types and custom object types."""

    fields: Kind
    roles: Kind
    activity_types: Kind
    object_types: Kind

    @classmethod
    def from_lists(
        cls,
        fields: Iterable[dict[str, Any]],
        roles: Iterable[dict[str, Any]],
        activity_types: Iterable[dict[str, Any]],
        object_types: Iterable[dict[str, Any]],
    ) -> Catalog:
        """Build from the `data` lists of the four list endpoints."""
        return cls(
            Kind.of("shared custom field", ("scf_id", "scf_name"), fields),
            Kind.of("role", ("editable_with_roles", "editable_with_roles"), roles),
            Kind.of("custom activity type", _columns("custom_activity_type"), activity_types),
            Kind.of("custom object type", _columns("custom_object_type"), object_types),
        )

    def resolve(self, op: Operation, path: str) -> ResolvedOperation | tuple[Problem, ...]:
        """Names to ids and ids checked; every problem of the row, reported at its line."""
        problems: list[Problem] = []

        def problem(column: str, found: str, expected: str) -> None:
            problems.append(Problem(path, op.line, column, found, expected))

        scf_id = self.fields.find(op.field, problem)
        type_id = None
        if op.type_ref is not None:
            kind = self.activity_types
            if op.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
                kind = self.object_types
            type_id = kind.find(op.type_ref, problem)
        roles = None
        if op.editable_with_roles is not None:
            roles = tuple(self._role(entry, problem) or "" for entry in op.editable_with_roles)
        if problems or scf_id is None:
            return tuple(problems)
        return ResolvedOperation(op, scf_id, Target(op.object_type, type_id), roles)

    def _role(self, entry: str, problem: ProblemAt) -> str | None:
        if entry in BUILTIN_ROLES:
            return entry
        if entry.startswith("role_"):
            return self.roles.find(Ref(id=entry), problem)
        return self.roles.find(Ref(name=entry), problem)


async def fetch_catalog(lister: Lister) -> Catalog:
    """List the org's fields, roles and custom types (each once, paged by the lister)."""
    fields = await lister.list_all(FIELDS_PATH)
    roles = await lister.list_all(ROLES_PATH)
    activity_types = await lister.list_all(ACTIVITY_TYPES_PATH)
    object_types = await lister.list_all(OBJECT_TYPES_PATH)
    return Catalog.from_lists(fields, roles, activity_types, object_types)
