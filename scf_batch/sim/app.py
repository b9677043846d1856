"""The aiohttp application: one catch-all handler dispatches `/api/v1/...` (auth, rate limit,
faults, the SCF operations) and `/_sim/...` (control, no auth, never limited or faulted).

Hot path per API request: one path split, one dict lookup for the credentials, two dict entries
for the rate limit, one for the operation. No logging.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from scf_batch.sim import routes, scf
from scf_batch.sim.config import DEFAULT_SEED_PATH, SimConfig, check_values, with_changes
from scf_batch.sim.faults import BODIES, Fault, pick_fault
from scf_batch.sim.ratelimit import RateLimiter, Verdict, body_429, header_value, retry_after
from scf_batch.sim.scf import ApiError, invalid
from scf_batch.sim.seedgen import build_seed
from scf_batch.sim.stats import Stats
from scf_batch.sim.store import AssocKey, Org, load_orgs, read_seed

API_PREFIX = "/api/v1/"
CONTROL_PREFIX = "/_sim/"
JSON = "application/json"
WRITES = routes.WRITE_METHODS
AUTH_CACHE_SIZE = 10_000

Principal = tuple[Org, str]  # the org, and the key or token (the rate limit's key scope)


def load_seed(path: Path) -> dict[str, Any]:
    """The seed file; the default seed is rebuilt in memory when its file is not shipped."""
    if path == DEFAULT_SEED_PATH and not path.exists():
        return build_seed()
    return read_seed(path)


class Simulator:
    """The simulator's whole state: config, orgs, credentials, rate windows, stats, randomness."""

    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.seed = load_seed(config.seed_path)
        base = config.random_seed
        self.fault_rng = random.Random(None if base is None else f"{base}:faults")
        self.delay_rng = random.Random(None if base is None else f"{base}:latency")
        self.id_rng = random.Random(None if base is None else f"{base}:ids")
        self.limiter = RateLimiter()
        self.stats = Stats()
        self.orgs: list[Org] = []
        self.credentials: dict[tuple[str, str], Principal] = {}
        self.auth_cache: dict[str, Principal | None] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the seed: fresh orgs, no rate windows, zero stats (the config stays)."""
        self.orgs = load_orgs(self.seed)
        self.credentials = {}
        for org in self.orgs:
            self.credentials.update({("basic", key): (org, key) for key in org.api_keys})
            self.credentials.update({("bearer", tok): (org, tok) for tok in org.oauth_tokens})
        self.auth_cache = {}
        self.limiter.clear()
        self.stats = Stats()

    def authenticate(self, header: str | None) -> Principal | None:
        """The principal for an Authorization header (Basic key or Bearer token), cached."""
        if header is None:
            return None
        if header in self.auth_cache:
            return self.auth_cache[header]
        principal = self.credentials.get(_secret(header))
        if len(self.auth_cache) < AUTH_CACHE_SIZE:  # a flood of bad headers cannot grow it
            self.auth_cache[header] = principal
        return principal

    def delay_s(self) -> float:
        """This request's latency: the base plus uniform jitter in [0, jitter_ms]."""
        jitter = self.delay_rng.uniform(0, self.config.jitter_ms) if self.config.jitter_ms else 0
        return (self.config.latency_ms + jitter) / 1000


def _secret(header: str) -> tuple[str, str]:
    """("basic", API key) from `Basic base64(key:)` (any password is ignored) or ("bearer",
    token); ("", "") when the header is neither."""
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return scheme, value
    if scheme != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _colon, _password = decoded.partition(":")
    return scheme, user


