"""Auth: Basic with the key as user name, Bearer tokens, 401s, and strict org isolation."""

from __future__ import annotations

import base64

import pytest

from tests.sim.conftest import SOURCE, SOURCE_TOKEN, TARGET, TARGET_KEY, Harness, field_id

pytestmark = pytest.mark.anyio


async def test_basic_auth_with_the_api_key_as_user_name_is_accepted(sim: Harness) -> None:
    """Basic auth with an API key as user name and empty password reaches the key's org."""
    reply = await sim.call("GET", "me/")
    assert (reply.status, reply.body["organizations"]) == (
        200,
        [{"id": SOURCE["id"], "name": "Acme Source"}],
    )


async def test_bearer_token_is_accepted(sim: Harness) -> None:
    """`Authorization: Bearer <oauth token>` reaches the token's org."""
    reply = await sim.call(
        "GET", "me/", key=None, headers={"Authorization": f"Bearer {SOURCE_TOKEN}"}
    )
    assert (reply.status, reply.body["id"]) == (200, SOURCE["users"][0]["id"])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic " + "bm9wZTo=",  # "nope:"
        "Basic not-base64!!",
        "Bearer api_source_key_1",  # an API key is not a token
        "Bearer ",
        "Token api_source_key_1",
    ],
)
async def test_missing_or_bad_credentials_get_401(sim: Harness, header: str | None) -> None:
    """No credentials, an unknown key, garbage or the wrong scheme: 401 Unauthorized."""
    headers = {} if header is None else {"Authorization": header}
    reply = await sim.call("GET", "custom_field/shared/", key=None, headers=headers)
    assert (reply.status, reply.body) == (401, {"error": "Unauthorized"})


async def test_basic_auth_with_a_password_still_uses_the_user_name(sim: Harness) -> None:
    """The password part of Basic auth is ignored, as only the key identifies the caller."""

    header = "Basic " + base64.b64encode(b"api_target_key_2:whatever").decode()
    reply = await sim.call("GET", "me/", key=None, headers={"Authorization": header})
    assert reply.body["organizations"][0]["id"] == TARGET["id"]


async def test_lists_show_only_the_callers_org(sim: Harness) -> None:
    """Each org lists only its own fields, roles and types."""
    source_fields = await sim.call("GET", "custom_field/shared/")
    target_roles = await sim.call("GET", "role/", key=TARGET_KEY)
    assert {f["organization_id"] for f in source_fields.body["data"]} == {SOURCE["id"]}
    assert [r["id"] for r in target_roles.body["data"]] == [r["id"] for r in TARGET["roles"]]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "Stolen"}),
        ("DELETE", "", None),
        ("POST", "association/", {"object_type": "contact"}),
        ("GET", "association/lead/", None),
        ("PUT", "association/lead/", {"required": True}),
        ("DELETE", "association/lead/", None),
    ],
)
async def test_another_orgs_field_is_a_404_and_stays_untouched(
    sim: Harness, method: str, suffix: str, body: object
) -> None:
    """Any call on another org's field id answers 404, as for an unknown id, and changes nothing."""
    before = await sim.state()
    scf_id = field_id(SOURCE, "Account Owner")
    reply = await sim.call(method, f"custom_field/shared/{scf_id}/{suffix}", body, key=TARGET_KEY)
    assert (reply.status, reply.body) == (404, {"error": "Shared custom field not found"})
    assert await sim.state() == before
