"""Fidelity: Close's official Python client (closeio_api 2.1) drives the simulator as a real
process. What works with the official client against the simulator is what Close users see."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from closeio_api import API, APIError, ValidationError  # type: ignore[import-untyped]

from tests.sim.conftest import TARGET, association_targets, by_name
from tests.simproc import SimProcess, sim_process

ROLE = by_name(TARGET, "roles", "Support")
OBJECT_TYPES = association_targets("Onboarding Meeting", "Asset")


@pytest.fixture(scope="module")
def sim_proc() -> Iterator[SimProcess]:
    """One simulator process for the module."""
    with sim_process() as sim:
        yield sim


@pytest.fixture
def sim(sim_proc: SimProcess) -> SimProcess:
    """The module's simulator, back at the seed with default settings for each test."""
    sim_proc.configure(
        rate_limit=0, rate_window_s=1.0, latency_ms=0, jitter_ms=0, fault_rate=0,
        header_style="comma", body_style="legacy",
    )  # fmt: skip
    sim_proc.reset()
    return sim_proc


@pytest.fixture
def api(sim: SimProcess) -> Iterator[API]:
    """The official client, pointed at the simulator with a target-org key."""
    client = API(sim.base_url, api_key="api_target_key_1", tz_offset="0")
    yield client
    client.session.close()


def test_a_field_is_created_associated_read_updated_and_deleted(api: API) -> None:
    """The official client runs the whole lifecycle with every object type."""
    scf = api.post("custom_field/shared", {"name": "Region", "type": "text"})
    base = f"custom_field/shared/{scf['id']}/association"
    for body, segment in OBJECT_TYPES:
        created = api.post(base, {**body, "required": False, "editable_with_roles": ["admin"]})
        assert created == {**body, "required": False, "editable_with_roles": ["admin"]}
        updated = api.put(f"{base}/{segment}", {"required": True, "editable_with_roles": [ROLE]})
        assert updated == {**body, "required": True, "editable_with_roles": [ROLE]}
        assert api.get(f"{base}/{segment}") == updated
    assert len(api.get(f"custom_field/shared/{scf['id']}")["associations"]) == 5
    for _, segment in OBJECT_TYPES:
        assert api.delete(f"{base}/{segment}") == ""
    assert api.get(f"custom_field/shared/{scf['id']}")["associations"] == []
    assert api.delete(f"custom_field/shared/{scf['id']}") == {}


def test_bad_input_raises_validation_error_with_field_errors(api: API) -> None:
    """A 400 reaches the client as ValidationError with `field_errors` on the bad key."""
    scf_id = TARGET["shared_custom_fields"][0]["id"]
    with pytest.raises(ValidationError) as caught:
        api.post(
            f"custom_field/shared/{scf_id}/association",
            {"object_type": "custom_activity_type", "custom_activity_type_id": "actitype_nope"},
        )
    assert list(caught.value.field_errors) == ["custom_activity_type_id"]
    assert caught.value.errors == []


def test_associating_twice_is_a_validation_error_on_object_type(api: API) -> None:
    """The second association with the same object type fails on `object_type`."""
    base = f"custom_field/shared/{TARGET['shared_custom_fields'][0]['id']}/association"
    api.post(base, {"object_type": "lead"})
    with pytest.raises(ValidationError) as caught:
        api.post(base, {"object_type": "lead"})
    assert list(caught.value.field_errors) == ["object_type"]


def test_a_missing_association_is_an_api_error_404(api: API) -> None:
    """A 404 reaches the client as APIError with the response attached."""
    scf_id = TARGET["shared_custom_fields"][0]["id"]
    with pytest.raises(APIError) as caught:
        api.get(f"custom_field/shared/{scf_id}/association/lead")
    assert caught.value.response.status_code == 404
    assert not isinstance(caught.value, ValidationError)


def test_lookups_page_as_the_client_expects(api: API) -> None:
    """me, role, custom_activity and custom_object_type answer through the client."""
    assert api.get("me")["organizations"][0]["id"] == TARGET["id"]
    assert [r["name"] for r in api.get("role")["data"]] == ["Sales Manager", "Support", "Finance"]
    assert len(api.get("custom_activity", params={"_limit": 2})["data"]) == 2
    assert "has_more" not in api.get("custom_object_type")


@pytest.mark.parametrize("style", ["semicolon", "none"])
def test_the_client_survives_a_429(sim: SimProcess, api: API, style: str) -> None:
    """Over the limit the client waits (Retry-After) and retries; every call succeeds."""
    sim.configure(rate_limit=1, header_style=style)
    started = time.monotonic()
    replies = [api.get("me") for _ in range(2)]
    elapsed = time.monotonic() - started
    stats = sim.stats()["by_group"]["GET me/"]
    assert [r["id"] for r in replies] == [TARGET["users"][0]["id"]] * 2
    assert (stats["200"], stats["429"]) == (2, 1)
    assert elapsed >= 0.9


def test_the_client_parses_the_comma_header_but_truncates_a_decimal_reset(
    sim: SimProcess, api: API
) -> None:
    """closeio 2.1 matches our `limit=, remaining=, reset=` header with `(\\d+)` groups, so it
    reads only the integer part of a decimal reset (here 0): it would retry at once. The
    header is Close's documented form; the truncation is the client's (noted for the README)."""
    sim.configure(rate_limit=1, rate_window_s=1)
    api.get("me")
    response = requests.get(sim.base_url + "me/", auth=("api_target_key_1", ""), timeout=10)
    reset = response.headers["RateLimit"].rsplit("reset=", 1)[1]
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")
    assert api._get_rate_limit_sleep_time(response) == float(reset.split(".")[0]) == 0.0
