"""Builds the default seed: a realistic "source" org and a "target" org that lacks a few of its
fields, and (with size options) a generated org for benchmarks; see `main` for the CLI.

The committed `data/sim/seed.json` is this module's output
(`python -m scf_batch.sim.seedgen > data/sim/seed.json`); a test keeps the two equal. Ids are
derived from names, so regenerating never changes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.sim.bigseed import BigOrgSpec, build_big_seed, write_ensure_csv
from scf_batch.sim.ids import stable_id

ROLES = ("Sales Manager", "Support", "Finance")
ACTIVITY_TYPES = ("Discovery Call", "Onboarding Meeting", "Quarterly Business Review", "Demo")
OBJECT_TYPES = ("Subscription", "Asset", "Contract")
CREATED_AT = "2025-03-14T09:26:53.589793+00:00"

# name, type, description, choices, accepts_multiple_values, associations
# association: (object_type, type name or None, required, editable_with_roles by name or slug)
Assoc = tuple[str, str | None, bool, tuple[str, ...]]
FIELDS: tuple[tuple[str, str, str, list[str] | None, bool, tuple[Assoc, ...]], ...] = (
    (
        "Account Owner",
        "user",
        "User accountable for the account",
        None,
        False,
        (
            ("lead", None, False, ()),
            ("opportunity", None, False, ("admin", "Sales Manager")),
            ("custom_object_type", "Subscription", True, ("admin",)),
        ),
    ),
    (
        "Industry",
        "choices",
        "Primary industry of the company",
        ["SaaS", "Manufacturing", "Retail", "Healthcare", "Finance"],
        False,
        (("lead", None, False, ()), ("contact", None, False, ())),
    ),
    (
        "Annual Revenue",
        "number",
        "Last reported annual revenue in USD",
        None,
        False,
        (("lead", None, False, ("admin", "Finance")), ("opportunity", None, False, ("Finance",))),
    ),
    (
        "Contract Start",
        "date",
        "First day of the current contract",
        None,
        False,
        (
            ("opportunity", None, False, ()),
            ("custom_object_type", "Contract", True, ("admin",)),
            ("custom_object_type", "Subscription", False, ()),
        ),
    ),
    (
        "Contract End",
        "date",
        "Last day of the current contract",
        None,
        False,
        (("custom_object_type", "Contract", True, ("admin", "Finance")),),
    ),
    (
        "Renewal Date",
        "date",
        "When the next renewal is due",
        None,
        False,
        (("opportunity", None, False, ()), ("custom_object_type", "Subscription", False, ())),
    ),
    (
        "Call Outcome",
        "choices",
        "Result of the call",
        ["Connected", "Left voicemail", "No answer", "Wrong number"],
        False,
        (
            ("custom_activity_type", "Discovery Call", True, ()),
            ("custom_activity_type", "Demo", False, ()),
        ),
    ),
    (
        "Pain Points",
        "choices",
        "Problems the prospect wants solved",
        ["Pricing", "Integrations", "Reporting", "Onboarding", "Support"],
        True,
        (("custom_activity_type", "Discovery Call", False, ()), ("lead", None, False, ())),
    ),
    (
        "Attendees",
        "contact",
        "Contacts who attended",
        None,
        True,
        (
            ("custom_activity_type", "Onboarding Meeting", False, ()),
            ("custom_activity_type", "Quarterly Business Review", False, ()),
            ("custom_activity_type", "Demo", False, ()),
        ),
    ),
    (
        "Meeting Notes",
        "text",
        "Free-form notes",
        None,
        False,
        (
            ("custom_activity_type", "Onboarding Meeting", False, ()),
            ("custom_activity_type", "Quarterly Business Review", False, ("admin", "Support")),
        ),
    ),
    (
        "Health Score",
        "number",
        "Customer health from 0 to 100",
        None,
        False,
        (
            ("lead", None, False, ("admin", "Support")),
            ("custom_activity_type", "Quarterly Business Review", True, ("Support",)),
        ),
    ),
    (
        "Customer Since",
        "datetime",
        "When the first contract was signed",
        None,
        False,
        (("lead", None, False, ("admin",)),),
    ),
    (
        "Preferred Language",
        "choices",
        "Language for customer communication",
        ["English", "German", "French", "Spanish"],
        False,
        (("contact", None, False, ()),),
    ),
    (
        "LinkedIn Profile",
        "text",
        "URL of the contact's LinkedIn profile",
        None,
        False,
        (("contact", None, False, ()),),
    ),
    (
        "Decision Maker",
        "choices",
        "Does this contact sign?",
        ["Yes", "No", "Influencer"],
        False,
        (("contact", None, False, ("admin", "Sales Manager")), ("opportunity", None, False, ())),
    ),
    (
        "Plan",
        "choices",
        "Subscribed plan",
        ["Starter", "Growth", "Enterprise"],
        False,
        (
            ("custom_object_type", "Subscription", True, ("admin", "Sales Manager", "Finance")),
            ("opportunity", None, False, ()),
        ),
    ),
    (
        "Seats",
        "number",
        "Licensed seats",
        None,
        False,
        (
            ("custom_object_type", "Subscription", True, ("Finance",)),
            ("custom_object_type", "Asset", False, ()),
        ),
    ),
    (
        "Serial Number",
        "text",
        "Manufacturer serial number",
        None,
        False,
        (("custom_object_type", "Asset", True, ("admin", "Support")),),
    ),
    (
        "Assigned Engineers",
        "user",
        "Support engineers for this asset",
        None,
        True,
        (
            ("custom_object_type", "Asset", False, ("Support",)),
            ("custom_activity_type", "Onboarding Meeting", False, ()),
        ),
    ),
    (
        "Related Assets",
        "custom_object",
        "Assets covered by this contract",
        None,
        True,
        (("custom_object_type", "Contract", False, ()), ("opportunity", None, False, ())),
    ),
    (
        "Billing System ID",
        "hidden",
        "Id in the billing system; set by integrations",
        None,
        False,
        (
            ("lead", None, False, ("admin",)),
            ("custom_object_type", "Subscription", False, ()),
            ("contact", None, False, ()),
        ),
    ),
    (
        "Lost Reason",
        "choices",
        "Why the deal was lost",
        ["Price", "Timing", "Competitor", "No decision"],
        False,
        (("opportunity", None, True, ("admin", "Sales Manager")),),
    ),
    # the source's alone (SOURCE_ONLY): a migration must create them in the target
    (
        "Churn Risk",
        "choices",
        "Likelihood that the customer leaves",
        ["Low", "Medium", "High"],
        False,
        (
            ("lead", None, False, ("admin", "Support")),
            ("custom_object_type", "Subscription", True, ()),
        ),
    ),
    (
        "Parent Contract",
        "custom_object",
        "Contract this asset belongs to",
        None,
        False,
        (("custom_object_type", "Asset", False, ()), ("opportunity", None, False, ())),
    ),
    (
        "Onboarding Owner",
        "user",
        "Who runs the customer's onboarding",
        None,
        False,
        (
            ("custom_activity_type", "Onboarding Meeting", True, ("Support",)),
            ("lead", None, False, ()),
        ),
    ),
)

# custom_object fields: the custom object type their values point to (by name)
REFERENCED_TYPES = {"Related Assets": "Asset", "Parent Contract": "Contract"}

# How "Acme Target" differs from "Acme Source", so that a migration has definitions to create
# and update. No shipped example or demo file names a field of SOURCE_ONLY.
SOURCE_ONLY = ("Churn Risk", "Parent Contract", "Onboarding Owner")
TARGET_CHOICES = {"Industry": ["SaaS", "Manufacturing", "Retail"]}
TARGET_DESCRIPTIONS = {"Health Score": "Customer health score"}

# Regular (not shared) custom fields, the same in both orgs: (name, type, object_type, type name).
# They sit in the objects' schemas, so a test can show that reordering keeps their places.
REGULAR_FIELDS = (
    ("Lead Source", "choices", "lead", None),
    ("Region", "text", "lead", None),
    ("Job Title Level", "choices", "contact", None),
    ("Forecast Note", "text", "opportunity", None),
    ("Call Duration", "number", "custom_activity_type", "Discovery Call"),
    ("SKU", "text", "custom_object_type", "Subscription"),
)


@dataclass(frozen=True)
class OrgIds:
    """The ids of one org's objects, by name."""

    org: str
    user: str
    roles: dict[str, str]
    activity_types: dict[str, str]
    object_types: dict[str, str]

    @classmethod
    def derive(cls, slug: str) -> OrgIds:
        """Ids derived from the org's slug and the names, so they never change."""
        return cls(
            org=stable_id("orga_", slug),
            user=stable_id("user_", slug, "owner"),
            roles={n: stable_id("role_", slug, n) for n in ROLES},
            activity_types={n: stable_id("actitype_", slug, n) for n in ACTIVITY_TYPES},
            object_types={n: stable_id("cotype_", slug, n) for n in OBJECT_TYPES},
        )

    def association(self, assoc: Assoc) -> dict[str, Any]:
        """A seed association in Close's shape, names replaced by this org's ids."""
        object_type, type_name, required, editors = assoc
        association: dict[str, Any] = {"object_type": object_type}
        if object_type == "custom_activity_type":
            association["custom_activity_type_id"] = self.activity_types[str(type_name)]
        elif object_type == "custom_object_type":
            association["custom_object_type_id"] = self.object_types[str(type_name)]
        association["editable_with_roles"] = [self.roles.get(e, e) for e in editors]
        association["required"] = required
        return association


