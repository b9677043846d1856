"""The org as read before the first write: who it is, its fields with their associations, roles
and custom types; and the resolution of rows' names and ids against it.

Pure: built from the raw JSON Close returns (`from_lists`) or from `snapshot.json`
(`from_document`); `orgreader.py` reads it from the org.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from scf_batch.models import (
    BUILTIN_ROLES,
    Association,
    ObjectType,
    Operation,
    Problem,
    Ref,
    ResolvedOperation,
    Target,
)
from scf_batch.text import did_you_mean, escaped, quoted, show

SNAPSHOT_VERSION = 1
TYPE_ID_KEYS = {
    ObjectType.CUSTOM_ACTIVITY_TYPE: "custom_activity_type_id",
    ObjectType.CUSTOM_OBJECT_TYPE: "custom_object_type_id",
}
Pair = tuple[str, str]  # (field id, target path)

# the id a field the job creates goes by in a plan until Close gives it one ("new:<name>")
PLACEHOLDER_PREFIX = "new:"


@dataclass(frozen=True, slots=True)
class Org:
    """The organization the credentials belong to."""

    id: str
    name: str

    def __str__(self) -> str:
        """`"Acme" (orga_…)`: the name quoted and escaped (it comes from the server)."""
        return f"{quoted(self.name)} ({escaped(self.id)})"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of org object: its names by id, and the ids behind each exact name."""

    noun: str
    id_column: str
    name_column: str
    names: dict[str, str | None]
    by_name: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, noun: str, columns: tuple[str, str], objects: Iterable[Mapping[str, Any]]) -> Kind:
        """Index the objects that have a string id (others cannot be referred to)."""
        names: dict[str, str | None] = {}
        by_name: dict[str, list[str]] = {}
        for obj in objects:
            object_id, name = obj.get("id"), obj.get("name")
            if not isinstance(object_id, str):
                continue
            names[object_id] = name if isinstance(name, str) else None
            if isinstance(name, str):
                by_name.setdefault(name, []).append(object_id)
        by_name_ids = {n: tuple(ids) for n, ids in by_name.items()}
        return cls(noun, *columns, names, by_name_ids)

    def find(self, ref: Ref, problem: ProblemAt) -> str | None:
        """The id `ref` stands for, or None after reporting why there is none."""
        if ref.id is not None:
            if ref.id in self.names:
                return ref.id
            problem(
                self.id_column, f"{show(ref.id)}, no {self.noun} of the org", self.known(ref.id)
            )
            return None
        name = ref.name or ""
        found = self.by_name.get(name, ())
        if len(found) == 1:
            return found[0]
        if not found:
            found_text = f"{show(name)}, the name of no {self.noun} of the org"
            problem(self.name_column, found_text, self.known(name))
        else:
            problem(
                self.name_column,
                f"{show(name)}, the name of {len(found)} {self.noun}s ({', '.join(found)})",
                f"a name only one {self.noun} has, or its id",
            )
        return None

    def known(self, found: str = "") -> str:
        """What would be valid: the closest names to `found` when some are close, else a few."""
        if not self.by_name:
            return f"a {self.noun} that exists (the org has none)"
        suggestion = did_you_mean(found, self.by_name) if found else ""
        if suggestion:
            return f"a {self.noun} of the org: {suggestion}"
        names = sorted(self.by_name)
        listed = ", ".join(show(name) for name in names[:5])
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        return f"a {self.noun} of the org, e.g. {listed}{more}"


