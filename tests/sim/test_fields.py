"""Shared custom fields: list (paged), create (200), read, partial update, delete (200 `{}`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scf_batch.sim.seedgen import build_seed
from tests.sim.conftest import SOURCE, TARGET, TARGET_KEY, Harness, MakeSim, field_id

pytestmark = pytest.mark.anyio

CF_ID = re.compile(r"^cf_[0-9A-Za-z]{43}$")
REF = "referenced_custom_type_id"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


async def test_list_returns_every_field_on_one_page(sim: Harness) -> None:
    """GET custom_field/shared/ lists all the org's fields with has_more false."""
    reply = await sim.call("GET", "custom_field/shared/")
    names = [f["name"] for f in reply.body["data"]]
    assert (reply.status, names, reply.body["has_more"]) == (
        200,
        [f["name"] for f in SOURCE["shared_custom_fields"]],
        False,
    )


async def test_list_pages_with_skip_and_limit(sim: Harness) -> None:
    """`_skip`/`_limit` page through the fields and has_more says whether more follow."""
    first = await sim.call("GET", "custom_field/shared/?_limit=20")
    rest = await sim.call("GET", "custom_field/shared/?_skip=20&_limit=20")
    assert (len(first.body["data"]), first.body["has_more"]) == (20, True)
    total = len(SOURCE["shared_custom_fields"])
    assert (len(rest.body["data"]), rest.body["has_more"]) == (total - 20, False)


@pytest.mark.parametrize(
    ("query", "bad"), [("_limit=-1", "_limit"), ("_limit=0", "_limit"), ("_skip=x", "_skip")]
)
async def test_a_bad_paging_parameter_is_a_400(sim: Harness, query: str, bad: str) -> None:
    """`_skip` must be an integer >= 0 and `_limit` >= 1: otherwise a field error on it."""
    reply = await sim.call("GET", f"custom_field/shared/?{query}")
    assert (reply.status, list(reply.body["field-errors"])) == (400, [bad])


async def test_limit_is_capped_at_100(make_sim: MakeSim, tmp_path: Path) -> None:
    """A `_limit` above 100 returns 100 items and has_more."""
    seed = build_seed()
    template = seed["orgs"][0]["shared_custom_fields"][0]
    seed["orgs"][0]["shared_custom_fields"] = [
        {**template, "id": f"cf_{i}", "name": f"F{i}"} for i in range(150)
    ]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    sim = await make_sim(seed_path=path)
    reply = await sim.call("GET", "custom_field/shared/?_limit=500")
    assert (len(reply.body["data"]), reply.body["has_more"]) == (100, True)


async def test_create_answers_200_with_the_new_field(sim: Harness) -> None:
    """POST custom_field/shared/ answers 200 with a cf_ id, no associations and audit fields."""
    body = {"name": "Tier", "type": "choices", "choices": ["Gold", "Silver"]}
    reply = await sim.call("POST", "custom_field/shared/", body, key=TARGET_KEY)
    scf = reply.body
    assert reply.status == 200
    assert CF_ID.match(scf["id"])
    assert TIMESTAMP.match(scf["date_created"])
    assert scf["date_created"] == scf["date_updated"]
    assert {k: scf[k] for k in ("name", "type", "choices", "associations", "description")} == {
        "name": "Tier", "type": "choices", "choices": ["Gold", "Silver"],
        "associations": [], "description": None,
    }  # fmt: skip
    assert scf["created_by"] == scf["updated_by"]
    assert scf["created_by"].startswith("user_")


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"type": "text"}, ["name"]),
        ({"name": "X", "type": "rich"}, ["type"]),
        ({"name": "X", "type": "choices"}, ["choices"]),
        ({"name": "X", "type": "choices", "choices": ["a", 1]}, ["choices"]),
        ({"name": "X", "type": "text", "choices": ["a"]}, ["choices"]),
        (
            {"name": "X", "type": "text", "accepts_multiple_values": True},
            ["accepts_multiple_values"],
        ),
        (
            {"name": "X", "type": "user", "accepts_multiple_values": "yes"},
            ["accepts_multiple_values"],
        ),
        ({"name": "X", "type": "text", "description": 5}, ["description"]),
        ({"name": "Industry", "type": "text"}, ["name"]),
    ],
)
async def test_create_rejects_invalid_fields(
    sim: Harness, body: dict[str, object], bad: list[str]
) -> None:
    """Invalid create bodies answer 400 with a field error on each bad key."""
    reply = await sim.call("POST", "custom_field/shared/", body)
    assert (reply.status, reply.body["errors"], sorted(reply.body["field-errors"])) == (
        400,
        [],
        bad,
    )


