"""HTTP-level answers: malformed JSON, content type, methods, unknown URLs; never a 500."""

from __future__ import annotations

import pytest

from tests.sim.conftest import SOURCE, Harness, field_id

pytestmark = pytest.mark.anyio

ASSOC = f"custom_field/shared/{field_id(SOURCE, 'Industry')}/association/"


async def test_malformed_json_is_a_400_with_an_error_string(sim: Harness) -> None:
    """A body that is not JSON answers 400 {"error": "..."}."""
    reply = await sim.call(
        "POST", ASSOC, data=b'{"object_type": ', headers={"Content-Type": "application/json"}
    )
    assert (reply.status, list(reply.body)) == (400, ["error"])
    assert reply.body["error"].startswith("Invalid JSON")


async def test_a_body_that_is_not_an_object_is_a_validation_error(sim: Harness) -> None:
    """A JSON array answers 400 in the errors/field-errors shape."""
    reply = await sim.call("POST", ASSOC, ["lead"])
    assert (reply.status, reply.body["field-errors"], len(reply.body["errors"])) == (400, {}, 1)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_of_another_content_type_is_a_415(
    sim: Harness, content_type: str | None
) -> None:
    """A non-JSON content type with a body answers 415 {"error": ...}."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = await sim.call("POST", ASSOC, data=b'{"object_type": "lead"}', headers=headers)
    assert (reply.status, list(reply.body)) == (415, ["error"])


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "me/", "GET"),
        ("DELETE", "custom_field/shared/", "GET, POST"),
        ("GET", ASSOC, "POST"),
        ("POST", ASSOC + "lead/", "GET, PUT, DELETE"),
    ],
)
async def test_a_wrong_method_is_a_405_with_allow(
    sim: Harness, method: str, path: str, allow: str
) -> None:
    """A known URL with a method it does not take answers 405 with an Allow header."""
    reply = await sim.call(method, path)
    assert (reply.status, reply.headers["Allow"], list(reply.body)) == (405, allow, ["error"])


@pytest.mark.parametrize(
    "path",
    [
        "leads/",
        "me",
        "custom_field/shared",
        "custom_field//",
        ASSOC + "deal/",
        ASSOC + "custom_activity_type/",
        ASSOC + "lead/extra/",
        "custom_field/shared/x/associations/",
        "/nowhere/",
    ],
)
async def test_an_unknown_url_is_a_404(sim: Harness, path: str) -> None:
    """Unknown paths (including ones without the trailing slash) answer 404 {"error": ...}."""
    reply = await sim.call("GET", path)
    assert (reply.status, list(reply.body)) == (404, ["error"])


async def test_an_empty_body_counts_as_an_empty_object(sim: Harness) -> None:
    """A POST without a body is validated as `{}`: a field error on object_type."""
    reply = await sim.call("POST", ASSOC, data=b"")
    assert (reply.status, list(reply.body["field-errors"])) == (400, ["object_type"])


async def test_lookups_list_roles_activity_and_object_types(sim: Harness) -> None:
    """role/, custom_activity/ and custom_object_type/ list the org's own objects with ids."""
    roles = await sim.call("GET", "role/")
    activities = await sim.call("GET", "custom_activity/")
    objects = await sim.call("GET", "custom_object_type/")
    assert [r["name"] for r in roles.body["data"]] == ["Sales Manager", "Support", "Finance"]
    assert [a["id"] for a in activities.body["data"]] == [
        a["id"] for a in SOURCE["custom_activity_types"]
    ]
    assert [o["name"] for o in objects.body["data"]] == ["Subscription", "Asset", "Contract"]
    assert (roles.body["has_more"], activities.body["has_more"]) == (False, False)


async def test_custom_object_type_list_omits_has_more_on_its_last_page(sim: Harness) -> None:
    """custom_object_type/ says has_more while more pages follow and omits it on the last one."""
    first = await sim.call("GET", "custom_object_type/?_limit=2")
    last = await sim.call("GET", "custom_object_type/?_skip=2&_limit=2")
    assert (first.body["has_more"], "has_more" in last.body, len(last.body["data"])) == (
        True, False, 1,
    )  # fmt: skip


async def test_me_names_the_user_and_the_org(sim: Harness) -> None:
    """me/ returns the key's user with its organization."""
    reply = await sim.call("GET", "me/")
    assert reply.body == {
        **SOURCE["users"][0],
        "organizations": [{"id": SOURCE["id"], "name": SOURCE["name"]}],
    }
