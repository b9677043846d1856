"""The only module that speaks HTTP to Close: one paced attempt per call, aiohttp errors translated.

Every call waits for its endpoint group's slot in the `Pacer`, sends inside `anyio.fail_after`,
feeds the response's `RateLimit` back to the pacer, and turns anything but a 2xx into the
`errors` tree. Retries belong to the caller (the runner), except `list_all`'s page reads.

Endpoint groups are "METHOD route-template", as Close groups its limits by endpoint. The two
association routes that take a custom type (`.../association/custom_activity_type/<id>/`) share
the group of the one-segment form (`.../association/{object_type}/`): it is one Close endpoint
with a two-segment parameter, and a group per custom type would pace each type at the full rate
while Close counts them together.
"""

from __future__ import annotations

import base64
import json as jsonlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import anyio
from yarl import URL

from scf_batch import __version__
from scf_batch.errors import (
    ApiError,
    AuthError,
    CloseError,
    NetworkError,
    RateLimited,
    ServerError,
    TransientError,
    UsageError,
)
from scf_batch.models import Target
from scf_batch.ratelimit import Pacer, parse_ratelimit, wait_hint_s
from scf_batch.retry import DEFAULT_429_WAIT_S, RetryPolicy, decide

PAGE_LIMIT = 100
# Page reads are safe to replay, so list_all retries them itself; everything else is one attempt.
LIST_RETRY_POLICY = RetryPolicy(max_retries=4, row_deadline_s=120.0)
_BODY_EXCERPT_CHARS = 300

GROUP_LIST_FIELDS = "GET custom_field/shared/"
GROUP_GET_FIELD = "GET custom_field/shared/{id}/"
GROUP_CREATE_ASSOCIATION = "POST custom_field/shared/{scf_id}/association/"
GROUP_GET_ASSOCIATION = "GET custom_field/shared/{scf_id}/association/{object_type}/"
GROUP_UPDATE_ASSOCIATION = "PUT custom_field/shared/{scf_id}/association/{object_type}/"
GROUP_DELETE_ASSOCIATION = "DELETE custom_field/shared/{scf_id}/association/{object_type}/"


@dataclass(frozen=True, slots=True)
class Response:
    """A 2xx answer: status and parsed JSON body (None when empty or not JSON)."""

    status: int
    body: Any


@dataclass(slots=True)
class ClientStats:
    """Cheap counters of what the client sent and met; read them at any time.

    `requests_by_second` and `rate_limited_by_second` count by whole seconds since `started`
    (the client's first request), for the report's timeline.
    """

    requests: int = 0
    rate_limited: int = 0
    requests_by_group: Counter[str] = field(default_factory=Counter)
    requests_by_second: Counter[int] = field(default_factory=Counter)
    rate_limited_by_second: Counter[int] = field(default_factory=Counter)
    started: float | None = None

    def sent(self, group: str, now: float) -> None:
        if self.started is None:
            self.started = now
        self.requests += 1
        self.requests_by_group[group] += 1
        self.requests_by_second[int(now - self.started)] += 1

    def refused(self, now: float) -> None:
        self.rate_limited += 1
        self.rate_limited_by_second[int(now - (self.started or now))] += 1

    def timeline(self, *, rows_by_second: Counter[int]) -> list[dict[str, float]]:
        """One entry per second that saw a request or a finished row, in order."""
        seconds = sorted(set(self.requests_by_second) | set(rows_by_second))
        return [
            {
                "t_s": float(second),
                "requests": self.requests_by_second[second],
                "rate_limited": self.rate_limited_by_second[second],
                "rows": rows_by_second[second],
            }
            for second in seconds
        ]


