"""The heartbeat: its URLs, what it refuses, and one POST that never raises, against a local
aiohttp server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scf_batch.close.heartbeat import Ping, ping_address, ping_url_problem, send_ping


@pytest.mark.parametrize(
    ("url", "ping", "expected"),
    [
        ("https://hc.example/abc", Ping.START, "https://hc.example/abc/start"),
        ("https://hc.example/abc/", Ping.FAIL, "https://hc.example/abc/fail"),
        ("https://hc.example/abc?rid=1", Ping.START, "https://hc.example/abc/start?rid=1"),
        ("https://hc.example/abc", Ping.SUCCESS, "https://hc.example/abc"),
    ],
)
def test_each_heartbeat_adds_its_segment_to_the_path(url: str, ping: Ping, expected: str) -> None:
    """/start and /fail go after the URL's path (a trailing slash once), the query kept."""
    assert expected == ping_address(url, ping)


@pytest.mark.parametrize(
    "url", ["https://hc.example/abc", "http://127.0.0.1:8000/abc", "http://localhost/x"]
)
def test_https_and_loopback_http_are_taken(url: str) -> None:
    """https anywhere, plain http to this machine."""
    assert ping_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://hc.example/abc", "found http:// to hc.example"),
        ("https://user:pw@hc.example/abc", "user name or password"),
        ("https:///abc", "found no host"),
        ("ftp://hc.example/abc", "found ftp://"),
    ],
)
def test_other_urls_are_refused_saying_why(url: str, said: str) -> None:
    """Plain http to another host, credentials in the URL and a missing host are refused."""
    problem = ping_url_problem(url)
    assert problem is not None
    assert said in problem


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _answering(handler: Handler) -> TestServer:
    """A local server answering every path with `handler`, started."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.mark.anyio
async def test_a_ping_posts_the_body_as_text_with_no_credential() -> None:
    """One POST to URL/fail with the verdict as its text body and no Authorization header."""
    seen: list[tuple[str, str, str, bool]] = []

    async def answer(request: web.Request) -> web.Response:
        auth = "Authorization" in request.headers
        seen.append((request.method, request.path, await request.text(), auth))
        return web.Response(text="OK")

    server = await _answering(answer)
    try:
        problem = await send_ping(str(server.make_url("/abc")), Ping.FAIL, "exit 1: rows failed")
    finally:
        await server.close()
    assert (None, [("POST", "/abc/fail", "exit 1: rows failed", False)]) == (problem, seen)


@pytest.mark.anyio
async def test_a_redirect_is_not_followed() -> None:
    """A 302 is reported, and the place it points to is never asked."""
    paths: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        paths.append(request.path)
        raise web.HTTPFound("/elsewhere")

    server = await _answering(answer)
    try:
        problem = await send_ping(str(server.make_url("/abc")), Ping.START, "")
    finally:
        await server.close()
    assert ("the monitor answered 302", ["/abc/start"]) == (problem, paths)


@pytest.mark.anyio
async def test_a_monitor_that_does_not_answer_is_given_up_after_the_timeout() -> None:
    """A ping to a server that never answers returns after its timeout, saying so."""
    never = anyio.Event()

    async def answer(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    server = await _answering(answer)
    try:
        problem = await send_ping(str(server.make_url("/abc")), Ping.START, "", timeout_s=0.2)
    finally:
        never.set()
        await server.close()
    assert "no answer within 0.2 s" == problem


@pytest.mark.anyio
async def test_an_unreachable_monitor_is_a_problem_not_an_error() -> None:
    """Nothing listening: the ping returns what went wrong instead of raising."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response()

    server = await _answering(answer)  # bound, then closed: the port refuses
    url = str(server.make_url("/abc"))
    await server.close()
    problem = await send_ping(url, Ping.SUCCESS, "")
    assert problem is not None
