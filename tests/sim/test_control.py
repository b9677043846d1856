"""Control endpoints: state, stats (exact group names), reset, live config with validation,
latency and jitter."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scf_batch.sim.seedgen import build_seed
from tests.sim.conftest import SOURCE, TARGET, TARGET_KEY, Harness, MakeSim, field_id

pytestmark = pytest.mark.anyio

SCF = field_id(TARGET, "Plan")


async def test_state_starts_as_the_seed(sim: Harness) -> None:
    """GET /_sim/state returns every org in the seed file's shape, equal to the seed."""
    assert await sim.state() == build_seed()


async def test_state_shows_changes(sim: Harness) -> None:
    """A new association appears in the target org's field in /_sim/state."""
    await sim.call(
        "POST", f"custom_field/shared/{SCF}/association/", {"object_type": "lead"}, key=TARGET_KEY
    )
    state = await sim.state()
    plan = next(f for f in state["orgs"][1]["shared_custom_fields"] if f["id"] == SCF)
    assert plan["associations"] == [
        {"object_type": "lead", "editable_with_roles": [], "required": False}
    ]


async def test_stats_count_by_group_and_status(sim: Harness) -> None:
    """Stats name groups by method and route template and count statuses, faults and writes."""
    assoc = f"custom_field/shared/{SCF}/association/"
    await sim.call("POST", assoc, {"object_type": "lead"}, key=TARGET_KEY)
    await sim.call("POST", assoc, {"object_type": "lead"}, key=TARGET_KEY)
    await sim.call("GET", assoc + "lead/", key=TARGET_KEY)
    await sim.call("DELETE", assoc + "lead/", key=TARGET_KEY)
    await sim.call("GET", f"custom_field/shared/{field_id(SOURCE, 'Plan')}/", key=None)
    await sim.call("GET", "nothing/")
    assert await sim.stats() == {
        "total": 6,
        "by_group": {
            "POST custom_field/shared/{scf_id}/association/": {"201": 1, "400": 1},
            "GET custom_field/shared/{scf_id}/association/{object_type}/": {"200": 1},
            "DELETE custom_field/shared/{scf_id}/association/{object_type}/": {"204": 1},
            "GET custom_field/shared/{scf_id}/": {"401": 1},
            "(no route)": {"404": 1},
        },
        "rate_limited": 0,
        "faults": {"before_apply": 0, "after_apply": 0, "dropped": 0},
        "writes_applied": {
            "POST custom_field/shared/{scf_id}/association/": 1,
            "DELETE custom_field/shared/{scf_id}/association/{object_type}/": 1,
        },
    }


async def test_reset_restores_the_seed_and_zeroes_stats(make_sim: MakeSim) -> None:
    """POST /_sim/reset undoes every change, clears rate windows and zeroes the stats."""
    sim = await make_sim(rate_limit=1)
    await sim.call("DELETE", f"custom_field/shared/{field_id(SOURCE, 'Plan')}/")
    await sim.call("GET", "me/")
    reply = await sim.call("POST", "/_sim/reset", key=None)
    stats = await sim.stats()
    assert (reply.status, reply.body) == (200, {})
    assert await sim.state() == build_seed()
    assert (stats["total"], stats["by_group"]) == (0, {})
    assert (await sim.call("GET", "me/")).status == 200


async def test_config_changes_apply_live(sim: Harness) -> None:
    """POST /_sim/config changes settings at once and answers with all live settings."""
    reply = await sim.call(
        "POST", "/_sim/config", {"rate_limit": 1, "header_style": "semicolon"}, key=None
    )
    limited = [await sim.call("GET", "me/") for _ in range(2)]
    shown = await sim.call("GET", "/_sim/config", key=None)
    assert reply.body == shown.body == {
        "rate_limit": 1, "rate_window_s": 1.0, "latency_ms": 0, "jitter_ms": 0,
        "fault_rate": 0, "header_style": "semicolon", "body_style": "legacy",
    }  # fmt: skip
    assert [r.status for r in limited] == [200, 429]
    assert limited[0].headers["RateLimit"] == "limit=1; remaining=0; reset=1"


@pytest.mark.parametrize(
    "change",
    [
        {"rate_limit": -1},
        {"rate_limit": 1.5},
        {"rate_limit": True},
        {"rate_window_s": 0},
        {"latency_ms": "10"},
        {"jitter_ms": -5},
        {"fault_rate": 1.5},
        {"header_style": "colon"},
        {"body_style": "html"},
        {"seed_path": "/etc/passwd"},
        {"rate_limit": 5, "fault_rate": -1},
    ],
)
async def test_invalid_config_is_a_400_and_changes_nothing(
    sim: Harness, change: dict[str, Any]
) -> None:
    """Bad values or unknown settings answer 400 with field errors; nothing is applied."""
    reply = await sim.call("POST", "/_sim/config", change, key=None)
    shown = await sim.call("GET", "/_sim/config", key=None)
    assert reply.status == 400
    assert set(reply.body["field-errors"]) <= set(change)
    assert (shown.body["rate_limit"], shown.body["fault_rate"]) == (0, 0)


async def test_config_with_malformed_json_is_a_400(sim: Harness) -> None:
    """A config body that is not JSON answers 400 {"error": ...}."""
    reply = await sim.call(
        "POST", "/_sim/config", key=None, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (reply.status, list(reply.body)) == (400, ["error"])


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "reset", 405), ("GET", "x", 404)])
async def test_unknown_control_calls(sim: Harness, method: str, path: str, status: int) -> None:
    """A control path with the wrong method is 405; an unknown one 404."""
    assert (await sim.call(method, f"/_sim/{path}", key=None)).status == status


async def test_latency_delays_api_answers(make_sim: MakeSim) -> None:
    """With latency_ms 80, an API call takes at least 80 ms; control calls do not wait."""
    sim = await make_sim(latency_ms=80)
    started = time.perf_counter()
    await sim.call("GET", "me/")
    api_s = time.perf_counter() - started
    started = time.perf_counter()
    await sim.call("GET", "/_sim/stats", key=None)
    control_s = time.perf_counter() - started
    assert api_s >= 0.08
    assert control_s < 0.08


async def test_jitter_adds_up_to_jitter_ms(make_sim: MakeSim) -> None:
    """Each delay is latency plus a uniform draw in [0, jitter]."""
    sim = await make_sim(latency_ms=10, jitter_ms=20, random_seed=1)
    delays = [sim.sim.delay_s() for _ in range(500)]
    assert 0.010 <= min(delays) < 0.012
    assert 0.028 < max(delays) <= 0.030
