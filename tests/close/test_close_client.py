"""CloseClient against small hand-written aiohttp servers answering exactly what a test needs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scf_batch.close.client import (
    GROUP_CREATE_ASSOCIATION,
    GROUP_GET_ASSOCIATION,
    GROUP_GET_FIELD,
    CloseClient,
    Response,
    open_client,
)
from scf_batch.close.credentials import Credentials
from scf_batch.close.inflight import InFlightLimit
from scf_batch.close.pacer import Pacer
from scf_batch.errors import (
    ApiError,
    AuthError,
    CloseError,
    NetworkError,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    ServerRefusing,
    TransientError,
    UsageError,
)
from scf_batch.models import ObjectType, Target

pytestmark = pytest.mark.anyio

API_KEY = "api_SECRETkey0123456789"
SCF = "cf_abc"
LEAD = Target(ObjectType.LEAD)
ACTIVITY = Target(ObjectType.CUSTOM_ACTIVITY_TYPE, "actitype_1")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it, with its arrival time on the loop's clock."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[tuple[str, list[Seen]]]:
    """A test server under /api/v1/ that records every request, then lets `handler` answer."""
    seen: list[Seen] = []

    async def entry(request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v1/")
        query = dict(request.query)
        seen.append(Seen(request.method, path, query, dict(request.headers), anyio.current_time()))
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/api/v1/{tail:.*}", entry)
    async with TestServer(app) as server:
        yield str(server.make_url("/api/v1/")), seen


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    """A handler answering every request with the same status, JSON body and headers."""

    async def handle(_: web.Request) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return handle


@asynccontextmanager
async def client_for(
    handler: Handler, **options: Any
) -> AsyncIterator[tuple[CloseClient, list[Seen]]]:
    """A client on a fresh test server; a high default rate so pacing stays out of the way."""
    options.setdefault("rate_per_s", 1000.0)
    async with (
        serve(handler) as (url, seen),
        open_client(url, Credentials.api_key(API_KEY), **options) as client,
    ):
        yield client, seen


async def test_auth_header_is_basic_with_the_key_and_an_empty_password() -> None:
    """Every request carries `Basic base64(key + ":")`, JSON Accept and a scf-batch User-Agent."""
    async with client_for(reply(200, {"id": SCF})) as (client, seen):
        await client.get_field(SCF)
    scheme, token = seen[0].headers["Authorization"].split(" ")
    assert ("Basic", f"{API_KEY}:") == (scheme, base64.b64decode(token).decode())
    assert seen[0].headers["Accept"] == "application/json"
    assert seen[0].headers["User-Agent"].startswith("scf-batch/")


async def test_create_association_posts_the_body_and_accepts_the_201_object() -> None:
    """create_association POSTs to the association route; a 201 object is its success."""
    created = {"object_type": "lead", "editable_with_roles": [], "required": False}
    bodies: list[Any] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return web.json_response(created, status=201)

    async with client_for(handle) as (client, seen):
        await client.create_association(SCF, {"object_type": "lead"})
    assert [("POST", f"custom_field/shared/{SCF}/association/")] == [
        (s.method, s.path) for s in seen
    ]
    assert bodies == [{"object_type": "lead"}]
    assert client.stats.requests_by_group[GROUP_CREATE_ASSOCIATION] == 1


async def test_custom_type_targets_use_two_path_segments() -> None:
    """A custom activity type target is addressed as `.../custom_activity_type/<id>/`."""
    async with client_for(reply(200, {"object_type": "custom_activity_type"})) as (client, seen):
        await client.get_association(SCF, ACTIVITY)
        await client.update_association(SCF, ACTIVITY, {"required": True})
    expected = f"custom_field/shared/{SCF}/association/custom_activity_type/actitype_1/"
    assert [("GET", expected), ("PUT", expected)] == [(s.method, s.path) for s in seen]
    assert client.stats.requests_by_group[GROUP_GET_ASSOCIATION] == 1


async def test_delete_association_accepts_204_without_a_body() -> None:
    """delete_association returns None on a 204 with an empty body."""
    async with client_for(reply(204)) as (client, seen):
        await client.delete_association(SCF, LEAD)
    assert seen[0].method == "DELETE"


async def test_a_404_reads_as_none_for_field_and_association() -> None:
    """get_field and get_association return None when Close answers 404."""
    async with client_for(reply(404, {"error": "Not found"})) as (client, _):
        assert await client.get_field(SCF) is None
        assert await client.get_association(SCF, LEAD) is None


async def test_a_400_carries_close_field_errors() -> None:
    """A 400 becomes ApiError with Close's `field-errors` as a dict."""
    body = {"errors": [], "field-errors": {"object_type": "already associated"}}
    async with client_for(reply(400, body)) as (client, _):
        with pytest.raises(ApiError) as caught:
            await client.create_association(SCF, {"object_type": "lead"})
    assert (
        caught.value.status,
        caught.value.field_errors,
    ) == (400, {"object_type": "already associated"})


