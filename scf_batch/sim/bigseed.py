"""Generated orgs for benchmarks: F fields x T targets, K API keys, and the `ensure` job that
matches such an org exactly (a no-drift nightly run).

Deterministic: the same sizes and `random_seed` give the same bytes. Ids are derived from the
names as in the default seed; the field types, choices and association settings vary with a
seeded `random.Random`, so the org looks like a real one without any wall-clock input.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from scf_batch.sim.ids import stable_id

CREATED_AT = "2025-03-14T09:26:53.589793+00:00"
BUILTIN_TARGETS = ("lead", "contact", "opportunity")
GENERATED_TYPES = (
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
OPS_COLUMNS = (
    "key",
    "action",
    "scf_name",
    "object_type",
    "custom_activity_type_name",
    "custom_object_type_name",
    "required",
    "editable_with_roles",
)


@dataclass(frozen=True)
class BigOrgSpec:
    """The sizes of a generated org. Targets = 3 built-in object types + `activity_types`
    custom activity types + `object_types` custom object types; `associated` is the share of
    the fields x targets pairs that are associated (1.0 = all)."""

    fields: int = 400
    activity_types: int = 11
    object_types: int = 11
    associated: float = 1.0
    keys: int = 4
    roles: int = 3
    random_seed: int = 0
    name: str = "Bench Org"
    slug: str = "bench"

    def __post_init__(self) -> None:
        for count in ("fields", "activity_types", "object_types", "roles"):
            if getattr(self, count) < 0:
                raise ValueError(f"{count} must be >= 0, got {getattr(self, count)}")
        if self.keys < 1:
            raise ValueError(f"keys must be >= 1 (an org needs a key to be read), got {self.keys}")
        if not 0.0 <= self.associated <= 1.0:
            raise ValueError(f"associated must be between 0 and 1, got {self.associated}")

    @property
    def targets(self) -> int:
        """How many object types a field can be associated with."""
        return len(BUILTIN_TARGETS) + self.activity_types + self.object_types


def build_big_seed(spec: BigOrgSpec) -> dict[str, Any]:
    """A seed (`{"orgs": [org]}`) holding one generated org."""
    return {"orgs": [build_big_org(spec)]}


def build_big_org(spec: BigOrgSpec) -> dict[str, Any]:
    """One generated org in the seed file's shape."""
    rng = random.Random(spec.random_seed)
    slug = spec.slug
    org_id, user_id = stable_id("orga_", slug), stable_id("user_", slug, "owner")
    roles = _lookups("role_", slug, "Role", spec.roles)
    activity_types = _lookups("actitype_", slug, "Activity Type", spec.activity_types)
    object_types = _lookups("cotype_", slug, "Object Type", spec.object_types)
    targets: list[dict[str, Any]] = [{"object_type": t} for t in BUILTIN_TARGETS]
    for object_type, types in (
        ("custom_activity_type", activity_types),
        ("custom_object_type", object_types),
    ):
        targets += [{"object_type": object_type, f"{object_type}_id": t["id"]} for t in types]
    pairs = spec.fields * len(targets)
    chosen = set(rng.sample(range(pairs), round(spec.associated * pairs)))
    editors = _editor_sets([r["id"] for r in roles])
    fields = []
    for index, fname in enumerate(_names("Field", spec.fields)):
        scf = _field(rng, fname, index, [t["id"] for t in object_types])
        scf.update(id=stable_id("cf_", slug, fname), organization_id=org_id)
        scf.update(created_by=user_id, updated_by=user_id)
        first = index * len(targets)
        scf["associations"] = [
            {
                **target,
                "editable_with_roles": list(rng.choice(editors)),
                "required": rng.random() < 0.2,
            }
            for n, target in enumerate(targets)
            if first + n in chosen
        ]
        fields.append(scf)
    return {
        "id": org_id,
        "name": spec.name,
        "api_keys": [f"api_{slug}_key_{i}" for i in range(1, spec.keys + 1)],
        "oauth_tokens": [f"oauth_{slug}_token_1"],
        "users": [{"id": user_id, "first_name": "Bench", "last_name": "Admin"}],
        "roles": roles,
        "custom_activity_types": activity_types,
        "custom_object_types": object_types,
        "shared_custom_fields": fields,
    }


