"""The simulated orgs and their shared custom fields: loaded from a seed, dumped for `/_sim/state`.

Pure data, no HTTP. Associations are keyed by (object_type, custom type id or None), so a lookup
from a URL is one dict access. Each object also has a schema: the ids of its fields, regular and
shared, in display order (`custom_field_schema/{object_type}/`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OBJECT_TYPES = ("lead", "contact", "opportunity", "custom_activity_type", "custom_object_type")
TYPE_ID_KEYS = {
    "custom_activity_type": "custom_activity_type_id",
    "custom_object_type": "custom_object_type_id",
}
FIELD_TYPES = (
    "text",
    "number",
    "date",
    "datetime",
    "choices",
    "user",
    "contact",
    "custom_object",
    "hidden",
)
MULTI_VALUE_TYPES = ("user", "choices", "contact", "custom_object")
REFERENCING_TYPE = "custom_object"  # its fields carry `referenced_custom_type_id` (a cotype_ id)
BUILTIN_ROLES = ("admin", "superuser", "user", "restricted_user")

AssocKey = tuple[str, str | None]
# the schema URL's word for each custom type: `activity/<id>`, `custom_object/<id>`
SCHEMA_WORDS = {"custom_activity_type": "activity", "custom_object_type": "custom_object"}


class SeedError(ValueError):
    """The seed file cannot be read or does not have the documented shape."""


def utc_now_iso() -> str:
    """Close's timestamp form: ISO 8601 with microseconds and `+00:00`."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(slots=True)
class Association:
    object_type: str
    type_id: str | None
    editable_with_roles: list[str]
    required: bool

    def to_json(self) -> dict[str, Any]:
        """The association object as Close returns it."""
        body: dict[str, Any] = {"object_type": self.object_type}
        if self.type_id is not None:
            body[TYPE_ID_KEYS[self.object_type]] = self.type_id
        body["editable_with_roles"] = list(self.editable_with_roles)
        body["required"] = self.required
        return body


@dataclass(slots=True)
class SharedField:
    id: str
    name: str
    description: str | None
    type: str
    accepts_multiple_values: bool
    choices: list[str] | None
    organization_id: str
    created_by: str
    updated_by: str
    date_created: str
    date_updated: str
    associations: dict[AssocKey, Association] = field(default_factory=dict)
    referenced_custom_type_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The SCF object as Close returns it; a `custom_object` field also names the custom
        object type its values point to (`referenced_custom_type_id`)."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "accepts_multiple_values": self.accepts_multiple_values,
            "choices": None if self.choices is None else list(self.choices),
            "associations": [a.to_json() for a in self.associations.values()],
            "organization_id": self.organization_id,
            "created_by": self.created_by,
            "updated_by": self.updated_by,
            "date_created": self.date_created,
            "date_updated": self.date_updated,
        }
        if self.type == REFERENCING_TYPE:
            body["referenced_custom_type_id"] = self.referenced_custom_type_id
        return body

    def touch(self, user_id: str) -> None:
        """Record a change: who and when."""
        self.updated_by = user_id
        self.date_updated = utc_now_iso()


@dataclass(slots=True)
class RegularField:
    """A custom field of one object only (not shared): it takes part in that object's schema."""

    id: str
    name: str
    type: str
    key: AssocKey

    def to_json(self) -> dict[str, Any]:
        """The regular field in the seed's shape: its object named like an association."""
        body: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        body["object_type"] = self.key[0]
        if self.key[1] is not None:
            body[TYPE_ID_KEYS[self.key[0]]] = self.key[1]
        return body


def schema_path(key: AssocKey) -> str:
    """`lead` or `activity/actitype_x`: an object's segment in `custom_field_schema/.../`."""
    return key[0] if key[1] is None else f"{SCHEMA_WORDS[key[0]]}/{key[1]}"


@dataclass(slots=True)
class Org:
    id: str
    name: str
    api_keys: list[str]
    oauth_tokens: list[str]
    users: list[dict[str, Any]]
    roles: dict[str, dict[str, Any]]
    activity_types: dict[str, dict[str, Any]]
    object_types: dict[str, dict[str, Any]]
    fields: dict[str, SharedField]
    regular_fields: dict[str, RegularField] = field(default_factory=dict)
    schemas: dict[AssocKey, list[str]] = field(default_factory=dict)

    @property
    def user_id(self) -> str:
        """The user every key and token of the org acts as."""
        return str(self.users[0]["id"])

    def type_ids(self, object_type: str) -> dict[str, dict[str, Any]]:
        """The org's custom activity or custom object types, by id."""
        return self.activity_types if object_type == "custom_activity_type" else self.object_types

    def to_json(self) -> dict[str, Any]:
        """The org in the seed file's shape, with its current fields."""
        return {
            "id": self.id,
            "name": self.name,
            "api_keys": list(self.api_keys),
            "oauth_tokens": list(self.oauth_tokens),
            "users": [dict(u) for u in self.users],
            "roles": [dict(r) for r in self.roles.values()],
            "custom_activity_types": [dict(t) for t in self.activity_types.values()],
            "custom_object_types": [dict(t) for t in self.object_types.values()],
            "shared_custom_fields": [f.to_json() for f in self.fields.values()],
            "regular_custom_fields": [f.to_json() for f in self.regular_fields.values()],
            "custom_field_schemas": [
                {"object_type": schema_path(key), "fields": list(ids)}
                for key, ids in self.schemas.items()
                if ids
            ],
        }

    def schema_ids(self, key: AssocKey) -> set[str]:
        """The ids that belong on an object: its regular fields and the shared ones associated."""
        ids = {f.id for f in self.regular_fields.values() if f.key == key}
        return ids | {f.id for f in self.fields.values() if key in f.associations}