@pytest.mark.parametrize("status", [401, 402, 403])
async def test_credential_and_plan_refusals_are_auth_errors(status: int) -> None:
    """401, 402 and 403 raise AuthError, which the runner treats as "stop the run"."""
    async with client_for(reply(status, {"error": "Unauthorized"})) as (client, _):
        with pytest.raises(AuthError) as caught:
            await client.get_association(SCF, LEAD)
    assert status == caught.value.status


async def test_a_5xx_with_a_non_json_body_is_a_server_error() -> None:
    """A 500 answered in HTML raises ServerError carrying an excerpt of the text."""

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="<html>oops</html>", content_type="text/html")

    async with client_for(handle) as (client, _):
        with pytest.raises(ServerError) as caught:
            await client.get_field(SCF)
    assert (caught.value.status, caught.value.body) == (500, "<html>oops</html>")


async def test_a_2xx_with_a_non_json_body_does_not_crash_request() -> None:
    """request() returns body None for a 2xx whose body is not JSON."""

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(status=200, text="not json")

    async with client_for(handle) as (client, _):
        resp = await client.request("GET", "me/", group="GET me/")
    assert (resp.status, resp.body) == (200, None)


async def test_list_all_follows_has_more_with_skip_and_limit() -> None:
    """list_all pages with _skip/_limit until has_more is false and concatenates the data."""

    async def handle(request: web.Request) -> web.StreamResponse:
        skip = int(request.query["_skip"])
        data = [{"id": f"role_{i}"} for i in range(skip, min(skip + 100, 250))]
        return web.json_response({"data": data, "has_more": skip + 100 < 250})

    async with client_for(handle) as (client, seen):
        roles = await client.list_all("role/")
    assert [f"role_{i}" for i in range(250)] == [r["id"] for r in roles]
    assert [(s.query["_skip"], s.query["_limit"]) for s in seen] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]
    assert client.stats.requests_by_group["GET role/"] == 3


async def test_list_all_stops_when_has_more_is_absent() -> None:
    """A list without `has_more` is a single page."""
    async with client_for(reply(200, {"data": [{"id": "cotype_1"}]})) as (client, seen):
        types = await client.list_all("custom_object_type/")
    assert (types, len(seen)) == ([{"id": "cotype_1"}], 1)


