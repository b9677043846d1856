"""export_job: an org as definitions + ensure rows by name; what has no unique name is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scf_batch.job.opsfile import read_items
from scf_batch.models import FieldDefinition, ObjectType, Operation, SchemaField, Target
from scf_batch.plan.export import add_orders, export_job
from scf_batch.plan.snapshot import Snapshot
from tests.jobfiles import write_jsonl

ROLE = "role_" + "s" * 22


def field(fid: str, name: str, *associations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": fid, "name": name, "type": "text", "description": None,
            "accepts_multiple_values": False, "choices": None,
            "associations": list(associations), **extra}  # fmt: skip


def org(*fields: dict[str, Any], roles: list[dict[str, Any]] | None = None) -> Snapshot:
    return Snapshot.from_lists(
        None,
        list(fields),
        roles if roles is not None else [{"id": ROLE, "name": "Support"}],
        [{"id": "actitype_c", "name": "Call"}],
        [{"id": "cotype_a", "name": "Asset"}],
    )


SOURCE = org(
    field("cf_1", "Risk", {"object_type": "lead", "required": True,
                           "editable_with_roles": ["admin", ROLE]},
          {"object_type": "custom_activity_type", "custom_activity_type_id": "actitype_c",
           "required": False, "editable_with_roles": []},
          type="choices", choices=["Low", "High"], description="How risky"),
    field("cf_2", "Parent", {"object_type": "custom_object_type", "custom_object_type_id":
                             "cotype_a", "required": False, "editable_with_roles": []},
          type="custom_object", referenced_custom_type_id="cotype_a"),
)  # fmt: skip


def test_fields_become_definitions_and_associations_ensure_rows_by_name() -> None:
    """Definitions first; types and roles by name, built-in roles as slugs."""
    exported = export_job(SOURCE)
    assert exported.problems == []
    assert exported.records == [
        {"define": "field", "scf_name": "Risk", "type": "choices", "choices": ["Low", "High"],
         "accepts_multiple_values": False, "description": "How risky"},
        {"define": "field", "scf_name": "Parent", "type": "custom_object",
         "accepts_multiple_values": False, "referenced_custom_object_type_name": "Asset"},
        {"action": "ensure", "scf_name": "Risk", "object_type": "lead", "required": True,
         "editable_with_roles": ["admin", "Support"]},
        {"action": "ensure", "scf_name": "Risk", "object_type": "custom_activity_type",
         "custom_activity_type_name": "Call", "required": False, "editable_with_roles": []},
        {"action": "ensure", "scf_name": "Parent", "object_type": "custom_object_type",
         "custom_object_type_name": "Asset", "required": False, "editable_with_roles": []},
    ]  # fmt: skip


def test_the_export_reads_back_as_a_valid_job(tmp_path: Path) -> None:
    """Every record is a valid definition or operation of the job-file reader."""
    items = list(read_items(write_jsonl(tmp_path / "e.jsonl", export_job(SOURCE).records)))
    assert [type(item) for item in items] == [FieldDefinition] * 2 + [Operation] * 3


def test_fields_and_object_types_can_be_picked() -> None:
    """--field keeps the named fields; --object-type keeps matching associations (a bare
    object type or a custom type's name) and the fields that have one."""
    only_risk = export_job(SOURCE, fields=["Risk"])
    assert [r["scf_name"] for r in only_risk.records] == ["Risk"] * 3
    assets = export_job(SOURCE, object_types=["Asset"])
    assert [r["scf_name"] for r in assets.records] == ["Parent", "Parent"]
    assert export_job(SOURCE, fields=["Nope"]).unmatched == [
        '--field "Nope": no field of the org has that name'
    ]


def test_filters_that_match_nothing_are_refused_with_suggestions() -> None:
    """`--field Rsik` and `--object-type leads` match nothing: each is named, with the closest."""
    exported = export_job(SOURCE, fields=["Rsik"], object_types=["leads"])
    assert exported.unmatched == [
        '--field "Rsik": no field of the org has that name; did you mean "Risk"?',
        '--object-type "leads": no object type or custom type has that name; did you mean "lead"?',
    ]


def test_what_has_no_unique_name_is_reported_and_left_out() -> None:
    """Two fields with one name, a role without a name: reported, never guessed."""
    twins = org(
        field("cf_1", "Twin"), field("cf_2", "Twin"),
        field("cf_3", "Roled", {"object_type": "lead", "required": False,
                                "editable_with_roles": [ROLE]}),
        roles=[{"id": ROLE}],
    )  # fmt: skip
    exported = export_job(twins)
    assert exported.problems == [
        'field "Twin" (cf_1): the name of several (cf_1, cf_2); left out',
        'field "Twin" (cf_2): the name of several (cf_1, cf_2); left out',
        f'"Roled": role {ROLE} has no unambiguous name; association left out',
    ]
    assert [r.get("scf_name") for r in exported.records] == ["Roled"]


def test_each_object_with_two_exported_fields_gets_its_order_line_after_the_rows() -> None:
    """add_orders: the exported shared fields in the order the object's schema shows them,
    custom types by name; an object with one exported field, and regular fields, need none."""
    two = org(
        field(
            "cf_1",
            "Risk",
            {"object_type": "lead"},
            {"object_type": "custom_activity_type", "custom_activity_type_id": "actitype_c"},
        ),
        field("cf_2", "Tier", {"object_type": "lead"}),
    )
    exported = export_job(two)
    call = Target(ObjectType.CUSTOM_ACTIVITY_TYPE, "actitype_c")
    schemas = {
        Target(ObjectType.LEAD): [
            SchemaField("lcf_x", "Lead Source", is_shared=False),
            SchemaField("cf_2", "Tier", is_shared=True),
            SchemaField("cf_1", "Risk", is_shared=True),
        ],
        call: [SchemaField("cf_1", "Risk", is_shared=True)],
    }
    add_orders(exported, schemas)
    assert list(exported.targets) == [Target(ObjectType.LEAD), call]
    assert (exported.orders, exported.records[-1]) == (
        1,
        {"define": "order", "object_type": "lead", "fields": ["Tier", "Risk"]},
    )
