"""The in-process API the demo uses: `running()` serves in the current loop; `SimConfig` checks
its values."""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp
import pytest

from scf_batch.sim import SimConfig, running


@pytest.mark.anyio
async def test_running_serves_on_a_free_port_and_stops_on_exit() -> None:
    """`running()` yields the base URL of a live server and closes it when the block ends."""
    auth = {"Authorization": "Basic " + base64.b64encode(b"api_source_key_1:").decode()}
    async with aiohttp.ClientSession(headers=auth) as session:
        async with running(SimConfig()) as base_url, session.get(base_url + "me/") as response:
            status, body = response.status, await response.json()
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(base_url + "me/")
    assert base_url.startswith("http://127.0.0.1:")
    assert base_url.endswith("/api/v1/")
    assert (status, body["organizations"][0]["name"]) == (200, "Acme Source")


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_limit": -1},
        {"rate_window_s": 0.0},
        {"fault_rate": 1.01},
        {"latency_ms": -1.0},
        {"header_style": "colon"},
        {"body_style": "json"},
    ],
)
def test_sim_config_rejects_out_of_range_values(bad: dict[str, object]) -> None:
    """An invalid setting raises ValueError naming it."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        SimConfig(**bad)  # type: ignore[arg-type]


def test_sim_config_defaults() -> None:
    """The defaults: everything off, comma header, legacy body, the shipped seed."""
    config = SimConfig()
    assert config.live() == {
        "rate_limit": 0, "rate_window_s": 1.0, "latency_ms": 0, "jitter_ms": 0,
        "fault_rate": 0, "header_style": "comma", "body_style": "legacy",
    }  # fmt: skip
    assert config.seed_path == Path(__file__).parents[2] / "data" / "sim" / "seed.json"