async def test_list_all_retries_a_transient_page_failure() -> None:
    """list_all replays a page that met a 503, since reads are safe to replay."""
    calls = 0

    async def handle(_: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(status=503)
        return web.json_response({"data": [{"id": "role_1"}], "has_more": False})

    async with client_for(handle) as (client, _):
        roles = await client.list_all("role/")
    assert (roles, calls) == ([{"id": "role_1"}], 2)


async def test_list_all_rejects_a_body_without_a_data_list() -> None:
    """A list answer whose `data` is not a list of objects raises CloseError, not TypeError."""
    async with client_for(reply(200, {"data": "nope"})) as (client, _):
        with pytest.raises(CloseError):
            await client.list_all("role/")


@pytest.mark.parametrize(
    ("headers", "body", "expected_s"),
    [
        ({"RateLimit": "limit=10, remaining=0, reset=0.25", "Retry-After": "1"}, None, 0.25),
        ({"RateLimit": "limit=10; remaining=0; reset=0.5"}, None, 0.5),
        ({"Retry-After": "2"}, None, 2.0),
        ({}, {"error": {"rate_reset": 0.13}}, 0.13),
        ({}, None, None),
    ],
    ids=["ratelimit-comma", "ratelimit-semicolon", "retry-after", "legacy-body", "none"],
)
async def test_a_429_raises_rate_limited_with_the_best_hint(
    headers: dict[str, str], body: Any, expected_s: float | None
) -> None:
    """A 429 raises RateLimited with RateLimit reset, else Retry-After, else the body's reset."""
    async with client_for(reply(429, body, headers)) as (client, _):
        with pytest.raises(RateLimited) as caught:
            await client.get_association(SCF, LEAD)
    assert expected_s == caught.value.retry_after_s
    assert (client.stats.rate_limited, client.pacer.pauses[GROUP_GET_ASSOCIATION]) == (1, 1)


async def test_a_429_from_the_edge_with_a_text_body_pauses_for_the_default() -> None:
    """A bare 429 with a text body gives no hint and pauses the group for the default 5 s."""
    clock = [100.0]
    pacer = Pacer(1000.0, clock=lambda: clock[0])

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(status=429, text="Too Many Requests")

    async with client_for(handle, pacer=pacer) as (client, _):
        with pytest.raises(RateLimited) as caught:
            await client.get_association(SCF, LEAD)
    assert (caught.value.retry_after_s, pacer.delay_s(GROUP_GET_ASSOCIATION)) == (None, 5.0)


async def test_a_dropped_connection_is_a_network_error() -> None:
    """A server that closes the connection without answering raises NetworkError."""

    async def handle(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response(status=200)

    async with client_for(handle) as (client, _):
        with pytest.raises(NetworkError) as caught:
            await client.create_association(SCF, {"object_type": "lead"})
    assert "may have been applied" in str(caught.value)
    assert client.stats.requests == 1


async def test_a_slow_answer_times_out_as_a_network_error() -> None:
    """A server slower than timeout_s raises NetworkError saying the request may have landed."""
    release = asyncio.Event()

    async def handle(_: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=200)

    try:
        async with client_for(handle, timeout_s=0.2) as (client, _):
            with pytest.raises(NetworkError) as caught:
                await client.get_field(SCF)
    finally:
        release.set()
    assert "timed out" in str(caught.value)


async def test_a_body_trickling_past_the_timeout_times_out_too() -> None:
    """The timeout bounds the whole exchange: headers at once, then a body that never ends
    within timeout_s, is a NetworkError, not a wait as long as the server likes."""
    release = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"id": ')
        await release.wait()
        return response

    try:
        async with client_for(handle, timeout_s=0.3) as (client, _):
            with pytest.raises(NetworkError) as caught:
                await client.get_field(SCF)
    finally:
        release.set()
    assert "timed out" in str(caught.value)


async def test_the_api_key_appears_in_no_repr_or_message() -> None:
    """Neither the key nor its Basic token shows in reprs, errors, tracebacks or responses."""
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    texts: list[str] = []
    async with client_for(reply(401, {"error": "Unauthorized"})) as (client, _):
        texts += [repr(client), str(client.stats), repr(client.pacer)]
        with pytest.raises(AuthError) as caught:
            await client.get_field(SCF)
        texts += [str(caught.value), repr(caught.value), repr(caught.value.body)]
    async with client_for(reply(200, {"ok": True})) as (client, _):
        resp = await client.request("GET", "me/", group="GET me/")
        texts += [repr(resp), str(resp)]

    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    async with client_for(drop) as (client, _):
        with pytest.raises(NetworkError) as dropped:
            await client.get_field(SCF)
    texts += traceback.format_exception(dropped.value)
    assert isinstance(resp, Response)
    leaks = [text for text in texts if API_KEY in text or token in text]
    assert leaks == []


async def test_a_rate_limit_header_on_a_success_slows_the_group() -> None:
    """A 2xx saying remaining=0 for 3 s holds the group's next request for 3 s."""
    clock = [50.0]
    pacer = Pacer(1000.0, clock=lambda: clock[0])
    headers = {"RateLimit": "limit=10, remaining=0, reset=3"}
    async with client_for(reply(200, {"id": SCF}, headers), pacer=pacer) as (client, _):
        await client.get_field(SCF)
    assert (pacer.delay_s(GROUP_GET_FIELD), pacer.delay_s(GROUP_GET_ASSOCIATION)) == (3.0, 0.0)


async def test_one_group_is_paced_and_other_groups_are_not() -> None:
    """Six concurrent calls on one group arrive >= 1/R apart; six on six groups arrive together."""
    rate = 10.0
    async with client_for(reply(200, {}), rate_per_s=rate) as (client, seen):
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(partial(client.request, "GET", "me/", group="GET me/"))
        same_group = sorted(s.at for s in seen)
        seen.clear()
        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(partial(client.request, "GET", f"g{i}/", group=f"GET g{i}/"))
        other_groups = sorted(s.at for s in seen)
    gaps = [b - a for a, b in itertools.pairwise(same_group)]
    assert min(gaps) >= 0.8 / rate
    assert same_group[-1] - same_group[0] >= 5 / rate * 0.9
    assert other_groups[-1] - other_groups[0] < 2 / rate


async def test_a_429_pauses_concurrent_callers_of_the_same_group() -> None:
    """After a 429 with reset=0.6 a caller already waiting on that group is held until the reset,
    while a call on another group goes at once."""
    lead = f"custom_field/shared/{SCF}/association/lead/"
    field = f"custom_field/shared/{SCF}/"
    limited = False

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal limited
        if request.path.endswith("/association/lead/") and not limited:
            limited = True
            headers = {"RateLimit": "limit=1, remaining=0, reset=0.6", "Retry-After": "1"}
            return web.json_response({}, status=429, headers=headers)
        return web.json_response({})

    async def lead_then_field() -> None:
        with contextlib.suppress(RateLimited):
            await client.request("GET", lead, group=GROUP_GET_ASSOCIATION)
        await client.request("GET", field, group=GROUP_GET_FIELD)

    async with (
        client_for(handle, rate_per_s=5.0) as (client, seen),
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(lead_then_field)
        tg.start_soon(lead_then_field)
    leads = [s.at for s in seen if s.path == lead]
    fields = [s.at for s in seen if s.path == field]
    # Without the pause the second lead call would go 1/R = 0.2 s after the first.
    assert leads[1] - leads[0] >= 0.6 * 0.9
    assert fields[0] - leads[0] < 0.2
    assert (client.stats.rate_limited, client.pacer.pauses[GROUP_GET_ASSOCIATION]) == (1, 1)


async def test_a_refused_connection_is_a_network_error() -> None:
    """Nothing listening on the port raises NetworkError, not an aiohttp exception."""
    async with serve(reply(200, {})) as (url, _):
        pass  # the server is gone once its block ends: its port now refuses connections
    async with open_client(url, Credentials.api_key(API_KEY)) as client:
        with pytest.raises(NetworkError, match="was not sent"):
            await client.get_field(SCF)


async def test_a_redirect_is_not_followed_and_says_where_it_pointed() -> None:
    """A 302 is not followed (the Authorization header goes nowhere else); its message names the
    Location and the fix, not "302: 302: Found"."""

    async def handle(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://elsewhere.invalid/api/")

    async with client_for(handle) as (client, seen):
        with pytest.raises(CloseError) as caught:
            await client.get_field(SCF)
    assert (type(caught.value), caught.value.status, len(seen)) == (CloseError, 302, 1)
    assert str(caught.value) == (
        f"GET custom_field/shared/{SCF}/: 302 redirect to http://elsewhere.invalid/api/ "
        "(not followed; check --base-url)"
    )


async def test_a_2xx_without_an_object_body_is_a_close_error() -> None:
    """An association call answered 201 with a non-object body raises CloseError."""

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(status=201, text="created")

    async with client_for(handle) as (client, _):
        with pytest.raises(CloseError, match="without a JSON object body"):
            await client.create_association(SCF, {"object_type": "lead"})


@pytest.mark.parametrize("base_url", ["api.close.com/api/v1/", "ftp://x/", ""])
async def test_open_client_refuses_a_base_url_that_is_not_http(base_url: str) -> None:
    """A base URL without an http(s) scheme and host is a usage error, before any request."""
    with pytest.raises(UsageError, match="base_url"):
        async with open_client(base_url, Credentials.api_key(API_KEY)):
            pass


async def test_stats_count_requests_and_429s_by_group_and_by_second() -> None:
    """ClientStats counts requests by group and, with 429s, by second (raw counts the report's
    timeline is built from)."""
    statuses = iter([200, 429, 404])

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=next(statuses))

    async with client_for(handle) as (client, _):
        await client.request("GET", "me/", group="GET me/")
        with pytest.raises(RateLimited):
            await client.request("GET", "me/", group="GET me/")
        await client.get_field(SCF)
    stats = client.stats
    assert (stats.requests, stats.rate_limited, dict(stats.requests_by_group)) == (
        3,
        1,
        {"GET me/": 2, GROUP_GET_FIELD: 1},
    )
    assert (dict(stats.requests_by_second), dict(stats.rate_limited_by_second)) == ({0: 3}, {0: 1})


# --- hostile servers: bounded bodies, scrubbed echoes, refusals, plain http -------------------

GIB = 1024**3
CHUNK = b"x" * 65536


def stream(status: int, total_bytes: int, sent: list[int], *, declare: bool = False) -> Handler:
    """A handler streaming `total_bytes` (chunked, or with Content-Length when `declare`) and
    recording in `sent` how many bytes it could write before the client hung up."""

    async def handle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status)
        if declare:
            resp.content_length = total_bytes
        written = 0
        try:
            await resp.prepare(request)
            while written < total_bytes:
                await resp.write(CHUNK)
                written += len(CHUNK)
        except ConnectionError:
            pass  # the client hung up: what this test wants
        finally:
            sent.append(written)
        return resp

    return handle


async def test_a_huge_streamed_body_fails_each_attempt_at_concurrency_8() -> None:
    """Eight concurrent reads of a 1 GiB chunked body each raise ResponseTooLarge (transient)
    at the cap, and every server stream is cut off long before its gigabyte."""
    sent: list[int] = []
    errors: list[BaseException] = []

    async def one(client: CloseClient) -> None:
        try:
            await client.get_field(SCF)
        except CloseError as exc:
            errors.append(exc)

    async with (
        client_for(stream(200, GIB, sent), max_body_bytes=256 * 1024) as (client, _),
        anyio.create_task_group() as tg,
    ):
        for _ in range(8):
            tg.start_soon(one, client)
    assert [type(e) for e in errors] == [ResponseTooLarge] * 8
    assert all(isinstance(e, TransientError) and e.status == 200 for e in errors)
    assert "larger than 262,144 bytes" in str(errors[0])
    assert len(sent) == 8
    assert max(sent) < GIB // 16


async def test_a_declared_oversized_201_is_refused_unread_and_says_it_was_applied() -> None:
    """A 201 whose Content-Length passes the cap fails at once as ResponseTooLarge with status
    201, saying the write was applied (the retry's read confirms the outcome)."""
    sent: list[int] = []
    async with client_for(stream(201, GIB, sent, declare=True), max_body_bytes=1024) as (
        client,
        _,
    ):
        with pytest.raises(ResponseTooLarge) as caught:
            await client.create_association(SCF, {"object_type": "lead"})
    assert caught.value.status == 201
    assert str(caught.value).endswith("the request was applied")


@pytest.mark.parametrize(("extra", "fails"), [(0, False), (1, True)])
async def test_the_cap_is_inclusive(extra: int, fails: bool) -> None:
    """A body of exactly max_body_bytes is read; one byte more fails the attempt."""
    body = json.dumps({"id": SCF, "pad": "y" * 1000}).encode()

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(body=body + b" " * extra, content_type="application/json")

    async with client_for(handle, max_body_bytes=len(body)) as (client, _):
        if fails:
            with pytest.raises(ResponseTooLarge):
                await client.get_field(SCF)
        else:
            assert (await client.get_field(SCF) or {}).get("id") == SCF


async def test_an_oversized_429_is_still_rate_limited_by_its_headers() -> None:
    """A 429 with a huge body is read by its headers: RateLimited with the Retry-After hint."""

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(status=429, body=b"z" * 5000, headers={"Retry-After": "2"})

    async with client_for(handle, max_body_bytes=1000) as (client, _):
        with pytest.raises(RateLimited) as caught:
            await client.get_field(SCF)
    assert caught.value.retry_after_s == 2.0


async def test_a_hostile_deeply_nested_json_body_is_not_a_traceback() -> None:
    """A 2xx body nested 100,000 deep reads as "not JSON" (CloseError), not RecursionError."""

    async def handle(_: web.Request) -> web.StreamResponse:
        return web.Response(body=b"[" * 100_000, content_type="application/json")

    async with client_for(handle) as (client, _):
        with pytest.raises(CloseError, match="without a JSON object body"):
            await client.get_field(SCF)


def key_forms() -> list[str]:
    """The key as a hostile server could echo it: plain, Basic token, base64 of the key alone."""
    return [
        API_KEY,
        base64.b64encode(f"{API_KEY}:".encode()).decode().rstrip("="),
        base64.b64encode(API_KEY.encode()).decode().rstrip("="),
    ]


def echo(status: int, *, as_text: bool = False) -> Handler:
    """A handler echoing the Authorization header and the decoded key back in its body."""

    async def handle(request: web.Request) -> web.StreamResponse:
        header = request.headers["Authorization"]
        decoded = base64.b64decode(header.split(" ")[1]).decode()
        key = decoded.removesuffix(":")
        raw_b64 = base64.b64encode(key.encode()).decode()
        body = {
            "error": f"bad key {key} sent as {header}",
            "errors": [decoded, raw_b64],
            "field-errors": {"auth": header, key: key},
        }
        if as_text:
            # The key straddles the 300-character excerpt cut: 9 of its characters before it.
            return web.Response(status=status, text=f"{'.' * 290} {key} {header} {raw_b64}")
        return web.json_response(body, status=status, headers={"Location": f"/x?k={key}"})

    return handle


def leaks(*values: Any) -> list[str]:
    texts = [repr(value) + json.dumps(value, default=repr) for value in values]
    return [form for form in key_forms() for text in texts if form in text]


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 302])
async def test_a_server_echoing_the_key_in_an_error_cannot_get_it_out(status: int) -> None:
    """Errors built from a body that echoes the key (plain, Basic, base64) carry it nowhere:
    not in str, repr, body nor field errors."""
    async with client_for(echo(status)) as (client, _):
        with pytest.raises(CloseError) as caught:
            await client.create_association(SCF, {"object_type": "lead"})
    error = caught.value
    assert error.status == status
    assert leaks(str(error), error.body, getattr(error, "field_errors", None)) == []
    assert "***" in str(error) + json.dumps(error.body)