SIM = web.AppKey("sim", Simulator)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer; None as payload means no body (204)."""
    if payload is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type=JSON, headers=headers
    )


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Close's non-validation error shape: `{"error": "..."}`."""
    return json_response(status, {"error": message}, headers)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Every request enters here: API, control, or an unknown URL."""
    path = request.path
    sim = request.app[SIM]
    if path.startswith(API_PREFIX):
        return await handle_api(request, sim, path[len(API_PREFIX) :])
    if path.startswith(CONTROL_PREFIX):
        return await handle_control(request, sim, path[len(CONTROL_PREFIX) :])
    sim.stats.served(routes.NO_ROUTE, "404")
    return error_response(404, f"no such URL: {path}")


# --- the API ------------------------------------------------------------------------------------


async def handle_api(request: web.Request, sim: Simulator, tail: str) -> web.StreamResponse:
    """Latency, auth, routing, rate limit, faults, then the operation."""
    config = sim.config
    if config.latency_ms or config.jitter_ms:
        await asyncio.sleep(sim.delay_s())
    admitted = admit(request, sim, tail)
    if isinstance(admitted, web.Response):
        return admitted
    principal, route, group = admitted
    verdict = None
    if config.rate_limit:
        verdict = sim.limiter.check(
            group, principal[1], principal[0].id,
            per_second=config.rate_limit, window_s=config.rate_window_s, now=sim.clock(),
        )  # fmt: skip
        if not verdict.allowed:
            return rate_limited(sim, group, verdict)
    fault = pick_fault(sim.fault_rng, config.fault_rate, is_write=request.method in WRITES)
    if fault is not None and not fault.after_apply:
        return serve_fault(request, sim, group, fault)
    response = await run_operation(request, Call(sim, principal[0], route), group)
    if fault is not None:
        return serve_fault(request, sim, group, fault)
    if verdict is not None:
        value = header_value(verdict, config.header_style)
        if value is not None:
            response.headers["RateLimit"] = value
    sim.stats.served(group, str(response.status))
    return response


def admit(
    request: web.Request, sim: Simulator, tail: str
) -> web.Response | tuple[Principal, routes.Route, str]:
    """Credentials, then URL, then method: the principal, route and group, or the refusal."""
    method = request.method
    route = routes.resolve(tail)
    group = routes.NO_ROUTE if route is None else routes.GROUPS.get((method, route.template))
    principal = sim.authenticate(request.headers.get("Authorization"))
    if principal is None:
        sim.stats.served(group or routes.NO_ROUTE, "401")
        return error_response(401, "Unauthorized")
    if route is None:
        sim.stats.served(routes.NO_ROUTE, "404")
        return error_response(404, f"no such URL: {API_PREFIX}{tail}")
    if group is None:
        allowed = ", ".join(routes.METHODS[route.template])
        sim.stats.served(f"{method} {route.template}", "405")
        return error_response(405, f"method {method} not allowed", {"Allow": allowed})
    return principal, route, group


@dataclass(slots=True)
class Call:
    """One API call's inputs, handed to its operation."""

    sim: Simulator
    org: Org
    route: routes.Route
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> AssocKey:
        """The association named by the URL (only routes with `{object_type}` carry one)."""
        assert self.route.association is not None
        return self.route.association

    @property
    def user(self) -> str:
        """Who the change is recorded as (`updated_by`)."""
        return self.org.user_id


