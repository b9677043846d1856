"""Fault injection: 5xx answers (some not JSON) and dropped connections, some after the write was
applied; repeatable with a random seed; never on the control endpoints."""

from __future__ import annotations

import random
from typing import Any

import aiohttp
import pytest

from scf_batch.sim.faults import DROP, pick_fault
from tests.sim.conftest import TARGET, TARGET_KEY, Harness, MakeSim

pytestmark = pytest.mark.anyio

FIELDS = [f["id"] for f in TARGET["shared_custom_fields"][:3]]
BODIES: list[dict[str, str]] = [{"object_type": t} for t in ("lead", "contact", "opportunity")]
BODIES += [
    {"object_type": "custom_activity_type", "custom_activity_type_id": t["id"]}
    for t in TARGET["custom_activity_types"]
]


async def attempt(sim: Harness, method: str, path: str, body: Any = None) -> str:
    """The status as text, or "dropped" when the connection closed without an answer."""
    try:
        return str((await sim.call(method, path, body, key=TARGET_KEY)).status)
    except aiohttp.ServerDisconnectedError:
        return "dropped"


async def test_writes_can_fail_after_they_were_applied(make_sim: MakeSim) -> None:
    """At fault rate 1 every answer is an error, yet the after-apply faults changed the state."""
    sim = await make_sim(fault_rate=1.0, random_seed=7)
    outcomes = [
        await attempt(sim, "POST", f"custom_field/shared/{scf}/association/", body)
        for scf in FIELDS
        for body in BODIES
    ]
    stats = await sim.stats()
    state = await sim.state()
    created = sum(len(f["associations"]) for f in state["orgs"][1]["shared_custom_fields"])
    faults = stats["faults"]
    assert set(outcomes) <= {"500", "502", "503", "504", "dropped"}
    assert min(faults["before_apply"], faults["after_apply"], faults["dropped"]) >= 1
    assert faults["before_apply"] + faults["after_apply"] == len(outcomes)
    assert (
        created
        == faults["after_apply"]
        == stats["writes_applied"]["POST custom_field/shared/{scf_id}/association/"]
    )


async def test_fault_answers_mix_json_html_and_dropped_connections(make_sim: MakeSim) -> None:
    """Faults cover 500/502/503/504 and drops; gateway errors are HTML, not JSON."""
    sim = await make_sim(fault_rate=1.0, random_seed=3)
    outcomes = {await attempt(sim, "GET", "me/") for _ in range(40)}
    gateway = None
    while gateway is None:
        try:
            reply = await sim.call("GET", "role/", key=TARGET_KEY)
        except aiohttp.ServerDisconnectedError:
            continue
        gateway = reply if reply.status in (502, 504) else None
    assert outcomes == {"500", "502", "503", "504", "dropped"}
    assert gateway.headers["Content-Type"].startswith("text/html")


async def test_the_same_random_seed_gives_the_same_faults(make_sim: MakeSim) -> None:
    """Two simulators with one random seed fail the same requests the same way."""
    runs = []
    for _ in range(2):
        sim = await make_sim(fault_rate=0.5, random_seed=11)
        runs.append([await attempt(sim, "GET", "me/") for _ in range(20)])
    assert runs[0] == runs[1]
    assert "200" in runs[0]
    assert len(set(runs[0])) > 1


async def test_a_partial_fault_rate_faults_about_that_share(make_sim: MakeSim) -> None:
    """At fault rate 0.2 roughly a fifth of the requests fail and the rest are served."""
    sim = await make_sim(fault_rate=0.2, random_seed=5)
    outcomes = [await attempt(sim, "GET", "me/") for _ in range(200)]
    assert 20 <= sum(o != "200" for o in outcomes) <= 60


async def test_the_control_endpoints_never_fault(make_sim: MakeSim) -> None:
    """`/_sim/*` answers normally even at fault rate 1."""
    sim = await make_sim(fault_rate=1.0)
    statuses = [(await sim.call("GET", "/_sim/state", key=None)).status for _ in range(10)]
    assert statuses == [200] * 10


def test_reads_are_never_faulted_after_applying() -> None:
    """Only writes get after-apply faults; a read's fault is always before."""
    rng = random.Random(1)
    faults = [pick_fault(rng, 1.0, is_write=False) for _ in range(500)]
    assert {f.after_apply for f in faults if f is not None} == {False}


def test_writes_get_both_timings_and_all_kinds() -> None:
    """Writes see faults before and after applying, of every kind including drops."""
    rng = random.Random(1)
    faults = [pick_fault(rng, 1.0, is_write=True) for _ in range(500)]
    assert {f.after_apply for f in faults if f is not None} == {False, True}
    assert {f.status for f in faults if f is not None} == {500, 502, 503, 504, DROP}


def test_fault_rate_zero_never_faults() -> None:
    """With fault rate 0 no request is faulted."""
    rng = random.Random(1)
    assert [pick_fault(rng, 0.0, is_write=True) for _ in range(100)] == [None] * 100
