"""Close-style rate limits: fixed windows per (endpoint group, API key) and per (endpoint group,
org) at 3x, the `RateLimit` header and the 429 answer in each style.

Pure arithmetic on a `now` the caller passes in (tests drive time by hand). A window opens with
the first request counted after the previous one ended and lasts `window_s`; each counter is one
dict entry, so a check is O(1).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

ORG_FACTOR = 3
RATE_MESSAGE = "API call count exceeded for this period"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check: allowed or not, and what the header reports."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: float
    scope: str  # "key" or "org": the scope reported (the tripped one on a 429)


class RateLimiter:
    """Fixed-window counters: floor(per_second x window_s) per key (at least 1), 3x per org."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], list[float]] = {}

    def clear(self) -> None:
        """Forget every window (on reset)."""
        self._windows.clear()

    def check(
        self, group: str, key: str, org: str, *, per_second: int, window_s: float, now: float
    ) -> Verdict:
        """Count one request against both scopes if both have room; report the tighter one."""
        key_limit = max(1, math.floor(per_second * window_s))
        org_limit = key_limit * ORG_FACTOR
        key_window = self._window((group, key), window_s, now)
        org_window = self._window((group, org), window_s, now)
        if key_window[1] >= key_limit:
            return Verdict(False, key_limit, 0, key_window[0] - now, "key")
        if org_window[1] >= org_limit:
            return Verdict(False, org_limit, 0, org_window[0] - now, "org")
        key_window[1] += 1
        org_window[1] += 1
        key_left = key_limit - int(key_window[1])
        org_left = org_limit - int(org_window[1])
        if org_left < key_left:
            return Verdict(True, org_limit, org_left, org_window[0] - now, "org")
        return Verdict(True, key_limit, key_left, key_window[0] - now, "key")

    def _window(self, counter: tuple[str, str], window_s: float, now: float) -> list[float]:
        window = self._windows.get(counter)
        if window is None or window[0] <= now:
            window = [now + window_s, 0.0]
            self._windows[counter] = window
        return window


def format_reset(reset_s: float) -> str:
    """Seconds to the window's end as a short decimal, never below a millisecond."""
    text = f"{max(reset_s, 0.001):.3f}".rstrip("0")
    return text.rstrip(".")


def header_value(verdict: Verdict, style: str) -> str | None:
    """The `RateLimit` header in the chosen style; None for style `none`."""
    if style == "none":
        return None
    sep = "; " if style == "semicolon" else ", "
    return sep.join(
        (
            f"limit={verdict.limit}",
            f"remaining={verdict.remaining}",
            f"reset={format_reset(verdict.reset_s)}",
        )
    )


def retry_after(verdict: Verdict) -> str:
    """`Retry-After`: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(verdict.reset_s)))


def group_hash(group: str) -> str:
    """An opaque endpoint-group id like the one in Close's old 429 body."""
    return hashlib.sha1(group.encode(), usedforsecurity=False).hexdigest()


def body_429(verdict: Verdict, group: str, window_s: float, style: str) -> tuple[bytes, str | None]:
    """The 429 body and its content type: the deprecated JSON, nothing, or edge-style text."""
    if style == "empty":
        return b"", None
    if style == "text":
        return b"429 Too Many Requests\n", "text/plain"
    error = {
        "message": RATE_MESSAGE,
        "rate_reset": round(max(verdict.reset_s, 0.001), 3),
        "rate_limit": verdict.limit,
        "rate_window": window_s,
        "rate_limit_type": verdict.scope,
        "rate_endpoint_group": group_hash(group),
    }
    return json.dumps({"error": error}).encode(), "application/json"