async def test_a_text_error_body_echoing_the_key_across_the_excerpt_cut_leaks_nothing() -> None:
    """A text 400 putting the key around the 300-character excerpt cut leaves no part of it."""
    async with client_for(echo(400, as_text=True)) as (client, _):
        with pytest.raises(ApiError) as caught:
            await client.get_field(SCF)
    assert leaks(str(caught.value), caught.value.body) == []
    assert API_KEY[:8] not in str(caught.value.body)


async def test_a_2xx_body_echoing_the_key_is_scrubbed() -> None:
    """A successful answer echoing the key comes back with *** in its place."""
    async with client_for(echo(200)) as (client, _):
        resp = await client.request("GET", "me/", group="GET me/")
    assert leaks(resp.body) == []
    assert resp.body["field-errors"] == {"auth": "Basic ***", "***": "***"}


async def test_an_oauth_token_is_sent_as_bearer_and_scrubbed_from_echoes() -> None:
    """With OAuth credentials every request carries `Bearer token`; an echo of it is scrubbed."""
    token = "oa2_partner_TOKEN_0123456789"

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": request.headers["Authorization"]}, status=400)

    async with (
        serve(handle) as (url, seen),
        open_client(url, Credentials.oauth_token(token, "CLOSE_OAUTH_TOKEN")) as client,
    ):
        with pytest.raises(ApiError) as caught:
            await client.get_field(SCF)
    assert seen[0].headers["Authorization"] == f"Bearer {token}"
    assert str(caught.value) == f"GET custom_field/shared/{SCF}/: 400: Bearer ***"


