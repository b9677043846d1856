"""Shared custom fields: list (paged), create (200), read, partial update, delete (200 `{}`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scf_batch.sim.seedgen import build_seed
from tests.sim.conftest import SOURCE, TARGET_KEY, Harness, MakeSim, field_id

pytestmark = pytest.mark.anyio

CF_ID = re.compile(r"^cf_[0-9A-Za-z]{43}$")
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
