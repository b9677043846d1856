"""Fixtures: the simulator in-process on aiohttp's TestServer, with a clock the test drives."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from scf_batch.sim import SimConfig, create_app
from scf_batch.sim.app import SIM
from scf_batch.sim.seedgen import build_seed
from scf_batch.sim.simulator import Simulator

SOURCE_KEY = "api_source_key_1"
SOURCE_KEY_2 = "api_source_key_2"
SOURCE_TOKEN = "oauth_source_token_1"
TARGET_KEY = "api_target_key_1"
SEED = build_seed()
SOURCE, TARGET = SEED["orgs"]


def basic(key: str) -> str:
    """The Authorization header for an API key: Basic, key as user name, empty password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def by_name(org: dict[str, Any], kind: str, name: str) -> str:
    """The id of a seed object (roles, custom_activity_types, ...) by its name."""
    return next(str(item["id"]) for item in org[kind] if item["name"] == name)


def association_targets(activity: str, object_type: str) -> list[tuple[dict[str, str], str]]:
    """Each kind of target in the target org, as (POST body without roles/required, the URL
    segment of its association); the custom types by name."""
    activity_id = by_name(TARGET, "custom_activity_types", activity)
    object_id = by_name(TARGET, "custom_object_types", object_type)
    return [
        ({"object_type": "lead"}, "lead"),
        ({"object_type": "contact"}, "contact"),
        ({"object_type": "opportunity"}, "opportunity"),
        (
            {"object_type": "custom_activity_type", "custom_activity_type_id": activity_id},
            f"custom_activity_type/{activity_id}",
        ),
        (
            {"object_type": "custom_object_type", "custom_object_type_id": object_id},
            f"custom_object_type/{object_id}",
        ),
    ]


def field_id(org: dict[str, Any], name: str) -> str:
    """The id of a seed shared custom field by its name."""
    return by_name(org, "shared_custom_fields", name)


class FakeClock:
    """Monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]


@dataclass
class Harness:
    """A client for one in-process simulator."""

    client: TestClient[Any, Any]
    clock: FakeClock

    @property
    def sim(self) -> Simulator:
        simulator: Simulator = self.client.app[SIM]
        return simulator

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = SOURCE_KEY,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Reply:
        """One request; `path` is relative to /api/v1/ unless it starts with `/`."""
        url = path if path.startswith("/") else "/api/v1/" + path
        sent = dict(headers or {})
        if key is not None:
            sent.setdefault("Authorization", basic(key))
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        async with self.client.request(method, url, data=data, headers=sent) as response:
            raw = await response.read()
            parsed: Any = raw.decode()
            if response.content_type == "application/json":
                parsed = json.loads(raw)
            return Reply(response.status, parsed, response.headers)

    async def state(self) -> dict[str, Any]:
        """The `/_sim/state` body."""
        reply = await self.call("GET", "/_sim/state", key=None)
        result: dict[str, Any] = reply.body
        return result

    async def stats(self) -> dict[str, Any]:
        """The `/_sim/stats` body."""
        reply = await self.call("GET", "/_sim/stats", key=None)
        result: dict[str, Any] = reply.body
        return result


MakeSim = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """A factory: `await make_sim(rate_limit=2)` starts a simulator with that config."""
    async with AsyncExitStack() as stack:

        async def make(**config: Any) -> Harness:
            clock = FakeClock()
            app = create_app(SimConfig(**config), clock=clock)
            client: TestClient[Any, Any] = TestClient(TestServer(app))
            await client.start_server()
            stack.push_async_callback(client.close)
            return Harness(client, clock)

        yield make


@pytest.fixture
async def sim(make_sim: MakeSim) -> Harness:
    """A simulator with the default seed, no rate limit, no faults."""
    return await make_sim()


@pytest.fixture
def seed_with_keys(tmp_path: Path) -> Callable[[int], Path]:
    """Write a seed whose source org has `n` API keys (for the org scope)."""

    def write(n: int) -> Path:
        seed = build_seed()
        seed["orgs"][0]["api_keys"] = [f"api_source_key_{i}" for i in range(1, n + 1)]
        path = tmp_path / "seed.json"
        path.write_text(json.dumps(seed))
        return path

    return write
