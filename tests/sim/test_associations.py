"""Associations: POST 201, GET/PUT/DELETE on one- and two-segment types, every 400 and 404."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.sim.conftest import (
    SOURCE,
    TARGET,
    TARGET_KEY,
    Harness,
    association_targets,
    by_name,
    field_id,
)

pytestmark = pytest.mark.anyio

ACTIVITY = by_name(TARGET, "custom_activity_types", "Discovery Call")
OBJECT = by_name(TARGET, "custom_object_types", "Subscription")
ROLE = by_name(TARGET, "roles", "Finance")
SCF = field_id(TARGET, "Plan")
BASE = f"custom_field/shared/{SCF}/association/"

TARGETS = association_targets("Discovery Call", "Subscription")


async def associate(sim: Harness, body: dict[str, Any]) -> Any:
    return await sim.call("POST", BASE, body, key=TARGET_KEY)


@pytest.mark.parametrize(("body", "segment"), TARGETS)
async def test_post_creates_an_association_with_201(
    sim: Harness, body: dict[str, str], segment: str
) -> None:
    """POST .../association/ answers 201 with the association, readable at its URL after."""
    sent = {**body, "editable_with_roles": ["admin", ROLE], "required": True}
    created = await associate(sim, sent)
    read = await sim.call("GET", BASE + segment + "/", key=TARGET_KEY)
    assert (created.status, created.body) == (201, sent)
    assert (read.status, read.body) == (200, sent)


async def test_post_defaults_to_no_roles_and_not_required(sim: Harness) -> None:
    """Without `required` and `editable_with_roles`, the association is optional and open."""
    created = await associate(sim, {"object_type": "lead"})
    assert created.body == {"object_type": "lead", "editable_with_roles": [], "required": False}


async def test_associations_appear_on_the_field_and_touch_it(sim: Harness) -> None:
    """The field lists its new association and records who changed it and when."""
    await associate(sim, {"object_type": "contact"})
    scf = (await sim.call("GET", f"custom_field/shared/{SCF}/", key=TARGET_KEY)).body
    assert scf["associations"] == [
        {"object_type": "contact", "editable_with_roles": [], "required": False}
    ]
    assert scf["date_updated"] > scf["date_created"]
    assert scf["updated_by"] == TARGET["users"][0]["id"]


@pytest.mark.parametrize(("body", "segment"), TARGETS)
async def test_put_changes_only_what_is_sent(
    sim: Harness, body: dict[str, str], segment: str
) -> None:
    """PUT is partial: `required` alone keeps the roles, and the reply is the new association."""
    await associate(sim, {**body, "editable_with_roles": [ROLE]})
    reply = await sim.call("PUT", BASE + segment + "/", {"required": True}, key=TARGET_KEY)
    assert (reply.status, reply.body) == (
        200,
        {**body, "editable_with_roles": [ROLE], "required": True},
    )


async def test_put_ignores_keys_other_than_required_and_roles(sim: Harness) -> None:
    """Only `required` and `editable_with_roles` can change; the object type stays."""
    await associate(sim, {"object_type": "lead"})
    body = {"object_type": "contact", "editable_with_roles": ["admin"]}
    reply = await sim.call("PUT", BASE + "lead/", body, key=TARGET_KEY)
    assert reply.body == {
        "object_type": "lead",
        "editable_with_roles": ["admin"],
        "required": False,
    }


@pytest.mark.parametrize(("body", "segment"), TARGETS)
async def test_delete_answers_204_without_a_body(
    sim: Harness, body: dict[str, str], segment: str
) -> None:
    """DELETE answers 204 with an empty body; the association is then a 404, also on delete."""
    await associate(sim, body)
    deleted = await sim.call("DELETE", BASE + segment + "/", key=TARGET_KEY)
    read = await sim.call("GET", BASE + segment + "/", key=TARGET_KEY)
    again = await sim.call("DELETE", BASE + segment + "/", key=TARGET_KEY)
    assert (deleted.status, deleted.body, read.status, again.status) == (204, "", 404, 404)
    assert read.body == {"error": "Association not found"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_a_missing_association_is_a_404(sim: Harness, method: str) -> None:
    """GET, PUT and DELETE of an association that does not exist answer 404."""
    body = {"required": True} if method == "PUT" else None
    reply = await sim.call(method, BASE + "opportunity/", body, key=TARGET_KEY)
    assert (reply.status, reply.body) == (404, {"error": "Association not found"})


async def test_associating_twice_is_a_400_on_object_type(sim: Harness) -> None:
    """A second POST for the same object type is a field error on object_type, state unchanged."""
    await associate(sim, {"object_type": "lead"})
    again = await associate(sim, {"object_type": "lead", "required": True})
    stored = await sim.call("GET", BASE + "lead/", key=TARGET_KEY)
    assert (again.status, list(again.body["field-errors"]), again.body["errors"]) == (
        400, ["object_type"], [],
    )  # fmt: skip
    assert stored.body["required"] is False


async def test_the_same_field_may_join_two_custom_types(sim: Harness) -> None:
    """Two different custom activity types are two associations, not a duplicate."""
    other = by_name(TARGET, "custom_activity_types", "Demo")
    first = await associate(sim, TARGETS[3][0])
    second = await associate(
        sim, {"object_type": "custom_activity_type", "custom_activity_type_id": other}
    )
    assert (first.status, second.status) == (201, 201)


FOREIGN_ACTIVITY = by_name(SOURCE, "custom_activity_types", "Discovery Call")
FOREIGN_OBJECT = by_name(SOURCE, "custom_object_types", "Subscription")
FOREIGN_ROLE = by_name(SOURCE, "roles", "Finance")


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({}, "object_type"),
        ({"object_type": "deal"}, "object_type"),
        ({"object_type": 3}, "object_type"),
        ({"object_type": "custom_activity_type"}, "custom_activity_type_id"),
        (
            {"object_type": "custom_activity_type", "custom_activity_type_id": "actitype_x"},
            "custom_activity_type_id",
        ),
        (
            {"object_type": "custom_activity_type", "custom_activity_type_id": FOREIGN_ACTIVITY},
            "custom_activity_type_id",
        ),
        ({"object_type": "custom_object_type"}, "custom_object_type_id"),
        (
            {"object_type": "custom_object_type", "custom_object_type_id": FOREIGN_OBJECT},
            "custom_object_type_id",
        ),
        (
            {"object_type": "custom_object_type", "custom_activity_type_id": ACTIVITY},
            "custom_object_type_id",
        ),
        ({"object_type": "lead", "required": "true"}, "required"),
        ({"object_type": "lead", "required": 1}, "required"),
        ({"object_type": "lead", "editable_with_roles": "admin"}, "editable_with_roles"),
        ({"object_type": "lead", "editable_with_roles": [1]}, "editable_with_roles"),
        ({"object_type": "lead", "editable_with_roles": ["Finance"]}, "editable_with_roles"),
        ({"object_type": "lead", "editable_with_roles": [FOREIGN_ROLE]}, "editable_with_roles"),
        ({"object_type": "lead", "editable_with_roles": None}, "editable_with_roles"),
    ],
)
async def test_invalid_associations_are_400_with_a_field_error(
    sim: Harness, body: dict[str, Any], bad: str
) -> None:
    """Bad object types, missing/unknown/foreign type ids, bad roles or types: 400 on that key."""
    reply = await associate(sim, body)
    assert (reply.status, list(reply.body["field-errors"])) == (400, [bad])
    assert (await sim.call("GET", f"custom_field/shared/{SCF}/", key=TARGET_KEY)).body[
        "associations"
    ] == []


@pytest.mark.parametrize("roles", [["admin", "superuser", "user", "restricted_user"], []])
async def test_builtin_role_slugs_are_accepted(sim: Harness, roles: list[str]) -> None:
    """Built-in slugs and an empty list are valid `editable_with_roles`."""
    reply = await associate(sim, {"object_type": "lead", "editable_with_roles": roles})
    assert (reply.status, reply.body["editable_with_roles"]) == (201, roles)


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"required": "yes"}, "required"),
        ({"editable_with_roles": ["nobody"]}, "editable_with_roles"),
    ],
)
async def test_invalid_updates_are_400_and_change_nothing(
    sim: Harness, body: dict[str, Any], bad: str
) -> None:
    """PUT validates like POST; a rejected update leaves the association as it was."""
    await associate(sim, {"object_type": "lead"})
    reply = await sim.call("PUT", BASE + "lead/", body, key=TARGET_KEY)
    stored = await sim.call("GET", BASE + "lead/", key=TARGET_KEY)
    assert (reply.status, list(reply.body["field-errors"])) == (400, [bad])
    assert stored.body == {"object_type": "lead", "editable_with_roles": [], "required": False}


async def test_association_calls_on_an_unknown_field_are_404(sim: Harness) -> None:
    """POST on an unknown field id answers 404 like the field itself."""
    reply = await sim.call(
        "POST", "custom_field/shared/cf_x/association/", {"object_type": "lead"}, key=TARGET_KEY
    )
    assert (reply.status, reply.body) == (404, {"error": "Shared custom field not found"})


async def test_concurrent_duplicates_create_one_association(sim: Harness) -> None:
    """Ten simultaneous POSTs of the same association: one 201, nine 400s, one association."""
    statuses: list[int] = []

    async def post() -> None:
        statuses.append((await associate(sim, {"object_type": "contact"})).status)

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(post)
    scf = (await sim.call("GET", f"custom_field/shared/{SCF}/", key=TARGET_KEY)).body
    assert sorted(statuses) == [201] + [400] * 9
    assert len(scf["associations"]) == 1
