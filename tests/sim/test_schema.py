"""Custom field schemas: GET lists regular and shared fields in display order, PUT reorders,
associating appends, disassociating and deleting remove, and every 400 and 404."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import SOURCE, TARGET, TARGET_KEY, Harness, by_name, field_id

pytestmark = pytest.mark.anyio

ACTIVITY = by_name(TARGET, "custom_activity_types", "Discovery Call")
OBJECT = by_name(TARGET, "custom_object_types", "Subscription")


async def names(sim: Harness, path: str, key: str = TARGET_KEY) -> list[str]:
    """The names in an object's schema, in display order."""
    reply = await sim.call("GET", f"custom_field_schema/{path}/", key=key)
    assert reply.status == 200, reply.body
    return [f["name"] for f in reply.body["fields"]]


async def associate(sim: Harness, name: str, body: dict[str, Any]) -> None:
    """Associate a target field by name."""
    url = f"custom_field/shared/{field_id(TARGET, name)}/association/"
    reply = await sim.call("POST", url, body, key=TARGET_KEY)
    assert reply.status == 201, reply.body


async def test_the_sources_schema_lists_regular_and_shared_fields_in_its_order(
    sim: Harness,
) -> None:
    """The source's lead schema is the seed's deliberate order, regular fields included."""
    reply = await sim.call("GET", "custom_field_schema/lead/")
    by_id = {f["id"]: f for f in SOURCE["shared_custom_fields"] + SOURCE["regular_custom_fields"]}
    (seeded,) = [s for s in SOURCE["custom_field_schemas"] if s["object_type"] == "lead"]
    assert [by_id[i]["name"] for i in seeded["fields"]] == [f["name"] for f in reply.body["fields"]]
    assert {"Lead Source": False, "Industry": True} == {
        f["name"]: f["is_shared"]
        for f in reply.body["fields"]
        if f["name"] in ("Lead Source", "Industry")
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("lead", {"object_type": "lead"}),
        (
            f"activity/{ACTIVITY}",
            {"object_type": "custom_activity_type", "custom_activity_type_id": ACTIVITY},
        ),
        (
            f"custom_object/{OBJECT}",
            {"object_type": "custom_object_type", "custom_object_type_id": OBJECT},
        ),
    ],
)
async def test_associating_appends_to_the_objects_schema(
    sim: Harness, path: str, body: dict[str, Any]
) -> None:
    """Each new association lands at the end of that object's schema, after regular fields."""
    before = await names(sim, path)
    await associate(sim, "Plan", body)
    await associate(sim, "Seats", body)
    assert [*before, "Plan", "Seats"] == await names(sim, path)


async def test_a_put_reorders_and_appends_the_ids_left_out(sim: Harness) -> None:
    """PUT with some ids puts them first in that order; the rest follow in their old order."""
    for name in ("Plan", "Seats", "Industry"):
        await associate(sim, name, {"object_type": "lead"})
    ids = [field_id(TARGET, "Industry"), field_id(TARGET, "Plan")]
    reply = await sim.call(
        "PUT", "custom_field_schema/lead/", {"fields": [{"id": i} for i in ids]}, key=TARGET_KEY
    )
    assert reply.status == 200, reply.body
    expected = ["Industry", "Plan", "Lead Source", "Region", "Seats"]
    assert expected == [f["name"] for f in reply.body["fields"]]
    assert expected == await names(sim, "lead")


async def test_disassociating_and_deleting_remove_a_field_from_the_schema(sim: Harness) -> None:
    """A disassociated field leaves the schema; a deleted one leaves every schema."""
    for name in ("Plan", "Seats"):
        await associate(sim, name, {"object_type": "lead"})
        await associate(sim, name, {"object_type": "contact"})
    plan, seats = field_id(TARGET, "Plan"), field_id(TARGET, "Seats")
    await sim.call("DELETE", f"custom_field/shared/{plan}/association/lead/", key=TARGET_KEY)
    await sim.call("DELETE", f"custom_field/shared/{seats}/", key=TARGET_KEY)
    assert ["Lead Source", "Region"] == await names(sim, "lead")
    assert ["Job Title Level", "Plan"] == await names(sim, "contact")


@pytest.mark.parametrize(
    "body",
    [
        {"fields": [{"id": "cf_unknown"}]},
        {"fields": [{"id": field_id(TARGET, "Plan")}]},
        {"fields": "lead"},
        {"fields": [{"name": "Region"}]},
        {},
    ],
)
async def test_a_put_naming_a_field_not_on_the_object_is_a_400(
    sim: Harness, body: dict[str, Any]
) -> None:
    """Unknown ids, fields not associated and malformed bodies are Close's 400 on `fields`."""
    before = await names(sim, "lead")
    reply = await sim.call("PUT", "custom_field_schema/lead/", body, key=TARGET_KEY)
    assert (400, ["fields"]) == (reply.status, list(reply.body["field-errors"]))
    assert before == await names(sim, "lead")


@pytest.mark.parametrize(
    "path",
    ["activity/actitype_nope", "custom_object/cotype_nope", f"activity/{OBJECT}", "deal", "lead/x"],
)
async def test_an_unknown_schema_object_is_a_404(sim: Harness, path: str) -> None:
    """An unknown custom type, another kind's id or an unknown object type is a 404."""
    reply = await sim.call("GET", f"custom_field_schema/{path}/", key=TARGET_KEY)
    assert 404 == reply.status


async def test_schemas_are_per_org(sim: Harness) -> None:
    """The target's lead schema has only its regular fields, whatever the source's has."""
    assert ["Lead Source", "Region"] == await names(sim, "lead")