async def test_a_429_asking_more_than_max_wait_raises_server_refusing() -> None:
    """Retry-After: 99999999 past max_wait_s=300 raises ServerRefusing (not transient) saying
    what was asked; the group is paused for the bound, not for the asked wait."""
    clock = [10.0]
    pacer = Pacer(1000.0, clock=lambda: clock[0])
    handler = reply(429, None, {"Retry-After": "99999999"})
    async with client_for(handler, pacer=pacer, max_wait_s=300.0) as (client, seen):
        with pytest.raises(ServerRefusing) as caught:
            await client.list_all("role/")
    error = caught.value
    assert not isinstance(error, TransientError)
    assert (error.wait_s, error.max_wait_s, error.group, error.status) == (
        99999999.0,
        300.0,
        "GET role/",
        429,
    )
    assert "429 asks to wait 99,999,999 s (about 1,157 days)" in str(error)
    assert "longer than a row may take (300 s)" in str(error)
    assert len(seen) == 1
    assert 0 < pacer.delay_s("GET role/") <= 300.0


async def test_a_429_within_max_wait_stays_rate_limited() -> None:
    """A 429 asking 2 s under max_wait_s=300 is the usual RateLimited."""
    async with client_for(reply(429, None, {"Retry-After": "2"}), max_wait_s=300.0) as (
        client,
        _,
    ):
        with pytest.raises(RateLimited) as caught:
            await client.get_field(SCF)
    assert caught.value.retry_after_s == 2.0