def read_seed(path: Path) -> dict[str, Any]:
    """Read a seed file; a missing or broken file is a SeedError that names the path."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SeedError(f"{path}: cannot read the seed: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("orgs"), list):
        raise SeedError(f'{path}: expected a JSON object {{"orgs": [...]}}')
    return data


def load_orgs(seed: dict[str, Any]) -> list[Org]:
    """Build fresh orgs from seed data (called again on every reset, so no state is shared)."""
    try:
        return [_load_org(raw) for raw in seed["orgs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SeedError(f"the seed does not have the documented shape: {exc!r}") from exc


def _load_org(raw: dict[str, Any]) -> Org:
    org_id = str(raw["id"])
    users = [dict(u) for u in raw.get("users") or []] or [
        {"id": "user_" + org_id.removeprefix("orga_"), "first_name": "Sim", "last_name": "User"}
    ]
    default_user = str(users[0]["id"])
    fields = [_load_field(f, org_id, default_user) for f in raw.get("shared_custom_fields", [])]
    regular = [_load_regular(f) for f in raw.get("regular_custom_fields", [])]
    org = Org(
        id=org_id,
        name=str(raw["name"]),
        api_keys=[str(k) for k in raw.get("api_keys", [])],
        oauth_tokens=[str(t) for t in raw.get("oauth_tokens", [])],
        users=users,
        roles={str(r["id"]): dict(r) for r in raw.get("roles", [])},
        activity_types={str(t["id"]): dict(t) for t in raw.get("custom_activity_types", [])},
        object_types={str(t["id"]): dict(t) for t in raw.get("custom_object_types", [])},
        fields={f.id: f for f in fields},
        regular_fields={f.id: f for f in regular},
    )
    _load_schemas(org, raw.get("custom_field_schemas", []))
    return org


def _load_regular(raw: dict[str, Any]) -> RegularField:
    object_type = str(raw["object_type"])
    key_name = TYPE_ID_KEYS.get(object_type)
    key = (object_type, str(raw[key_name]) if key_name else None)
    return RegularField(id=str(raw["id"]), name=str(raw["name"]), type=str(raw["type"]), key=key)


def _load_schemas(org: Org, raw_schemas: list[dict[str, Any]]) -> None:
    """The seed's orders first; every field that belongs but is not named follows, regular
    fields before shared ones, in seed order (so a seed without schemas still has one)."""
    by_path = {str(s["object_type"]): [str(i) for i in s["fields"]] for s in raw_schemas}
    keys: dict[AssocKey, None] = {}
    for path in by_path:
        keys[parse_schema_path(path)] = None
    for regular in org.regular_fields.values():
        keys[regular.key] = None
    for scf in org.fields.values():
        keys.update(dict.fromkeys(scf.associations))
    for key in keys:
        belongs = org.schema_ids(key)
        named = [i for i in by_path.get(schema_path(key), []) if i in belongs]
        rest = [f.id for f in org.regular_fields.values() if f.key == key]
        rest += [f.id for f in org.fields.values() if key in f.associations]
        org.schemas[key] = named + [i for i in rest if i not in set(named)]


def parse_schema_path(path: str) -> AssocKey:
    """The inverse of schema_path; a malformed one is a ValueError (a seed error)."""
    word, _, type_id = path.partition("/")
    for object_type, schema_word in SCHEMA_WORDS.items():
        if word == schema_word and type_id:
            return object_type, type_id
    if word in OBJECT_TYPES[:3] and not type_id:
        return word, None
    raise ValueError(f"not a schema object type: {path!r}")


def _load_field(raw: dict[str, Any], org_id: str, user_id: str) -> SharedField:
    created = str(raw.get("date_created") or utc_now_iso())
    scf = SharedField(
        id=str(raw["id"]),
        name=str(raw["name"]),
        description=raw.get("description"),
        type=str(raw["type"]),
        accepts_multiple_values=bool(raw.get("accepts_multiple_values", False)),
        choices=None if raw.get("choices") is None else [str(c) for c in raw["choices"]],
        organization_id=org_id,
        created_by=str(raw.get("created_by") or user_id),
        updated_by=str(raw.get("updated_by") or user_id),
        date_created=created,
        date_updated=str(raw.get("date_updated") or created),
        referenced_custom_type_id=raw.get("referenced_custom_type_id"),
    )
    for a in raw.get("associations", []):
        object_type = str(a["object_type"])
        key_name = TYPE_ID_KEYS.get(object_type)
        type_id = str(a[key_name]) if key_name else None
        scf.associations[(object_type, type_id)] = Association(
            object_type=object_type,
            type_id=type_id,
            editable_with_roles=[str(r) for r in a.get("editable_with_roles", [])],
            required=bool(a.get("required", False)),
        )
    return scf
