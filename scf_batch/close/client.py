"""The only module that speaks HTTP to Close: one paced attempt per call, aiohttp errors translated.

Every call waits for its endpoint group's slot in the `Pacer`, sends within `timeout_s` in all,
feeds the response's `RateLimit` back to the pacer, and turns anything but a 2xx into the
`errors` tree. Retries belong to the caller (the runner), except `list_all`'s page reads.

Hostile or wrong servers are bounded here, before anything reaches the runner or a file:
- A body is read in chunks up to `max_body_bytes` (default 8 MiB, see `DEFAULT_MAX_BODY_BYTES`);
  past it the attempt fails with `ResponseTooLarge` (transient: the caller's retry policy applies)
  and the connection is dropped, so memory stays bounded at any concurrency and any body size.
- Every message and kept body built from server text is scrubbed of the credentials in any form
  (`redact.Scrubber`), 2xx bodies included: a server echoing the key cannot get it written. The
  association writes keep nothing of their answer (its shape is checked, then it is dropped), so
  theirs is not scrubbed: the hot path of a run does not walk bodies no one reads.
- A 3xx is not followed (the `Authorization` header goes nowhere else) and says where it pointed.
- A 429 asking a wait longer than `max_wait_s` raises `ServerRefusing` instead of waiting.
- `open_client` refuses plain `http://` to a host that is not loopback unless
  `allow_insecure_http`, and a base URL holding a user name or password.

Endpoint groups are "METHOD route-template", as Close groups its limits by endpoint. The two
association routes that take a custom type (`.../association/custom_activity_type/<id>/`) share
the group of the one-segment form (`.../association/{object_type}/`): it is one Close endpoint
with a two-segment parameter, and a group per custom type would pace each type at the full rate
while Close counts them together.
"""

from __future__ import annotations

import json as jsonlib
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from scf_batch import __version__
from scf_batch.close.attempts import Attempts
from scf_batch.close.credentials import Credentials, check_destination, is_loopback, safe_url
from scf_batch.close.inflight import InFlightLimit
from scf_batch.close.pacer import Pacer, legacy_key_limit, parse_ratelimit, wait_hint_s
from scf_batch.close.retry import DEFAULT_429_WAIT_S, RetryPolicy
from scf_batch.errors import (
    ApiError,
    AuthError,
    CloseError,
    GaveUp,
    NetworkError,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    ServerRefusing,
    UsageError,
)
from scf_batch.models import ObjectType, SchemaField, Target
from scf_batch.redact import Scrubber

PAGE_LIMIT = 100
# Page reads are safe to replay, so list_all retries them itself; everything else is one attempt.
LIST_RETRY_POLICY = RetryPolicy(max_retries=4, row_deadline_s=120.0)
_BODY_EXCERPT_CHARS = 300
# Bounds on one list read: an org holds thousands of fields at most (100 pages); a server that
# pages forever, or hands the same page again, is stopped well before memory or patience runs out.
MAX_LIST_PAGES = 1_000
MAX_LIST_ITEMS = 50_000
MAX_LIST_SECONDS = 900.0
# A page of 100 shared fields is ~100-300 KB (a field with its associations is 1-3 KB, a choice
# ~30 bytes); 8 MiB still fits 100 fields carrying ~2,500 choices each, ~30x a large real page,
# while 16 workers each at the cap hold 128 MiB of bytes at worst.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024
# A text error body is scrubbed over this much, then cut to _BODY_EXCERPT_CHARS.
_SCRUBBED_TEXT_BYTES = 64 * 1024

