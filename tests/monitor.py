"""A heartbeat monitor for tests: an aiohttp TestServer on 127.0.0.1, on its own event loop in
a thread (so an in-process `scf-batch run`, which runs its own loop, can ping it), that
records every request it answers before answering it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class Received:
    """One request the monitor answered."""

    method: str
    path: str
    body: str
    headers: dict[str, str]


@dataclass
class Monitor:
    """The monitor's base URL and what it received, in order."""

    url: str
    received: list[Received] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.received]


@contextmanager
def monitor_server() -> Iterator[Monitor]:
    """A running monitor that answers 200 to any request under any path."""
    received: list[Received] = []

    async def answer(request: web.Request) -> web.Response:
        body = await request.text()
        received.append(Received(request.method, request.path, body, dict(request.headers)))
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    loop = asyncio.new_event_loop()
    server = TestServer(app, host="127.0.0.1")
    loop.run_until_complete(server.start_server())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield Monitor(str(server.make_url("/ping/abc")), received)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(server.close())
        loop.close()