@pytest.mark.parametrize(
    "base_url", ["http://10.1.2.3/api/v1/", "http://api.close.com/api/v1/", "http://[fe80::1]/"]
)
async def test_plain_http_to_another_machine_is_refused(base_url: str) -> None:
    """http:// to a non-loopback host is a UsageError naming the URL and the fix."""
    with pytest.raises(UsageError) as caught:
        async with open_client(base_url, Credentials.api_key(API_KEY)):
            pass
    assert base_url in str(caught.value)
    assert "--allow-insecure-http" in str(caught.value)


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:1/api/v1/", "http://localhost:1/", "http://[::1]:1/"]
)
async def test_plain_http_to_loopback_is_allowed(base_url: str) -> None:
    """http:// to 127.0.0.0/8, ::1 or localhost opens a client."""
    async with open_client(base_url, Credentials.api_key(API_KEY)) as client:
        assert isinstance(client, CloseClient)


async def test_allow_insecure_http_lets_a_lab_through() -> None:
    """allow_insecure_http=True opens a client on http:// to another host."""
    async with open_client(
        "http://10.1.2.3/api/v1/", Credentials.api_key(API_KEY), allow_insecure_http=True
    ) as c:
        assert isinstance(c, CloseClient)


async def test_a_base_url_with_a_password_is_refused_without_showing_it() -> None:
    """A base URL holding user info is refused; the message shows the URL without it."""
    with pytest.raises(UsageError) as caught:
        async with open_client(
            "https://u:hunter2@api.close.com/api/v1/", Credentials.api_key(API_KEY)
        ):
            pass
    assert "hunter2" not in str(caught.value)
    assert "https://api.close.com/api/v1/" in str(caught.value)