GROUP_LIST_FIELDS = "GET custom_field/shared/"
GROUP_GET_FIELD = "GET custom_field/shared/{id}/"
GROUP_CREATE_FIELD = "POST custom_field/shared/"
GROUP_UPDATE_FIELD = "PUT custom_field/shared/{id}/"
GROUP_DELETE_FIELD = "DELETE custom_field/shared/{id}/"
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
    (the client's first request): raw counts, which report.timeline turns into the timeline.
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


class CloseClient:
    """One attempt per call against one Close org; make it with `open_client`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout_s: float,
        pacer: Pacer,
        scrubber: Scrubber | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_wait_s: float | None = None,
        in_flight: InFlightLimit | None = None,
    ) -> None:
        self._session = session
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout_s = timeout_s
        # aiohttp's total: connecting, sending and reading the whole answer, body included
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.pacer = pacer
        self.stats = ClientStats()
        self._scrub = scrubber or Scrubber(())
        self.max_body_bytes = max_body_bytes
        self.max_wait_s = max_wait_s
        self.in_flight = in_flight
        self.max_list_pages = MAX_LIST_PAGES
        self.max_list_items = MAX_LIST_ITEMS
        self.max_list_s = MAX_LIST_SECONDS

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
        scrub: bool = True,
    ) -> Response:
        """Send one request after the group's pacing; a 2xx `Response`, or a `CloseError`.

        429 -> `RateLimited` (the group is paused first), or `ServerRefusing` when its wait
        exceeds `max_wait_s`; 401/402/403 -> `AuthError`, other 4xx -> `ApiError`, 5xx ->
        `ServerError`, 3xx -> `CloseError` (not followed), a body past `max_body_bytes` ->
        `ResponseTooLarge`, no answer (timeout, dropped or refused connection, truncated body)
        -> `NetworkError`; by status and exception type only. Bodies come back scrubbed, but
        with `scrub=False` a 2xx body is as the server sent it: only for a caller that checks and
        drops it (error bodies and messages are scrubbed always).
        """
        where = f"{method} {path}"
        async with self._slot(group):
            self.stats.sent(group, time.monotonic())
            status, headers, raw = await self._send(method, path, where, json=json, params=params)
        self.pacer.observe(group, parse_ratelimit(headers.get("RateLimit")))
        if status == 429:
            # A 429 is a 429 whatever its body: an oversized one is read by its headers alone.
            raise self._rate_limited(where, group, headers, raw or b"")
        if raw is None:
            raise ResponseTooLarge(_too_large(where, status, self.max_body_bytes), status=status)
        if 200 <= status < 300:
            body = _parse_json(raw)
            return Response(status=status, body=self._scrub(body) if scrub else body)
        raise _error_for(where, status, raw, headers.get("Location"), self._scrub)

    @asynccontextmanager
    async def _slot(self, group: str) -> AsyncIterator[None]:
        """A request's turn: a place in flight (as many as the rate and latency need), then the
        group's pacing slot; the exchange's latency teaches the in-flight limit."""
        if self.in_flight is None:
            await self.pacer.acquire(group)
            yield
            return
        async with self.in_flight:
            await self.pacer.acquire(group)
            started = time.monotonic()
            try:
                yield
            finally:
                self.in_flight.observe_latency(time.monotonic() - started)

    async def _send(
        self, method: str, path: str, where: str, *, json: Any, params: Any
    ) -> tuple[int, Mapping[str, str], bytes | None]:
        """One exchange: status, headers and the body (None when it passed the cap)."""
        try:
            async with self._session.request(
                method,
                URL(self._base_url + path, encoded=True),
                json=json,
                params=params,
                allow_redirects=False,
                timeout=self._timeout,
            ) as resp:
                raw = await _read_capped(resp, self.max_body_bytes)
                return resp.status, resp.headers, raw
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

    def _rate_limited(
        self, where: str, group: str, headers: Mapping[str, str], raw: bytes
    ) -> CloseError:
        """The error for a 429, after pausing its group: `RateLimited` or `ServerRefusing`."""
        self.stats.refused(time.monotonic())
        hint_s = wait_hint_s(headers, raw)
        body = _body(raw, self._scrub)
        bound_s = self.max_wait_s
        if hint_s is not None and bound_s is not None and hint_s > bound_s:
            # Hold the group's other callers for the bound only: the run is about to stop.
            self.pacer.pause(group, bound_s)
            message = (
                f"{where}: 429 asks to wait {_duration(hint_s)}, longer than a row may take "
                f"({bound_s:g} s); Close is refusing these requests for now, rerun later"
            )
            return ServerRefusing(
                message, wait_s=hint_s, max_wait_s=bound_s, group=group, body=body
            )
        self.pacer.pause(group, hint_s or DEFAULT_429_WAIT_S, legacy_key_limit(raw))
        wait = f"retry after {hint_s:g} s" if hint_s is not None else "no wait hint"
        return RateLimited(f"{where}: 429 rate limited ({wait})", retry_after_s=hint_s, body=body)

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        """Every object of a Close list (`role/`, `custom_field/shared/`, ...), page by page.

        Each page is one `request`; a transient failure of a page is retried a few times here,
        because a read is safe to replay and these lookups run before any row (validate, name
        resolution), where no runner retry loop exists yet.
        """
        group = f"GET {path}"
        items: list[dict[str, Any]] = []
        started = time.monotonic()
        previous: list[dict[str, Any]] | None = None
        for pages in range(1, self.max_list_pages + 1):
            params = {"_skip": len(items), "_limit": PAGE_LIMIT}
            page = await self._read_page(path, group=group, params=params)
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
                # page is already scrubbed: request() scrubs every body it returns.
                raise CloseError(f"GET {path}: expected a list of objects in 'data'", body=page)
            if data and data == previous:
                raise CloseError(
                    f"GET {path}: page {pages} (from item {len(items)}) repeats the page before "
                    "it while 'has_more' is true; not an answer Close gives (check --base-url)"
                )
            items.extend(data)
            if not data or page.get("has_more") is not True:
                return items
            previous = data
            self._check_list_bounds(path, pages, len(items), time.monotonic() - started)
        raise CloseError(
            f"GET {path}: still 'has_more' after {self.max_list_pages:,} pages "
            f"({len(items):,} items); not an answer Close gives (check --base-url)"
        )

    def _check_list_bounds(self, path: str, pages: int, items: int, elapsed_s: float) -> None:
        """CloseError once a list read passes its bound on items or time."""
        if items > self.max_list_items:
            raise CloseError(
                f"GET {path}: {items:,} items after {pages:,} pages, more than the "
                f"{self.max_list_items:,} an org holds; not an answer Close gives "
                "(check --base-url)"
            )
        if elapsed_s > self.max_list_s:
            raise CloseError(
                f"GET {path}: still paging after {elapsed_s:,.0f} s ({pages:,} pages, "
                f"{items:,} items), longer than the {self.max_list_s:g} s a list may take"
            )

    async def get_object(self, path: str) -> dict[str, Any]:
        """One object (e.g. `me/`), its page read retried like a list's."""
        return await self._read_page(path, group=f"GET {path}", params={})

    async def get_field(self, scf_id: str) -> dict[str, Any] | None:
        """The shared custom field, or None when Close answers 404."""
        path = f"custom_field/shared/{_segment(scf_id)}/"
        return await self._get_or_none(path, GROUP_GET_FIELD)

    async def create_field(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new shared custom field (Close answers 200) and return it."""
        path = "custom_field/shared/"
        resp = await self.request("POST", path, group=GROUP_CREATE_FIELD, json=body)
        return _object(resp, f"POST {path}")

    async def update_field(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT (a partial update of) a shared custom field's definition; return the field."""
        path = f"custom_field/shared/{_segment(scf_id)}/"
        resp = await self.request("PUT", path, group=GROUP_UPDATE_FIELD, json=body)
        return _object(resp, f"PUT {path}")

    async def delete_field(self, scf_id: str) -> None:
        """DELETE a shared custom field, its associations and every value stored in it."""
        path = f"custom_field/shared/{_segment(scf_id)}/"
        await self.request("DELETE", path, group=GROUP_DELETE_FIELD)

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None:
        """The field's association with the target, or None when Close answers 404."""
        return await self._get_or_none(_association_path(scf_id, target), GROUP_GET_ASSOCIATION)

    async def create_association(self, scf_id: str, body: dict[str, Any]) -> None:
        """POST a new association (Close answers 201 with it: checked to be an object, dropped)."""
        path = f"custom_field/shared/{_segment(scf_id)}/association/"
        resp = await self.request(
            "POST", path, group=GROUP_CREATE_ASSOCIATION, json=body, scrub=False
        )
        _object(resp, f"POST {path}")

    async def update_association(self, scf_id: str, target: Target, body: dict[str, Any]) -> None:
        """PUT (a partial update of) `required` / `editable_with_roles` (the answer is checked to
        be an object, then dropped)."""
        path = _association_path(scf_id, target)
        resp = await self.request(
            "PUT", path, group=GROUP_UPDATE_ASSOCIATION, json=body, scrub=False
        )
        _object(resp, f"PUT {path}")

    async def delete_association(self, scf_id: str, target: Target) -> None:
        """DELETE the association (Close answers 204)."""
        path = _association_path(scf_id, target)
        await self.request("DELETE", path, group=GROUP_DELETE_ASSOCIATION)

    async def get_schema(self, target: Target) -> list[SchemaField]:
        """The object's custom field schema (regular and shared fields, display order)."""
        path = _schema_path(target)
        body = await self._read_page(path, group=GROUP_GET_SCHEMA, params={})
        return _schema_fields(body, f"GET {path}")

    async def put_schema(self, target: Target, field_ids: list[str]) -> None:
        """PUT the object's field order (the answer is checked to be a schema, then dropped)."""
        path = _schema_path(target)
        body = {"fields": [{"id": field_id} for field_id in field_ids]}
        resp = await self.request("PUT", path, group=GROUP_PUT_SCHEMA, json=body, scrub=False)
        _schema_fields(_object(resp, f"PUT {path}"), f"PUT {path}")

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
        """One page, its read retried under LIST_RETRY_POLICY (the rows' own retry loop)."""
        attempts = Attempts(LIST_RETRY_POLICY)
        try:
            resp = await attempts.run(
                lambda: self.request("GET", path, group=group, params=params), safe=True
            )
        except GaveUp as exc:
            raise exc.last from None
        return _object(resp, f"GET {path}")


@asynccontextmanager
async def open_client(
    base_url: str,
    credentials: Credentials,
    *,
    timeout_s: float = 30.0,
    rate_per_s: float = 20.0,
    max_connections: int = 100,
    pacer: Pacer | None = None,
    allow_insecure_http: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_wait_s: float | None = None,
    in_flight: InFlightLimit | None = None,
) -> AsyncIterator[CloseClient]:
    """A `CloseClient` on its own aiohttp session; enter it inside the running event loop.

    `credentials` from `credentials.read_credentials` (or `Credentials.api_key` in tests).
    `pacer` lets a run share one pacer (and its counters) with the caller; without it the client
    makes its own at `rate_per_s`. `timeout_s` bounds
    each attempt, connection to last byte. `allow_insecure_http` lets plain http:// reach a host
    that is not loopback (a lab). `max_body_bytes` caps each answer's body; `max_wait_s` is the
    longest 429 wait the client accepts before raising `ServerRefusing` (None: no bound).
    `in_flight` gates every request (pacing wait included) and learns their latency, so a run
    keeps as many in flight as its rate needs (inflight.py); None: no gate.
    """
    _check_options(base_url, allow_insecure_http, timeout_s, max_body_bytes, max_wait_s)
    if credentials.source:
        check_destination(credentials.source, base_url)
    headers = {
        "Authorization": credentials.authorization(),
        "Accept": "application/json",
        "User-Agent": f"scf-batch/{__version__}",
    }
    connector = aiohttp.TCPConnector(limit=max_connections)
    # request() sets the one timeout per request; aiohttp's own default total (300 s) is off.
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=timeout, middlewares=(_no_silent_resend,)
    ) as session:
        yield CloseClient(
            session,
            base_url,
            timeout_s=timeout_s,
            pacer=pacer or Pacer(rate_per_s),
            scrubber=Scrubber([credentials.secret]),
            max_body_bytes=max_body_bytes,
            max_wait_s=max_wait_s,
            in_flight=in_flight,
        )


class _DroppedConnection(aiohttp.ClientConnectionError):
    """A kept-alive connection dropped under a request (which may have been applied)."""


async def _no_silent_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Turn a dropped connection into an error aiohttp does not resend.

    aiohttp quietly sends a GET, PUT or DELETE once more when a kept-alive connection drops
    under it: past the pacer and the counters, and for a DELETE that was applied, into a 404
    that reads as "not associated". Every replay is the caller's to decide (after confirming
    by reading), so the drop surfaces as a NetworkError instead.
    """
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # nothing was sent: aiohttp does not resend these either
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _DroppedConnection(f"connection dropped ({type(exc).__name__})") from exc


def _check_options(
    base_url: str,
    allow_insecure_http: bool,
    timeout_s: float,
    max_body_bytes: int,
    max_wait_s: float | None,
) -> None:
    """UsageError for a base URL or limit the client must not use; nothing is sent yet."""
    url = URL(base_url)
    shown = safe_url(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"base_url: got {shown!r}, expected https://api.close.com/api/v1/")
    if url.user is not None or url.password is not None:
        raise UsageError(
            f"base_url: {shown!r} holds a user name or password; remove it "
            "(the key is read from the environment, e.g. CLOSE_API_KEY)"
        )
    if url.scheme == "http" and not is_loopback(url.host) and not allow_insecure_http:
        raise UsageError(
            f"base_url: {shown!r} is plain http:// to a host that is not this machine, so the "
            "credentials would cross the network in clear; use https://, or pass "
            "--allow-insecure-http for a lab network you trust"
        )
    if not timeout_s > 0:
        raise UsageError(f"timeout: got {timeout_s}, expected a number of seconds > 0")
    if max_body_bytes <= 0:
        raise UsageError(f"max_body_bytes: got {max_body_bytes}, expected bytes > 0")
    if max_wait_s is not None and not max_wait_s > 0:
        raise UsageError(f"max_wait_s: got {max_wait_s}, expected seconds > 0")


def _segment(value: str) -> str:
    """One URL path segment: ids from user files must not add segments or a query."""
    return quote(value, safe="")


def _association_path(scf_id: str, target: Target) -> str:
    parts = [target.object_type.value] + ([target.type_id] if target.type_id is not None else [])
    tail = "/".join(_segment(part) for part in parts)
    return f"custom_field/shared/{_segment(scf_id)}/association/{tail}/"


GROUP_GET_SCHEMA = "GET custom_field_schema/{object_type}/"
GROUP_PUT_SCHEMA = "PUT custom_field_schema/{object_type}/"
_SCHEMA_WORDS = {
    ObjectType.CUSTOM_ACTIVITY_TYPE: "activity",
    ObjectType.CUSTOM_OBJECT_TYPE: "custom_object",
}


def _schema_path(target: Target) -> str:
    """`custom_field_schema/lead/`, `.../activity/<id>/`, `.../custom_object/<id>/`."""
    if target.type_id is None:
        return f"custom_field_schema/{_segment(target.object_type.value)}/"
    word = _SCHEMA_WORDS[target.object_type]
    return f"custom_field_schema/{word}/{_segment(target.type_id)}/"


def _schema_fields(body: dict[str, Any], where: str) -> list[SchemaField]:
    """A schema answer's fields, checked at the edge: each an object with a string `id`."""
    raw = body.get("fields")
    if not isinstance(raw, list) or not all(
        isinstance(f, dict) and isinstance(f.get("id"), str) for f in raw
    ):
        shape = '{"fields": [{"id": ...}, ...]}'
        raise CloseError(f"{where}: expected {shape}, got fields={str(raw)[:200]}")
    return [_schema_field(f) for f in raw]


