"""`/api/v1/...`: latency, auth, routing, rate limit, faults, then the SCF operation.

Hot path per request: one path split, one dict lookup for the credentials, two dict entries for
the rate limit, one for the operation. No logging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from scf_batch.sim import routes, scf
from scf_batch.sim.faults import BODIES, Fault, pick_fault
from scf_batch.sim.ratelimit import Verdict, body_429, header_value, retry_after
from scf_batch.sim.replies import error_response, json_response, read_body
from scf_batch.sim.scf import ApiError
from scf_batch.sim.simulator import Principal, Simulator
from scf_batch.sim.store import AssocKey, Org

API_PREFIX = "/api/v1/"
WRITES = routes.WRITE_METHODS


async def handle_api(request: web.BaseRequest, sim: Simulator, tail: str) -> web.StreamResponse:
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
            group,
            principal[1],
            principal[0].id,
            per_second=config.rate_limit,
            window_s=config.rate_window_s,
            now=sim.clock(),
        )
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
    request: web.BaseRequest, sim: Simulator, tail: str
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


async def run_operation(request: web.BaseRequest, call: Call, group: str) -> web.Response:
    """Parse the body, run the operation, count applied writes; errors become Close's bodies."""
    method = request.method
    try:
        if method in ("POST", "PUT"):
            call.body = await read_body(request)
        elif request.query_string:
            call.query = dict(request.query)
        status, payload = OPERATIONS[method, call.route.template](call)
    except ApiError as exc:
        return json_response(exc.status, exc.body)
    if method in WRITES:
        call.sim.stats.writes_applied[group] += 1
    return json_response(status, payload)


def _list(items: Callable[[Org], dict[str, dict[str, Any]]], **kw: bool) -> Operation:
    return lambda c: scf.list_lookups(items(c.org), c.org, c.query, **kw)


Operation = Callable[[Call], scf.Reply]
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", routes.FIELDS): lambda c: scf.list_fields(c.org, c.query),
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
    ("GET", routes.SCHEMA): lambda c: scf.get_schema(c.org, c.key),
    ("PUT", routes.SCHEMA): lambda c: scf.put_schema(c.org, c.key, c.body),
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
    request: web.BaseRequest, sim: Simulator, group: str, fault: Fault
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