def schema_order(names: list[str], regular: list[str], *, source: bool) -> list[str]:
    """An object's display order by name. The source's is deliberate: shared fields by name
    from Z to A, its first regular field on top and the others in the middle; the target's is
    what it has by default, regular fields first (its shared ones follow as they get associated)."""
    if not source:
        return list(regular)
    shared = sorted(names, reverse=True)
    middle = len(shared) // 2
    return regular[:1] + shared[:middle] + regular[1:] + shared[middle:]


def build_schemas(
    ids: OrgIds, fields: list[dict[str, Any]], regular: list[dict[str, Any]], *, source: bool
) -> list[dict[str, Any]]:
    """Every object's schema, by the schema URL's object type, listing ids."""
    paths = ["lead", "contact", "opportunity"]
    paths += [f"activity/{i}" for i in ids.activity_types.values()]
    paths += [f"custom_object/{i}" for i in ids.object_types.values()]
    schemas = []
    for path in paths:
        on = [f for f in fields if path in {_schema_path(a) for a in f["associations"]}]
        mine = [f for f in regular if _schema_path(f) == path]
        order = schema_order([f["name"] for f in on], [f["name"] for f in mine], source=source)
        by_name = {f["name"]: f["id"] for f in on + mine}
        if order:
            schemas.append({"object_type": path, "fields": [by_name[n] for n in order]})
    return schemas


