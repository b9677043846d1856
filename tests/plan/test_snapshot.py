"""The org's snapshot: names to ids, unknown and ambiguous references, associations, reading it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scf_batch.models import (
    Action,
    Association,
    ObjectType,
    Operation,
    Ref,
    ResolvedOperation,
    Target,
)
from scf_batch.plan.snapshot import Org, Snapshot
from scf_batch.run.orgreader import read_snapshot
from tests.jobfiles import ACTITYPE, COTYPE, FIELD_1, FIELD_2, ROLE

FIELD_3 = "cf_" + "Q" * 43
ROLE_2 = "role_" + "R" * 22

ORG_ID = "orga_" + "O" * 43
ME = {"id": "user_1", "organizations": [{"id": ORG_ID, "name": "Acme"}]}
FIELDS: list[dict[str, Any]] = [
    {
        "id": FIELD_1,
        "name": "Owner",
        "type": "user",
        "associations": [
            {"object_type": "lead", "required": True, "editable_with_roles": ["admin"]},
            {
                "object_type": "custom_activity_type",
                "custom_activity_type_id": ACTITYPE,
                "required": False,
                "editable_with_roles": [],
            },
            {"object_type": "custom_object_type", "required": False},  # no type id: left out
            {"object_type": "ticket", "required": False},  # an object type we do not know
        ],
    },
    {"id": FIELD_2, "name": "Region", "type": "text", "associations": []},
    {"id": FIELD_3, "name": "Region", "type": "text", "associations": []},
    {"name": "no id, ignored"},
]
ROLES = [{"id": ROLE, "name": "Sales"}, {"id": ROLE_2, "name": "Support"}]
ACTIVITY_TYPES = [{"id": ACTITYPE, "name": "Call review"}]
OBJECT_TYPES = [{"id": COTYPE, "name": "Invoice"}]
CATALOG = Snapshot.from_lists(ME, FIELDS, ROLES, ACTIVITY_TYPES, OBJECT_TYPES)


def op(field: Ref, object_type: ObjectType = ObjectType.LEAD, **kwargs: Any) -> Operation:
    """An ensure operation on line 7."""
    return Operation(6, 7, Action.ENSURE, field, object_type, **kwargs)


def messages(result: ResolvedOperation | tuple[Any, ...]) -> list[str]:
    """The printed problems of a failed resolution."""
    assert isinstance(result, tuple)
    return [str(problem) for problem in result]


def test_names_resolve_to_ids_and_slugs_pass_through() -> None:
    """Field, type and role names become ids; built-in slugs and known ids stay as they are."""
    operation = op(
        Ref(name="Owner"),
        ObjectType.CUSTOM_ACTIVITY_TYPE,
        type_ref=Ref(name="Call review"),
        editable_with_roles=("admin", "Support", ROLE),
    )
    assert CATALOG.resolve(operation, "ops.csv") == ResolvedOperation(
        operation,
        FIELD_1,
        Target(ObjectType.CUSTOM_ACTIVITY_TYPE, ACTITYPE),
        ("admin", ROLE_2, ROLE),
    )


def test_ids_that_exist_resolve() -> None:
    """A custom object type by id and a field by id resolve to themselves."""
    operation = op(Ref(id=FIELD_2), ObjectType.CUSTOM_OBJECT_TYPE, type_ref=Ref(id=COTYPE))
    resolved = CATALOG.resolve(operation, "ops.csv")
    assert isinstance(resolved, ResolvedOperation)
    assert (resolved.scf_id, resolved.target.path) == (FIELD_2, f"custom_object_type/{COTYPE}")


def test_unknown_field_id_and_name() -> None:
    """A field id or name the org lacks is reported at the row's line, with examples."""
    unknown_id = "cf_" + "z" * 43
    assert messages(CATALOG.resolve(op(Ref(id=unknown_id)), "ops.csv")) == [
        f'ops.csv:7: scf_id: found "{unknown_id}", no shared custom field of the org; '
        'expected a shared custom field of the org, e.g. "Owner", "Region"'
    ]
    assert messages(CATALOG.resolve(op(Ref(name="Xyzzy")), "ops.csv")) == [
        'ops.csv:7: scf_name: found "Xyzzy", the name of no shared custom field of the org; '
        'expected a shared custom field of the org, e.g. "Owner", "Region"'
    ]


@pytest.mark.parametrize(("typo", "meant"), [("Owenr", "Owner"), ("region", "Region")])
def test_a_misspelt_field_name_suggests_the_closest(typo: str, meant: str) -> None:
    """A name close to one of the org's (a typo, another case) is answered with "did you mean"."""
    assert messages(CATALOG.resolve(op(Ref(name=typo)), "ops.csv")) == [
        f'ops.csv:7: scf_name: found "{typo}", the name of no shared custom field of the org; '
        f'expected a shared custom field of the org: did you mean "{meant}"?'
    ]