def _lookups(prefix: str, slug: str, kind: str, count: int) -> list[dict[str, str]]:
    """`count` roles or types named "<kind> 01", ... with ids derived from the names."""
    return [{"id": stable_id(prefix, slug, n), "name": n} for n in _names(kind, count)]


def _names(kind: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{kind} {i:0{width}d}" for i in range(1, count + 1)]


def _editor_sets(role_ids: list[str]) -> list[tuple[str, ...]]:
    """The `editable_with_roles` values associations draw from: none, admin, admin + a role,
    a role alone."""
    sets: list[tuple[str, ...]] = [(), (), ("admin",)]
    sets += [("admin", r) for r in role_ids] + [(r,) for r in role_ids]
    return sets


def _field(rng: random.Random, name: str, index: int, object_type_ids: list[str]) -> dict[str, Any]:
    """A field's definition: its type cycles through Close's types (`custom_object` only when
    the org has a custom object type to point to)."""
    types = [t for t in GENERATED_TYPES if t != "custom_object" or object_type_ids]
    ftype = types[index % len(types)]
    choices = None
    if ftype == "choices":
        choices = [f"Option {n}" for n in range(1, rng.randint(2, 6) + 1)]
    scf: dict[str, Any] = {
        "id": "",
        "name": name,
        "description": f"Generated field {index + 1} ({ftype})",
        "type": ftype,
        "accepts_multiple_values": ftype in MULTI_VALUE_TYPES and rng.random() < 0.5,
        "choices": choices,
        "associations": [],
        "organization_id": "",
        "created_by": "",
        "updated_by": "",
        "date_created": CREATED_AT,
        "date_updated": CREATED_AT,
    }
    if ftype == "custom_object":
        scf["referenced_custom_type_id"] = rng.choice(object_type_ids)
    return scf


def ensure_rows(org: dict[str, Any]) -> Iterator[dict[str, str]]:
    """One `ensure` row per association of a seed-shaped org, by name, with its settings as
    they are: run against that org, the job has nothing to change. Roles are written by name
    (built-in roles as their slugs); no roles is written `[]` (none), not left empty."""
    type_names = {str(t["id"]): str(t["name"]) for t in org.get("custom_activity_types", [])}
    type_names |= {str(t["id"]): str(t["name"]) for t in org.get("custom_object_types", [])}
    role_names = {str(r["id"]): str(r["name"]) for r in org.get("roles", [])}
    number = 0
    for scf in org.get("shared_custom_fields", []):
        for assoc in scf["associations"]:
            number += 1
            object_type = str(assoc["object_type"])
            editors = [role_names.get(r, r) for r in assoc.get("editable_with_roles", [])]
            yield {
                "key": f"ensure-{number:05d}",
                "action": "ensure",
                "scf_name": str(scf["name"]),
                "object_type": object_type,
                "custom_activity_type_name": type_names.get(
                    str(assoc.get("custom_activity_type_id")), ""
                ),
                "custom_object_type_name": type_names.get(
                    str(assoc.get("custom_object_type_id")), ""
                ),
                "required": "true" if assoc.get("required") else "false",
                "editable_with_roles": ";".join(editors) if editors else "[]",
            }


def write_ensure_csv(org: dict[str, Any], handle: TextIO) -> int:
    """Write the org's `ensure` job as CSV (header + one row per association); the row count."""
    writer = csv.DictWriter(handle, fieldnames=OPS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in ensure_rows(org):
        writer.writerow(row)
        count += 1
    return count