async def test_get_returns_the_field(sim: Harness) -> None:
    """GET custom_field/shared/{id}/ returns the field with its associations."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("GET", f"custom_field/shared/{scf_id}/")
    expected = next(f for f in SOURCE["shared_custom_fields"] if f["id"] == scf_id)
    assert (reply.status, reply.body) == (200, expected)


async def test_get_of_an_unknown_field_is_a_404(sim: Harness) -> None:
    """An unknown field id answers 404 with Close's {"error": ...} body."""
    reply = await sim.call("GET", "custom_field/shared/cf_nope/")
    assert (reply.status, reply.body) == (404, {"error": "Shared custom field not found"})


async def test_put_is_a_partial_update(sim: Harness) -> None:
    """PUT changes only the keys sent and records the change in date_updated."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", {"description": "Sector"})
    before = next(f for f in SOURCE["shared_custom_fields"] if f["id"] == scf_id)
    assert reply.status == 200
    assert (reply.body["name"], reply.body["description"], reply.body["choices"]) == (
        "Industry", "Sector", before["choices"],
    )  # fmt: skip
    assert reply.body["date_updated"] > before["date_updated"]


@pytest.mark.parametrize(
    ("body", "bad"),
    [({"type": "number"}, "type"), ({"name": ""}, "name"), ({"choices": []}, "choices")],
)
async def test_put_rejects_type_changes_and_bad_values(
    sim: Harness, body: dict[str, object], bad: str
) -> None:
    """The type is immutable and values are validated as on create: 400 with a field error."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", body)
    assert (reply.status, list(reply.body["field-errors"])) == (400, [bad])


async def test_delete_answers_200_with_an_empty_object_and_removes_the_field(sim: Harness) -> None:
    """DELETE answers 200 `{}`; the field is then unknown."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("DELETE", f"custom_field/shared/{scf_id}/")
    again = await sim.call("GET", f"custom_field/shared/{scf_id}/")
    assert (reply.status, reply.body, again.status) == (200, {}, 404)


# --- custom_object fields: the referenced custom object type -----------------------------------


def object_type_id(org: dict[str, object], name: str) -> str:
    types = org["custom_object_types"]
    assert isinstance(types, list)
    found: str = next(t["id"] for t in types if t["name"] == name)
    return found


async def test_a_seed_custom_object_field_names_its_custom_object_type(sim: Harness) -> None:
    """GET of a custom_object field returns `referenced_custom_type_id`, one of the org's
    custom object types (Related Assets points to Asset)."""
    reply = await sim.call("GET", f"custom_field/shared/{field_id(SOURCE, 'Related Assets')}/")
    assert reply.body["referenced_custom_type_id"] == object_type_id(SOURCE, "Asset")


async def test_create_a_custom_object_field_with_its_type(sim: Harness) -> None:
    """POST of a custom_object field with one of the org's custom object types answers 200 and
    the field names that type."""
    cotype = object_type_id(SOURCE, "Contract")
    body = {"name": "Covered Contracts", "type": "custom_object", "accepts_multiple_values": True}
    reply = await sim.call("POST", "custom_field/shared/", {**body, REF: cotype})
    assert reply.status == 200
    assert (reply.body[REF], reply.body["accepts_multiple_values"]) == (cotype, True)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"type": "custom_object"}, "is required"),
        ({"type": "custom_object", REF: "cotype_" + "x" * 22}, "no such custom object type"),
        ({"type": "custom_object", REF: object_type_id(TARGET, "Asset")}, "no such"),
        ({"type": "custom_object", REF: 7}, "is required"),
        ({"type": "text", REF: object_type_id(SOURCE, "Asset")}, "only allowed"),
    ],
    ids=["missing", "unknown", "other-org", "not-a-string", "not-custom-object"],
)
async def test_create_checks_the_referenced_custom_object_type(
    sim: Harness, body: dict[str, object], why: str
) -> None:
    """A custom_object field needs one of the org's custom object types (another org's is
    unknown); other types take none: 400 with the error on `referenced_custom_type_id`."""
    reply = await sim.call("POST", "custom_field/shared/", {"name": "Ref", **body})
    assert (reply.status, list(reply.body["field-errors"])) == (400, [REF])
    assert why in reply.body["field-errors"][REF]


async def test_put_cannot_change_the_referenced_type_but_may_repeat_it(sim: Harness) -> None:
    """The referenced custom object type is fixed like `type`: another one is a 400 on it, the
    same one passes."""
    path = f"custom_field/shared/{field_id(SOURCE, 'Related Assets')}/"
    other = await sim.call("PUT", path, {REF: object_type_id(SOURCE, "Contract")})
    same = await sim.call("PUT", path, {REF: object_type_id(SOURCE, "Asset"), "name": "Assets"})
    assert (other.status, list(other.body["field-errors"])) == (400, [REF])
    assert (same.status, same.body["name"], same.body[REF]) == (
        200,
        "Assets",
        object_type_id(SOURCE, "Asset"),
    )


# --- PUT: what changes, what cannot ---------------------------------------------------------------


async def test_put_changes_name_description_and_choices_together(sim: Harness) -> None:
    """A PUT with name, description and choices applies all three (choices may shrink) and
    keeps the field's associations."""
    scf_id = field_id(SOURCE, "Industry")
    body = {"name": "Sector", "description": None, "choices": ["SaaS", "Retail"]}
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", body)
    again = await sim.call("GET", f"custom_field/shared/{scf_id}/")
    assert reply.status == 200
    assert {k: again.body[k] for k in body} == body
    assert again.body["associations"] == next(
        f["associations"] for f in SOURCE["shared_custom_fields"] if f["id"] == scf_id
    )


