"""`/_sim/...`: state, stats, reset and live config. No auth, never limited or faulted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from scf_batch.sim.config import check_values, with_changes
from scf_batch.sim.replies import error_response, json_response, read_body
from scf_batch.sim.scf import ApiError
from scf_batch.sim.simulator import Simulator

CONTROL_PREFIX = "/_sim/"


async def handle_control(request: web.BaseRequest, sim: Simulator, name: str) -> web.Response:
    """`/_sim/state`, `/_sim/stats`, `/_sim/reset`, `/_sim/config`: no auth, no limits."""
    handler = CONTROLS.get((request.method, name))
    if handler is not None:
        return await handler(request, sim)
    if any(name == known for _, known in CONTROLS):
        return error_response(405, f"method {request.method} not allowed")
    return error_response(404, f"no such URL: {CONTROL_PREFIX}{name}")


async def show_state(_request: web.BaseRequest, sim: Simulator) -> web.Response:
    """Every org as the seed spells it, with the current fields and associations."""
    return json_response(200, {"orgs": [org.to_json() for org in sim.orgs]})


async def show_stats(_request: web.BaseRequest, sim: Simulator) -> web.Response:
    """Counts by group and status, 429s, faults, applied writes."""
    return json_response(200, sim.stats.to_json())


async def show_config(_request: web.BaseRequest, sim: Simulator) -> web.Response:
    """The live settings."""
    return json_response(200, sim.config.live())


async def reset(_request: web.BaseRequest, sim: Simulator) -> web.Response:
    """Back to the seed, zero stats."""
    sim.reset()
    return json_response(200, {})


async def configure(request: web.BaseRequest, sim: Simulator) -> web.Response:
    """Apply a JSON object of live settings at once, or none of them (400 with field errors)."""
    try:
        changes = await read_body(request)
    except ApiError as exc:
        return json_response(exc.status, exc.body)
    errors = check_values(changes)
    if errors:
        return json_response(400, {"errors": [], "field-errors": errors})
    sim.config = with_changes(sim.config, changes)
    return json_response(200, sim.config.live())


Control = Callable[[web.BaseRequest, Simulator], Awaitable[web.Response]]
CONTROLS: dict[tuple[str, str], Control] = {
    ("GET", "state"): show_state,
    ("GET", "stats"): show_stats,
    ("POST", "reset"): reset,
    ("GET", "config"): show_config,
    ("POST", "config"): configure,
}