async def run_operation(request: web.Request, call: Call, group: str) -> web.Response:
    """Parse the body, run the operation, count applied writes; errors become Close's bodies."""
    method = request.method
    try:
        if method in ("POST", "PUT"):
            call.body = await read_body(request)
        call.query = dict(request.query)
        status, payload = OPERATIONS[method, call.route.template](call)
    except ApiError as exc:
        return json_response(exc.status, exc.body)
    if method in WRITES:
        call.sim.stats.writes_applied[group] += 1
    return json_response(status, payload)


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object sent; empty means `{}`; 415 for another content type, 400 if malformed."""
    raw = await request.read()
    if not raw.strip():
        return {}
    if request.content_type != JSON:
        raise ApiError(415, {"error": f"Content-Type must be {JSON}"})
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, {"error": f"Invalid JSON: {exc}"}) from exc
    if not isinstance(data, dict):
        raise invalid({}, ["the request body must be a JSON object"])
    return data


def _list(items: Callable[[Org], dict[str, dict[str, Any]]], **kw: bool) -> Operation:
    return lambda c: scf.page(scf.with_org(items(c.org), c.org), c.query, **kw)


Operation = Callable[[Call], scf.Reply]
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", routes.FIELDS): lambda c: scf.page(
        [f.to_json() for f in c.org.fields.values()], c.query
    ),
    ("POST", routes.FIELDS): lambda c: scf.create_field(c.org, c.body, c.user, c.sim.id_rng),
    ("GET", routes.FIELD): lambda c: (200, scf.find_field(c.org, c.route.scf_id).to_json()),
    ("PUT", routes.FIELD): lambda c: scf.update_field(c.org, c.route.scf_id, c.body, c.user),
    ("DELETE", routes.FIELD): lambda c: scf.delete_field(c.org, c.route.scf_id),
    ("POST", routes.ASSOCIATIONS): lambda c: scf.associate(c.org, c.route.scf_id, c.body, c.user),
    ("GET", routes.ASSOCIATION): lambda c: scf.get_association(c.org, c.route.scf_id, c.key),
    ("PUT", routes.ASSOCIATION): lambda c: scf.update_association(
        c.org, c.route.scf_id, c.key, c.body, c.user
    ),
    ("DELETE", routes.ASSOCIATION): lambda c: scf.delete_association(
        c.org, c.route.scf_id, c.key, c.user
    ),
    ("GET", routes.ME): lambda c: scf.me(c.org),
    ("GET", routes.ROLES): _list(lambda org: org.roles),
    ("GET", routes.ACTIVITY_TYPES): _list(lambda org: org.activity_types),
    # the one list that omits `has_more` on its last page, as Close's does [obs]
    ("GET", routes.OBJECT_TYPES): _list(lambda org: org.object_types, has_more_key=False),
}


def rate_limited(sim: Simulator, group: str, verdict: Verdict) -> web.Response:
    """The 429: `Retry-After` always, `RateLimit` unless the style is `none`, body per style."""
    config = sim.config
    headers = {"Retry-After": retry_after(verdict)}
    value = header_value(verdict, config.header_style)
    if value is not None:
        headers["RateLimit"] = value
    body, content_type = body_429(verdict, group, config.rate_window_s, config.body_style)
    sim.stats.rate_limited += 1
    sim.stats.served(group, "429")
    return web.Response(status=429, body=body, content_type=content_type, headers=headers)


def serve_fault(
    request: web.Request, sim: Simulator, group: str, fault: Fault
) -> web.StreamResponse:
    """Answer with the injected failure, or close the connection without an answer."""
    sim.stats.faults["after_apply" if fault.after_apply else "before_apply"] += 1
    sim.stats.served(group, fault.stat_status)
    if fault.dropped:
        sim.stats.faults["dropped"] += 1
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)  # never reaches the client: the transport is closed
    content_type, body = BODIES[fault.status]
    return web.Response(status=fault.status, body=body, content_type=content_type)


# --- control endpoints --------------------------------------------------------------------------


async def handle_control(request: web.Request, sim: Simulator, name: str) -> web.Response:
    """`/_sim/state`, `/_sim/stats`, `/_sim/reset`, `/_sim/config`: no auth, no limits."""
    handler = CONTROLS.get((request.method, name))
    if handler is not None:
        return await handler(request, sim)
    if any(name == known for _, known in CONTROLS):
        return error_response(405, f"method {request.method} not allowed")
    return error_response(404, f"no such URL: {CONTROL_PREFIX}{name}")


async def show_state(_request: web.Request, sim: Simulator) -> web.Response:
    """Every org as the seed spells it, with the current fields and associations."""
    return json_response(200, {"orgs": [org.to_json() for org in sim.orgs]})


async def show_stats(_request: web.Request, sim: Simulator) -> web.Response:
    """Counts by group and status, 429s, faults, applied writes."""
    return json_response(200, sim.stats.to_json())


async def show_config(_request: web.Request, sim: Simulator) -> web.Response:
    """The live settings."""
    return json_response(200, sim.config.live())


async def reset(_request: web.Request, sim: Simulator) -> web.Response:
    """Back to the seed, zero stats."""
    sim.reset()
    return json_response(200, {})


async def configure(request: web.Request, sim: Simulator) -> web.Response:
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


Control = Callable[[web.Request, Simulator], Awaitable[web.Response]]
CONTROLS: dict[tuple[str, str], Control] = {
    ("GET", "state"): show_state,
    ("GET", "stats"): show_stats,
    ("POST", "reset"): reset,
    ("GET", "config"): show_config,
    ("POST", "config"): configure,
}


def create_app(
    config: SimConfig, *, clock: Callable[[], float] = time.monotonic
) -> web.Application:
    """The simulator as an aiohttp application; `clock` drives the rate-limit windows."""
    app = web.Application()
    app[SIM] = Simulator(config, clock)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


@asynccontextmanager
async def running(config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the simulator in the current event loop; yields its base URL `.../api/v1/`."""
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        yield f"http://{host}:{bound_port}{API_PREFIX}"
    finally:
        await runner.cleanup()