def test_ambiguous_field_name_lists_the_ids() -> None:
    """Two fields with one name cannot be told apart by name; both ids are named."""
    assert messages(CATALOG.resolve(op(Ref(name="Region")), "ops.csv")) == [
        f'ops.csv:7: scf_name: found "Region", the name of 2 shared custom fields ({FIELD_2}, '
        f"{FIELD_3}); expected a name only one shared custom field has, or its id"
    ]


def test_every_problem_of_a_row_is_reported() -> None:
    """Unknown type and unknown roles are reported together with the field's problem."""
    operation = op(
        Ref(name="Nope"),
        ObjectType.CUSTOM_OBJECT_TYPE,
        type_ref=Ref(name="Quote"),
        editable_with_roles=("Managers", "role_" + "x" * 22, "user"),
    )
    columns = [line.split(": ")[1] for line in messages(CATALOG.resolve(operation, "ops.csv"))]
    assert columns == [
        "scf_name",
        "custom_object_type_name",
        "editable_with_roles",
        "editable_with_roles",
    ]


def test_activity_type_id_of_another_kind_is_unknown() -> None:
    """An activity type id is looked up among activity types only."""
    operation = op(
        Ref(id=FIELD_1), ObjectType.CUSTOM_ACTIVITY_TYPE, type_ref=Ref(id="actitype_" + "0" * 22)
    )
    assert messages(CATALOG.resolve(operation, "ops.csv"))[0].startswith(
        'ops.csv:7: custom_activity_type_id: found "actitype_0000000000000000000000", no custom'
    )


def test_empty_org_says_it_has_none() -> None:
    """With nothing in the org the message says so instead of listing examples."""
    empty = Snapshot.from_lists(None, [], [], [], [])
    assert messages(empty.resolve(op(Ref(name="Owner")), "f.jsonl"))[0].endswith(
        "expected a shared custom field that exists (the org has none)"
    )


class FakeReader:
    """Serves canned objects and lists by path and records which paths were asked for."""

    def __init__(self, lists: dict[str, Any]) -> None:
        self.lists = lists
        self.asked: list[str] = []

    async def get_object(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        found: dict[str, Any] = self.lists[path]
        return found

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        self.asked.append(path)
        found: list[dict[str, Any]] = self.lists[path]
        return found


@pytest.mark.anyio
async def test_read_snapshot_asks_for_each_collection_once() -> None:
    """read_snapshot asks for me/ and the four lists once each and builds the same snapshot."""
    fields = [field for field in FIELDS if "id" in field]  # the edge refuses an item without one
    reader = FakeReader(
        {
            "me/": ME,
            "custom_field/shared/": fields,
            "role/": ROLES,
            "custom_activity/": ACTIVITY_TYPES,
            "custom_object_type/": OBJECT_TYPES,
        }
    )
    assert await read_snapshot(reader) == Snapshot.from_lists(
        ME, fields, ROLES, ACTIVITY_TYPES, OBJECT_TYPES
    )
    assert sorted(reader.asked) == sorted(
        ["me/", "custom_field/shared/", "role/", "custom_activity/", "custom_object_type/"]
    )


def test_associations_are_indexed_by_field_and_target_path() -> None:
    """Each association of a field is found by (field id, target path) with its settings;
    associations naming no usable target are left out."""
    assert CATALOG.associations == {
        (FIELD_1, "lead"): Association(True, frozenset({"admin"})),
        (FIELD_1, f"custom_activity_type/{ACTITYPE}"): Association(False, frozenset()),
    }


def test_the_org_is_the_one_me_names() -> None:
    """The key's org comes from me/; with several orgs, the one the fields belong to."""
    assert CATALOG.org == Org(ORG_ID, "Acme")
    other = {"id": "orga_other", "name": "Other"}
    me = {"organizations": [other, {"id": ORG_ID, "name": "Acme"}]}
    fields = [{"id": FIELD_1, "name": "x", "organization_id": ORG_ID}]
    assert Snapshot.from_lists(me, fields, [], [], []).org == Org(ORG_ID, "Acme")
    assert Snapshot.from_lists(me, [], [], [], []).org is None


def test_a_snapshot_survives_its_document() -> None:
    """snapshot.json rebuilds the same snapshot (what a resumed pass plans from)."""
    document = json.loads(json.dumps(CATALOG.document))
    assert Snapshot.from_document(document) == CATALOG


def test_names_of_fields_and_custom_types() -> None:
    """Results carry the names: the field's, and the custom type's for custom targets."""
    assert CATALOG.field_name(FIELD_1) == "Owner"
    assert CATALOG.target_name(Target(ObjectType.CUSTOM_ACTIVITY_TYPE, ACTITYPE)) == "Call review"
    assert CATALOG.target_name(Target(ObjectType.LEAD)) is None