async def test_put_may_set_the_type_it_already_has(sim: Harness) -> None:
    """`type` equal to the current type is no change: 200."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", {"type": "choices"})
    assert (reply.status, reply.body["type"]) == (200, "choices")


@pytest.mark.parametrize("name", ["Attendees", "Pain Points", "Assigned Engineers"])
async def test_put_switches_accepts_multiple_values_on_multi_value_types(
    sim: Harness, name: str
) -> None:
    """contact, choices and user fields can switch `accepts_multiple_values` both ways."""
    path = f"custom_field/shared/{field_id(SOURCE, name)}/"
    off = await sim.call("PUT", path, {"accepts_multiple_values": False})
    on = await sim.call("PUT", path, {"accepts_multiple_values": True})
    assert [off.status, off.body["accepts_multiple_values"]] == [200, False]
    assert [on.status, on.body["accepts_multiple_values"]] == [200, True]


@pytest.mark.parametrize(
    ("name", "body", "bad"),
    [
        ("Annual Revenue", {"accepts_multiple_values": True}, "accepts_multiple_values"),
        ("Industry", {"accepts_multiple_values": "yes"}, "accepts_multiple_values"),
        ("Annual Revenue", {"choices": ["a"]}, "choices"),
        ("Industry", {"choices": ["a", ""]}, "choices"),
        ("Industry", {"name": "Plan"}, "name"),
        ("Industry", {"description": ["x"]}, "description"),
    ],
)
async def test_put_validates_as_create_does(
    sim: Harness, name: str, body: dict[str, object], bad: str
) -> None:
    """Multiple values only for user/choices/contact/custom_object, choices only for choices
    fields, a name no other field has: otherwise 400 on that key and nothing changes."""
    path = f"custom_field/shared/{field_id(SOURCE, name)}/"
    before = await sim.call("GET", path)
    reply = await sim.call("PUT", path, body)
    after = await sim.call("GET", path)
    assert (reply.status, list(reply.body["field-errors"])) == (400, [bad])
    assert after.body == before.body


async def test_put_keeps_the_fields_own_name(sim: Harness) -> None:
    """Renaming a field to its own name is no conflict."""
    scf_id = field_id(SOURCE, "Industry")
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", {"name": "Industry"})
    assert (reply.status, reply.body["name"]) == (200, "Industry")


async def test_put_of_another_orgs_field_is_a_404(sim: Harness) -> None:
    """A field id of the other org is unknown to this key, for PUT as for GET."""
    scf_id = field_id(TARGET, "Industry")
    reply = await sim.call("PUT", f"custom_field/shared/{scf_id}/", {"description": "x"})
    assert reply.status == 404


async def test_a_created_field_defaults_to_single_value_and_joins_the_list(sim: Harness) -> None:
    """A field created without `accepts_multiple_values` takes single values, and the list
    shows it after the existing fields."""
    created = await sim.call("POST", "custom_field/shared/", {"name": "Notes 2", "type": "text"})
    listed = await sim.call("GET", "custom_field/shared/")
    assert created.body["accepts_multiple_values"] is False
    assert listed.body["data"][-1] == created.body


async def test_a_skip_past_the_end_is_an_empty_last_page(sim: Harness) -> None:
    """`_skip` beyond the list answers 200 with no data and has_more false."""
    reply = await sim.call("GET", "custom_field/shared/?_skip=1000")
    assert (reply.status, reply.body) == (200, {"data": [], "has_more": False})
