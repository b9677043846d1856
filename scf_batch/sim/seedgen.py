"""Builds the default seed: a realistic "source" org and a "target" org with the same names.

The committed `data/sim/seed.json` is this module's output
(`python -m scf_batch.sim.seedgen > data/sim/seed.json`); a test keeps the two equal. Ids are
derived from names, so regenerating never changes them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from scf_batch.sim.ids import stable_id

ROLES = ("Sales Manager", "Support", "Finance")
ACTIVITY_TYPES = ("Discovery Call", "Onboarding Meeting", "Quarterly Business Review", "Demo")
OBJECT_TYPES = ("Subscription", "Asset", "Contract")
CREATED_AT = "2025-03-14T09:26:53.589793+00:00"

# name, type, description, choices, accepts_multiple_values, associations
# association: (object_type, type name or None, required, editable_with_roles by name or slug)
Assoc = tuple[str, str | None, bool, tuple[str, ...]]
FIELDS: tuple[tuple[str, str, str, list[str] | None, bool, tuple[Assoc, ...]], ...] = (
    ("Account Owner", "user", "User accountable for the account", None, False,
     (("lead", None, False, ()), ("opportunity", None, False, ("admin", "Sales Manager")),
      ("custom_object_type", "Subscription", True, ("admin",)))),
    ("Industry", "choices", "Primary industry of the company",
     ["SaaS", "Manufacturing", "Retail", "Healthcare", "Finance"], False,
     (("lead", None, False, ()), ("contact", None, False, ()))),
    ("Annual Revenue", "number", "Last reported annual revenue in USD", None, False,
     (("lead", None, False, ("admin", "Finance")),
      ("opportunity", None, False, ("Finance",)))),
    ("Contract Start", "date", "First day of the current contract", None, False,
     (("opportunity", None, False, ()), ("custom_object_type", "Contract", True, ("admin",)),
      ("custom_object_type", "Subscription", False, ()))),
    ("Contract End", "date", "Last day of the current contract", None, False,
     (("custom_object_type", "Contract", True, ("admin", "Finance")),)),
    ("Renewal Date", "date", "When the next renewal is due", None, False,
     (("opportunity", None, False, ()), ("custom_object_type", "Subscription", False, ()))),
    ("Call Outcome", "choices", "Result of the call",
     ["Connected", "Left voicemail", "No answer", "Wrong number"], False,
     (("custom_activity_type", "Discovery Call", True, ()),
      ("custom_activity_type", "Demo", False, ()))),
    ("Pain Points", "choices", "Problems the prospect wants solved",
     ["Pricing", "Integrations", "Reporting", "Onboarding", "Support"], True,
     (("custom_activity_type", "Discovery Call", False, ()), ("lead", None, False, ()))),
    ("Attendees", "contact", "Contacts who attended", None, True,
     (("custom_activity_type", "Onboarding Meeting", False, ()),
      ("custom_activity_type", "Quarterly Business Review", False, ()),
      ("custom_activity_type", "Demo", False, ()))),
    ("Meeting Notes", "text", "Free-form notes", None, False,
     (("custom_activity_type", "Onboarding Meeting", False, ()),
      ("custom_activity_type", "Quarterly Business Review", False, ("admin", "Support")))),
    ("Health Score", "number", "Customer health from 0 to 100", None, False,
     (("lead", None, False, ("admin", "Support")),
      ("custom_activity_type", "Quarterly Business Review", True, ("Support",)))),
    ("Customer Since", "datetime", "When the first contract was signed", None, False,
     (("lead", None, False, ("admin",)),)),
    ("Preferred Language", "choices", "Language for customer communication",
     ["English", "German", "French", "Spanish"], False,
     (("contact", None, False, ()),)),
    ("LinkedIn Profile", "text", "URL of the contact's LinkedIn profile", None, False,
     (("contact", None, False, ()),)),
    ("Decision Maker", "choices", "Does this contact sign?", ["Yes", "No", "Influencer"], False,
     (("contact", None, False, ("admin", "Sales Manager")),
      ("opportunity", None, False, ()))),
    ("Plan", "choices", "Subscribed plan", ["Starter", "Growth", "Enterprise"], False,
     (("custom_object_type", "Subscription", True, ("admin", "Sales Manager", "Finance")),
      ("opportunity", None, False, ()))),
    ("Seats", "number", "Licensed seats", None, False,
     (("custom_object_type", "Subscription", True, ("Finance",)),
      ("custom_object_type", "Asset", False, ()))),
    ("Serial Number", "text", "Manufacturer serial number", None, False,
     (("custom_object_type", "Asset", True, ("admin", "Support")),)),
    ("Assigned Engineers", "user", "Support engineers for this asset", None, True,
     (("custom_object_type", "Asset", False, ("Support",)),
      ("custom_activity_type", "Onboarding Meeting", False, ()))),
    ("Related Assets", "custom_object", "Assets covered by this contract", None, True,
     (("custom_object_type", "Contract", False, ()), ("opportunity", None, False, ()))),
    ("Billing System ID", "hidden", "Id in the billing system; set by integrations", None, False,
     (("lead", None, False, ("admin",)), ("custom_object_type", "Subscription", False, ()),
      ("contact", None, False, ()))),
    ("Lost Reason", "choices", "Why the deal was lost",
     ["Price", "Timing", "Competitor", "No decision"], False,
     (("opportunity", None, True, ("admin", "Sales Manager")),)),
)  # fmt: skip


def build_org(slug: str, name: str, *, with_associations: bool) -> dict[str, Any]:
    """One org of the seed; names are shared between orgs, ids are not."""
    org_id = stable_id("orga_", slug)
    user_id = stable_id("user_", slug, "owner")
    roles = {n: stable_id("role_", slug, n) for n in ROLES}
    activity_types = {n: stable_id("actitype_", slug, n) for n in ACTIVITY_TYPES}
    object_types = {n: stable_id("cotype_", slug, n) for n in OBJECT_TYPES}
    fields = []
    for fname, ftype, description, choices, multiple, assocs in FIELDS:
        associations = []
        for object_type, type_name, required, editors in assocs if with_associations else ():
            association: dict[str, Any] = {"object_type": object_type}
            if object_type == "custom_activity_type":
                association["custom_activity_type_id"] = activity_types[str(type_name)]
            elif object_type == "custom_object_type":
                association["custom_object_type_id"] = object_types[str(type_name)]
            association["editable_with_roles"] = [roles.get(e, e) for e in editors]
            association["required"] = required
            associations.append(association)
        fields.append(
            {
                "id": stable_id("cf_", slug, fname),
                "name": fname,
                "description": description,
                "type": ftype,
                "accepts_multiple_values": multiple,
                "choices": choices,
                "associations": associations,
                "organization_id": org_id,
                "created_by": user_id,
                "updated_by": user_id,
                "date_created": CREATED_AT,
                "date_updated": CREATED_AT,
            }
        )
    return {
        "id": org_id,
        "name": name,
        "api_keys": [f"api_{slug}_key_1", f"api_{slug}_key_2"],
        "oauth_tokens": [f"oauth_{slug}_token_1"],
        "users": [
            {
                "id": user_id,
                "first_name": slug.title(),
                "last_name": "Admin",
                "email": f"admin@{slug}.example.com",
            }
        ],
        "roles": [{"id": i, "name": n} for n, i in roles.items()],
        "custom_activity_types": [{"id": i, "name": n} for n, i in activity_types.items()],
        "custom_object_types": [{"id": i, "name": n} for n, i in object_types.items()],
        "shared_custom_fields": fields,
    }


def build_seed() -> dict[str, Any]:
    """The whole default seed: the migration pair "source" and "target"."""
    return {
        "orgs": [
            build_org("source", "Acme Source", with_associations=True),
            build_org("target", "Acme Target", with_associations=False),
        ]
    }


def render_seed() -> str:
    """The seed as the committed file spells it."""
    return json.dumps(build_seed(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_seed())