class CloseClient:
    """One attempt per call against one Close org; make it with `open_client`."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, timeout_s: float, pacer: Pacer
    ) -> None:
        self._session = session
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout_s = timeout_s
        self.pacer = pacer
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"CloseClient(base_url={self._base_url!r}, timeout_s={self.timeout_s})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        group: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Response:
        """Send one request after the group's pacing; a 2xx `Response`, or a `CloseError`.

        429 -> `RateLimited` (the group is paused first), 401/402/403 -> `AuthError`, other
        4xx -> `ApiError`, 5xx -> `ServerError`, no answer (timeout, dropped or refused
        connection, truncated body) -> `NetworkError`; by status and exception type only.
        """
        await self.pacer.acquire(group)
        where = f"{method} {path}"
        self.stats.sent(group, anyio.current_time())
        try:
            with anyio.fail_after(self.timeout_s):
                async with self._session.request(
                    method,
                    URL(self._base_url + path, encoded=True),
                    json=json,
                    params=params,
                    allow_redirects=False,
                ) as resp:
                    raw = await resp.read()
                    status, headers = resp.status, resp.headers
        except (
            TimeoutError,
            OSError,
            aiohttp.ClientConnectionError,
            aiohttp.ClientPayloadError,
        ) as exc:
            raise NetworkError(f"{where}: {_no_answer(exc)}") from exc
        except aiohttp.ClientError as exc:
            # Other aiohttp errors may carry request_info with our Authorization header: no chain.
            raise CloseError(f"{where}: request failed ({type(exc).__name__})") from None
        self.pacer.observe(group, parse_ratelimit(headers.get("RateLimit")))
        if 200 <= status < 300:
            return Response(status=status, body=_parse_json(raw))
        if status == 429:
            self.stats.refused(anyio.current_time())
            hint_s = wait_hint_s(headers, raw)
            self.pacer.pause(group, hint_s or DEFAULT_429_WAIT_S)
            wait = f"retry after {hint_s:g} s" if hint_s is not None else "no wait hint"
            raise RateLimited(
                f"{where}: 429 rate limited ({wait})", retry_after_s=hint_s, body=_body(raw)
            )
        raise _error_for(where, status, raw)

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        """Every object of a Close list (`role/`, `custom_field/shared/`, ...), page by page.

        Each page is one `request`; a transient failure of a page is retried a few times here,
        because a read is safe to replay and these lookups run before any row (validate, name
        resolution), where no runner retry loop exists yet.
        """
        group = f"GET {path}"
        items: list[dict[str, Any]] = []
        while True:
            params = {"_skip": len(items), "_limit": PAGE_LIMIT}
            page = await self._read_page(path, group=group, params=params)
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
                raise CloseError(f"GET {path}: expected a list of objects in 'data'", body=page)
            items.extend(data)
            if not data or page.get("has_more") is not True:
                return items

    async def get_object(self, path: str) -> dict[str, Any]:
        """One object (e.g. `me/`), its page read retried like a list's."""
        return await self._read_page(path, group=f"GET {path}", params={})

    async def get_field(self, scf_id: str) -> dict[str, Any] | None:
        """The shared custom field, or None when Close answers 404."""
        path = f"custom_field/shared/{_segment(scf_id)}/"
        return await self._get_or_none(path, GROUP_GET_FIELD)

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None:
        """The field's association with the target, or None when Close answers 404."""
        return await self._get_or_none(_association_path(scf_id, target), GROUP_GET_ASSOCIATION)

    async def create_association(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new association (Close answers 201) and return it."""
        path = f"custom_field/shared/{_segment(scf_id)}/association/"
        resp = await self.request("POST", path, group=GROUP_CREATE_ASSOCIATION, json=body)
        return _object(resp, f"POST {path}")

    async def update_association(
        self, scf_id: str, target: Target, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT (a partial update of) `required` / `editable_with_roles`; return the association."""
        path = _association_path(scf_id, target)
        resp = await self.request("PUT", path, group=GROUP_UPDATE_ASSOCIATION, json=body)
        return _object(resp, f"PUT {path}")

    async def delete_association(self, scf_id: str, target: Target) -> None:
        """DELETE the association (Close answers 204)."""
        path = _association_path(scf_id, target)
        await self.request("DELETE", path, group=GROUP_DELETE_ASSOCIATION)

    async def _get_or_none(self, path: str, group: str) -> dict[str, Any] | None:
        try:
            resp = await self.request("GET", path, group=group)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return _object(resp, f"GET {path}")

    async def _read_page(
        self, path: str, *, group: str, params: Mapping[str, str | int]
    ) -> dict[str, Any]:
        attempt, started = 0, anyio.current_time()
        while True:
            try:
                resp = await self.request("GET", path, group=group, params=params)
            except TransientError as exc:
                elapsed_s = anyio.current_time() - started
                wait_s = decide(
                    exc,
                    attempt=attempt,
                    elapsed_s=elapsed_s,
                    policy=LIST_RETRY_POLICY,
                    rand=random.random(),
                )
                if wait_s is None:
                    raise
                attempt += not isinstance(exc, RateLimited)
                await anyio.sleep(wait_s)
                continue
            return _object(resp, f"GET {path}")


@asynccontextmanager
async def open_client(
    base_url: str,
    api_key: str,
    *,
    timeout_s: float = 30.0,
    rate_per_s: float = 20.0,
    max_connections: int = 100,
    pacer: Pacer | None = None,
) -> AsyncIterator[CloseClient]:
    """A `CloseClient` on its own aiohttp session; enter it inside the running event loop.

    `pacer` lets a run share one pacer (and its counters) with the caller; without it the client
    makes its own at `rate_per_s`. `timeout_s` bounds each attempt, connection to last byte.
    """
    url = URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"base_url: got {base_url!r}, expected https://api.close.com/api/v1/")
    if not timeout_s > 0:
        raise UsageError(f"timeout: got {timeout_s}, expected a number of seconds > 0")
    token = base64.b64encode(f"{api_key}:".encode()).decode("ascii")
    headers = {
        "Authorization": f"Basic {token}",
        "Accept": "application/json",
        "User-Agent": f"scf-batch/{__version__}",
    }
    connector = aiohttp.TCPConnector(limit=max_connections)
    # fail_after in request() is the one timeout; aiohttp's own default total (300 s) is off.
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=timeout
    ) as session:
        yield CloseClient(session, base_url, timeout_s=timeout_s, pacer=pacer or Pacer(rate_per_s))