class ProblemAt(Protocol):
    """Records one problem of the row being resolved."""

    def __call__(self, column: str, found: str, expected: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The org's state: what plans are made against and names are resolved with."""

    org: Org | None
    fields: Kind
    roles: Kind
    activity_types: Kind
    object_types: Kind
    associations: dict[Pair, Association]
    document: dict[str, Any]  # the lists as read, for snapshot.json

    @classmethod
    def from_lists(
        cls,
        me: Mapping[str, Any] | None,
        fields: list[dict[str, Any]],
        roles: list[dict[str, Any]],
        activity_types: list[dict[str, Any]],
        object_types: list[dict[str, Any]],
    ) -> Snapshot:
        """Build from `me/` and the `data` lists of the four list endpoints."""
        org = org_of(me, fields)
        document = {
            "version": SNAPSHOT_VERSION,
            "org": None if org is None else {"id": org.id, "name": org.name},
            "fields": fields,
            "roles": roles,
            "custom_activity_types": activity_types,
            "custom_object_types": object_types,
        }
        return cls(
            org,
            Kind.of("shared custom field", ("scf_id", "scf_name"), fields),
            Kind.of("role", ("editable_with_roles", "editable_with_roles"), roles),
            Kind.of("custom activity type", _columns("custom_activity_type"), activity_types),
            Kind.of("custom object type", _columns("custom_object_type"), object_types),
            dict(_associations(fields)),
            document,
        )

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Snapshot:
        """Rebuild from what `document` held (snapshot.json)."""
        org = document.get("org")
        me = {"organizations": [org]} if isinstance(org, dict) else None
        return cls.from_lists(
            me,
            _dicts(document.get("fields")),
            _dicts(document.get("roles")),
            _dicts(document.get("custom_activity_types")),
            _dicts(document.get("custom_object_types")),
        )

    def association(self, pair: Pair) -> Association | None:
        """The settings of the pair's association, or None when the field is not associated."""
        return self.associations.get(pair)

    def field_name(self, scf_id: str) -> str | None:
        return self.fields.names.get(scf_id)

    def role_name(self, role: str) -> str:
        """A role reference as people know it: a role id by the org's name for it; a name or
        a built-in slug as it is."""
        return self.roles.names.get(role) or role

    def target_name(self, target: Target) -> str | None:
        """The custom type's name for the two custom object types; None for the others."""
        if target.type_id is None:
            return None
        kind = self.activity_types
        if target.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
            kind = self.object_types
        return kind.names.get(target.type_id)

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


def org_of(me: Mapping[str, Any] | None, fields: list[dict[str, Any]]) -> Org | None:
    """The key's org: the one `me/` names, or, when it names several, the one the fields are of."""
    orgs = me.get("organizations") if me is not None else None
    candidates = [
        Org(o["id"], str(o.get("name") or ""))
        for o in (orgs if isinstance(orgs, list) else [])
        if isinstance(o, dict) and isinstance(o.get("id"), str)
    ]
    if len(candidates) == 1:
        return candidates[0]
    field_orgs = {f.get("organization_id") for f in fields}
    matching = [org for org in candidates if org.id in field_orgs]
    return matching[0] if len(matching) == 1 else None


def _associations(fields: Iterable[Mapping[str, Any]]) -> Iterable[tuple[Pair, Association]]:
    """Each association's pair and settings; equal settings are one object (an org of many
    associations holds few distinct settings)."""
    settings_seen: dict[Association, Association] = {}
    for field in fields:
        scf_id = field.get("id")
        if not isinstance(scf_id, str):
            continue
        for assoc in field.get("associations") or ():
            target = target_of(assoc)
            if target is not None:
                roles = assoc.get("editable_with_roles") or ()
                settings = Association(bool(assoc.get("required")), frozenset(map(str, roles)))
                yield (scf_id, target.path), settings_seen.setdefault(settings, settings)


def target_of(assoc: Mapping[str, Any]) -> Target | None:
    """The target an association object names, or None when it names none we know."""
    try:
        object_type = ObjectType(str(assoc.get("object_type")))
    except ValueError:
        return None
    id_key = TYPE_ID_KEYS.get(object_type)
    if id_key is None:
        return Target(object_type)
    type_id = assoc.get(id_key)
    return Target(object_type, type_id) if isinstance(type_id, str) else None


def _columns(prefix: str) -> tuple[str, str]:
    return f"{prefix}_id", f"{prefix}_name"


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