def _schema_field(raw: dict[str, Any]) -> SchemaField:
    is_shared = raw.get("is_shared") is True
    return SchemaField(id=raw["id"], name=str(raw.get("name", raw["id"])), is_shared=is_shared)


def _no_answer(exc: BaseException) -> str:
    """Why no answer came, and whether Close may have acted on the request anyway."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect ({type(exc).__name__}); the request was not sent"
    reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
    return f"no answer ({reason}); the request may have been applied"


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes | None:
    """The body, read in chunks; None (and the connection dropped) once it passes `max_bytes`.

    The cap counts bytes after content decoding, so a gzip bomb stops at the cap too.
    """
    declared = resp.content_length
    if declared is not None and declared > max_bytes:
        resp.close()
        return None
    buffer = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK_BYTES):
        buffer += chunk
        if len(buffer) > max_bytes:
            resp.close()
            return None
    return bytes(buffer)


def _too_large(where: str, status: int, max_bytes: int) -> str:
    fate = "the request was applied" if 200 <= status < 300 else "the request may have been applied"
    return (
        f"{where}: {status} answer larger than {max_bytes:,} bytes, reading stopped there "
        f"(not an answer Close gives; check --base-url); {fate}"
    )


def _duration(seconds: float) -> str:
    """A wait for people: seconds, and hours or days when it is long."""
    if not math.isfinite(seconds):
        return "forever"
    if seconds >= 2 * 86400:
        return f"{seconds:,.0f} s (about {seconds / 86400:,.0f} days)"
    if seconds >= 2 * 3600:
        return f"{seconds:,.0f} s (about {seconds / 3600:,.0f} hours)"
    return f"{seconds:g} s"


def _parse_json(raw: bytes) -> Any:
    """The parsed body, or None when it is empty or not JSON (gateways answer HTML).

    RecursionError too: a hostile body nested thousands deep is "not JSON", not a traceback.
    """
    if not raw.strip():
        return None
    try:
        return jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _body(raw: bytes, scrub: Scrubber) -> Any:
    """An error body worth keeping, scrubbed: parsed JSON, else an excerpt of the text.

    The text is scrubbed before it is cut, so a secret straddling the cut leaves no prefix.
    """
    parsed = _parse_json(raw)
    if parsed is not None:
        return scrub(parsed)
    text = raw[:_SCRUBBED_TEXT_BYTES].decode("utf-8", errors="replace")
    return scrub.text(text)[:_BODY_EXCERPT_CHARS] or None


def _object(resp: Response, where: str) -> dict[str, Any]:
    if not isinstance(resp.body, dict):
        raise CloseError(f"{where}: {resp.status} without a JSON object body", status=resp.status)
    return resp.body


def _error_for(
    where: str, status: int, raw: bytes, location: str | None, scrub: Scrubber
) -> CloseError:
    """The `errors` class for a non-2xx, non-429 answer; classified by status, never by text.

    Body and message are scrubbed of the credentials before they leave the client.
    """
    body = _body(raw, scrub)
    if 300 <= status < 400:
        to = f"redirect to {location[:_BODY_EXCERPT_CHARS]}" if location else "redirect"
        message = f"{where}: {status} {to} (not followed; check --base-url)"
        return CloseError(scrub.text(message), status=status, body=body)
    detail = _detail(body)
    message = scrub.text(f"{where}: {status}{': ' + detail if detail else ''}")
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