def _schema_path(thing: dict[str, Any]) -> str:
    """The schema URL's object type for an association or a regular field."""
    if thing["object_type"] == "custom_activity_type":
        return f"activity/{thing['custom_activity_type_id']}"
    if thing["object_type"] == "custom_object_type":
        return f"custom_object/{thing['custom_object_type_id']}"
    return str(thing["object_type"])


def build_regular(slug: str, ids: OrgIds) -> list[dict[str, Any]]:
    """The org's regular fields in the seed's shape."""
    regular = []
    for fname, ftype, object_type, type_name in REGULAR_FIELDS:
        item: dict[str, Any] = {"id": stable_id("cf_", slug, "regular", fname), "name": fname}
        item["type"] = ftype
        item.update(ids.association((object_type, type_name, False, ())))
        del item["editable_with_roles"], item["required"]
        regular.append(item)
    return regular


def build_org(slug: str, name: str, *, source: bool) -> dict[str, Any]:
    """One org of the seed; names are shared between orgs, ids are not. The source has every
    field with its associations; the target lacks SOURCE_ONLY, differs as TARGET_CHOICES and
    TARGET_DESCRIPTIONS say, and has no associations."""
    ids = OrgIds.derive(slug)
    fields = []
    for fname, ftype, source_description, source_choices, multiple, assocs in FIELDS:
        if not source and fname in SOURCE_ONLY:
            continue
        choices, description = source_choices, source_description
        if not source:
            choices = TARGET_CHOICES.get(fname, choices)
            description = TARGET_DESCRIPTIONS.get(fname, description)
        scf: dict[str, Any] = {
            "id": stable_id("cf_", slug, fname),
            "name": fname,
            "description": description,
            "type": ftype,
            "accepts_multiple_values": multiple,
            "choices": choices,
            "associations": [ids.association(a) for a in assocs] if source else [],
            "organization_id": ids.org,
            "created_by": ids.user,
            "updated_by": ids.user,
            "date_created": CREATED_AT,
            "date_updated": CREATED_AT,
        }
        if ftype == "custom_object":
            scf["referenced_custom_type_id"] = ids.object_types[REFERENCED_TYPES[fname]]
        fields.append(scf)
    regular = build_regular(slug, ids)
    return {
        "id": ids.org,
        "name": name,
        "api_keys": [f"api_{slug}_key_1", f"api_{slug}_key_2"],
        "oauth_tokens": [f"oauth_{slug}_token_1"],
        "users": [
            {
                "id": ids.user,
                "first_name": slug.title(),
                "last_name": "Admin",
                "email": f"admin@{slug}.example.com",
            }
        ],
        "roles": [{"id": i, "name": n} for n, i in ids.roles.items()],
        "custom_activity_types": [{"id": i, "name": n} for n, i in ids.activity_types.items()],
        "custom_object_types": [{"id": i, "name": n} for n, i in ids.object_types.items()],
        "shared_custom_fields": fields,
        "regular_custom_fields": regular,
        "custom_field_schemas": build_schemas(ids, fields, regular, source=source),
    }