def _segment(value: str) -> str:
    """One URL path segment: ids from user files must not add segments or a query."""
    return quote(value, safe="")


def _association_path(scf_id: str, target: Target) -> str:
    parts = [target.object_type.value] + ([target.type_id] if target.type_id is not None else [])
    tail = "/".join(_segment(part) for part in parts)
    return f"custom_field/shared/{_segment(scf_id)}/association/{tail}/"


def _no_answer(exc: BaseException) -> str:
    """Why no answer came, and whether Close may have acted on the request anyway."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect ({type(exc).__name__}); the request was not sent"
    reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
    return f"no answer ({reason}); the request may have been applied"


def _parse_json(raw: bytes) -> Any:
    """The parsed body, or None when it is empty or not JSON (gateways answer HTML)."""
    if not raw.strip():
        return None
    try:
        return jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _body(raw: bytes) -> Any:
    """An error body worth keeping: parsed JSON, else an excerpt of the text."""
    parsed = _parse_json(raw)
    if parsed is not None:
        return parsed
    return raw[:_BODY_EXCERPT_CHARS].decode("utf-8", errors="replace") or None


def _object(resp: Response, where: str) -> dict[str, Any]:
    if not isinstance(resp.body, dict):
        raise CloseError(f"{where}: {resp.status} without a JSON object body", status=resp.status)
    return resp.body


def _error_for(where: str, status: int, raw: bytes) -> CloseError:
    """The `errors` class for a non-2xx, non-429 answer; classified by status, never by text."""
    body = _body(raw)
    detail = _detail(body)
    message = f"{where}: {status}{': ' + detail if detail else ''}"
    if status in (401, 402, 403):
        return AuthError(message, status=status, body=body)
    if 400 <= status < 500:
        return ApiError(message, status=status, body=body, field_errors=_field_errors(body))
    if status >= 500:
        message += "; the request may have been applied"
        return ServerError(message, status=status, body=body)
    return CloseError(f"{message} (unexpected status)", status=status, body=body)


def _field_errors(body: Any) -> dict[str, str]:
    errors = body.get("field-errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict):
        return {}
    return {str(key): str(value) for key, value in errors.items()}


def _detail(body: Any) -> str:
    """A short human reading of an error body: Close's `error`, `errors` and field errors."""
    if isinstance(body, str):
        return body[:_BODY_EXCERPT_CHARS]
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if isinstance(body.get("error"), str):
        parts.append(body["error"])
    if isinstance(body.get("errors"), list):
        parts.extend(str(item) for item in body["errors"])
    parts.extend(f"{key}: {value}" for key, value in _field_errors(body).items())
    return "; ".join(parts)[:_BODY_EXCERPT_CHARS]
