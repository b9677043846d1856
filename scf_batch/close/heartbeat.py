"""Heartbeats to a monitor, as healthchecks.io takes them: `URL/start` when a run starts, `URL`
when it exits 0, `URL/fail` on any other exit, with the run's one-line verdict as a text body.

A ping goes only to the URL given: https, or plain http to a loopback host, with no user name
or password in it; one POST within `PING_TIMEOUT_S` all told, no redirect followed, no
credential sent (no `Authorization` header; the caller scrubs the body). A ping never fails
the run: whatever goes wrong comes back as text for a warning. Besides `close.client`, this is
the only module that speaks HTTP; it speaks to the monitor, never to Close.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import anyio

from scf_batch import __version__
from scf_batch.close.credentials import is_loopback

PING_TIMEOUT_S = 5.0  # a ping may delay a run's start or end by this much at most
MAX_BODY_CHARS = 10_000  # the verdict is one line; healthchecks.io keeps 100 kB of a body


class Ping(StrEnum):
    """Which heartbeat, as the path segment added to the URL ("" for a success)."""

    START = "start"
    SUCCESS = ""
    FAIL = "fail"


def ping_url_problem(url: str) -> str | None:
    """Why a heartbeat URL is refused (what was found, what is expected), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "found a URL that does not parse; expected https://host/path"
    if parts.username is not None or parts.password is not None:
        return "found a user name or password in it; expected none (a ping carries no secret)"
    if not host:
        return "found no host; expected https://host/path"
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return None
    return (
        f"found {parts.scheme}:// to {host}; expected https://, or http:// to this machine "
        "(a loopback host)"
    )


def ping_address(url: str, ping: Ping) -> str:
    """The URL of one heartbeat: `/start` or `/fail` added to the path, the query kept."""
    parts = urlsplit(url)
    if not ping:
        return url
    path = f"{parts.path.rstrip('/')}/{ping}"
    return urlunsplit(parts._replace(path=path))


async def send_ping(
    url: str, ping: Ping, body: str, *, timeout_s: float = PING_TIMEOUT_S
) -> str | None:
    """POST one heartbeat; None when the monitor took it, else what went wrong, in words."""
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "User-Agent": f"scf-batch/{__version__}",
    }
    data = body[:MAX_BODY_CHARS].encode("utf-8", "replace")
    try:
        with anyio.fail_after(timeout_s):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
                session.post(
                    ping_address(url, ping), data=data, headers=headers, allow_redirects=False
                ) as response,
            ):
                if not 200 <= response.status < 300:
                    return f"the monitor answered {response.status}"
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except (aiohttp.ClientError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