def build_seed() -> dict[str, Any]:
    """The whole default seed: the migration pair "source" and "target"."""
    return {
        "orgs": [
            build_org("source", "Acme Source", source=True),
            build_org("target", "Acme Target", source=False),
        ]
    }


def render_seed() -> str:
    """The seed as the committed file spells it."""
    return json.dumps(build_seed(), indent=2, ensure_ascii=False) + "\n"


SIZE_OPTIONS = {
    "fields": (int, "generate an org of N shared fields (default 400 once any size is given)"),
    "activity_types": (int, "custom activity types (default 11)"),
    "object_types": (int, "custom object types (default 11)"),
    "associated": (float, "share of fields x targets pairs associated, 0..1 (default 1.0)"),
    "keys": (int, "API keys of the org (default 4)"),
    "roles": (int, "custom roles (default 3)"),
    "random_seed": (int, "varies types, choices and settings (default 0)"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The CLI: no size option = the default seed; any size option = a generated org."""
    parser = argparse.ArgumentParser(
        prog="python -m scf_batch.sim.seedgen",
        description="Write the simulator's default seed, or a generated org for benchmarks.",
    )
    for name, (kind, text) in SIZE_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, help=text)
    parser.add_argument("-o", "--output", type=Path, help="seed file to write (default stdout)")
    parser.add_argument(
        "--ops",
        type=Path,
        help="also write the first org's `ensure` job as CSV: one row per association, "
        "by name, as it is (a job with nothing to change)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write the seed (and the `ensure` CSV); a size out of range exits 2 with the reason."""
    args = parse_args(argv)
    sizes = {k: getattr(args, k) for k in SIZE_OPTIONS if getattr(args, k) is not None}
    try:
        seed = build_big_seed(BigOrgSpec(**sizes)) if sizes else build_seed()
    except ValueError as exc:
        sys.stderr.write(f"seedgen: {exc}\n")
        return 2
    text = json.dumps(seed, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    if args.ops is not None:
        with args.ops.open("w", encoding="utf-8", newline="") as handle:
            rows = write_ensure_csv(seed["orgs"][0], handle)
        sys.stderr.write(f"seedgen: {rows} ensure rows written to {args.ops}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