async def test_open_client_refuses_a_non_close_variable_for_a_foreign_host() -> None:
    """Credentials from MY_DB_PASSWORD are not sent to a host that is neither Close nor loopback,
    even when the caller skipped read_credentials."""
    with pytest.raises(UsageError, match="MY_DB_PASSWORD: its name does not mark it"):
        async with open_client(
            "https://evil.example/api/", Credentials.api_key("hunter2", "MY_DB_PASSWORD")
        ):
            pass


async def test_an_in_flight_limit_gates_every_request_and_learns_its_latency() -> None:
    """With an InFlightLimit of 2, at most two requests are at the server at once, and each
    exchange's latency reaches the limit's estimate."""
    at_server = peak = 0

    async def handle(_: web.Request) -> web.StreamResponse:
        nonlocal at_server, peak
        at_server += 1
        peak = max(peak, at_server)
        await anyio.sleep(0.02)
        at_server -= 1
        return web.json_response({"id": SCF})

    limit = InFlightLimit(1000.0, max_in_flight=2, initial=2)
    async with (
        client_for(handle, in_flight=limit) as (client, seen),
        anyio.create_task_group() as group,
    ):
        for _ in range(8):
            group.start_soon(client.get_field, SCF)
    assert (len(seen), peak) == (8, 2)
    estimate = limit.latency_estimate_s()
    assert estimate is not None
    assert estimate >= 0.02


async def test_a_dropped_kept_alive_connection_is_not_resent_behind_our_back() -> None:
    """aiohttp would resend a DELETE once when its kept-alive connection drops; the client
    surfaces the drop as a NetworkError instead, so the caller confirms before any replay."""
    answered = 0

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal answered
        answered += 1
        if answered == 2:  # the second request, on the kept-alive connection: dropped
            assert request.transport is not None
            request.transport.close()
        return web.Response(status=204)

    async with client_for(handle) as (client, seen):
        await client.delete_association(SCF, LEAD)
        with pytest.raises(NetworkError, match="may have been applied"):
            await client.delete_association(SCF, LEAD)
    assert (len(seen), client.stats.requests) == (2, 2)
