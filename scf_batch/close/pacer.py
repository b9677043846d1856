"""Close's rate-limit signals, read by pure functions, and the per-endpoint-group pacer.

The top half is pure: header/body parsing and the throttle decision take plain values and read
no clock. The `Pacer` below holds the per-group state and is the only part that waits.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

RATELIMIT_HEADER = "RateLimit"
RETRY_AFTER_HEADER = "Retry-After"


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """One `RateLimit` header: window size, requests left in it, seconds until it resets."""

    limit: int | None
    remaining: int | None
    reset_s: float | None


def parse_ratelimit(value: str | None) -> RateLimitInfo | None:
    """Parse `limit=100, remaining=50, reset=5` (`,` or `;`, any order, extra keys ignored).

    A key whose value is not a finite number >= 0 counts as absent; None when no key is usable.
    """
    if not value:
        return None
    fields: dict[str, float] = {}
    for part in value.replace(";", ",").split(","):
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        number = _number(raw) if sep else None
        if key in ("limit", "remaining", "reset") and key not in fields and number is not None:
            fields[key] = number
    if not fields:
        return None
    limit, remaining = fields.get("limit"), fields.get("remaining")
    return RateLimitInfo(
        limit=None if limit is None else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset_s=fields.get("reset"),
    )


def wait_hint_s(headers: Mapping[str, str], body: bytes) -> float | None:
    """How long a 429 asks us to wait: `RateLimit` reset, else `Retry-After`, else the legacy body.

    `Retry-After` is whole seconds rounded up: a legacy body's decimal `rate_reset` within that
    last second (`Retry-After - 1 < rate_reset <= Retry-After`) is the same wait, said precisely,
    and is taken instead. `Retry-After` as an HTTP-date gives no hint (reading it would need a
    clock). A wait <= 0 or not finite is no hint; None when nothing usable came (the caller then
    uses its default).
    """
    info = parse_ratelimit(_header(headers, RATELIMIT_HEADER))
    if info is not None and info.reset_s is not None and info.reset_s > 0:
        return info.reset_s
    retry_after = _positive(_number(_header(headers, RETRY_AFTER_HEADER)))
    body_reset = _positive(_legacy_body_reset(body))
    if retry_after is not None and body_reset is not None and retry_after - 1 < body_reset:
        return min(body_reset, retry_after)
    return retry_after if retry_after is not None else body_reset


def _positive(number: float | None) -> float | None:
    return number if number is not None and number > 0 else None


@dataclass(frozen=True, slots=True)
class Throttle:
    """What `RateLimit` asks of a group for the next `for_s` seconds: at most `rate_per_s`.

    `rate_per_s == 0` means pause: send nothing until the window resets.
    """

    rate_per_s: float
    for_s: float


def throttle_for(info: RateLimitInfo | None, *, rate_per_s: float, reserve: int) -> Throttle | None:
    """Slow down before the window runs out, or None when the current pace fits in it.

    A response says `remaining` requests are left for `reset_s` seconds, counted from when the
    request it answers was sent. Sending one every `1/r` seconds from then fits `reset_s * r - 1`
    more requests in the window, so the fastest pace that does not run out is
    `(remaining - reserve + 1) / reset_s`, the "fill pace":

    - `remaining <= reserve`: pause until the reset (the next request would be refused);
    - the current pace is above the fill pace: cap it at the fill pace until the reset;
    - otherwise, or when the header lacks `remaining` or a reset > 0: None.

    A pace that exactly fills the window is left alone, and a cap set by timing noise at that
    boundary is barely below the current pace. Requests already in flight when a cap is set may
    still overshoot; the later responses report less `remaining` and tighten the cap.
    """
    if info is None or info.remaining is None or info.reset_s is None:
        return None
    reset_s = info.reset_s
    if not (math.isfinite(reset_s) and reset_s > 0):
        return None
    if info.remaining <= reserve:
        return Throttle(rate_per_s=0.0, for_s=reset_s)
    fill_per_s = (info.remaining - reserve + 1) / reset_s
    if rate_per_s <= fill_per_s:
        return None
    return Throttle(rate_per_s=fill_per_s, for_s=reset_s)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts as well as aiohttp's CIMultiDict."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _number(raw: str | None) -> float | None:
    """A finite number >= 0 from a header value, quotes tolerated; None for anything else."""
    if raw is None:
        return None
    try:
        number = float(raw.strip().strip('"'))
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


@dataclass(frozen=True, slots=True)
class KeyLimit:
    """What a pre-2024 429 body says of the API key's own limit: `limit` requests per `window_s`."""

    limit: int
    window_s: float

    @property
    def rate_per_s(self) -> float:
        return self.limit / self.window_s


def legacy_key_limit(body: bytes) -> KeyLimit | None:
    """`error.rate_limit` per `error.rate_window` of a pre-2024 429 body, when the body says the
    key's own limit tripped (`rate_limit_type` "key"; the org's limit is shared with other keys,
    so it tells no pace of ours); None otherwise."""
    error = _legacy_error(body)
    if error is None or error.get("rate_limit_type") != "key":
        return None
    limit, window = _finite(error.get("rate_limit")), _finite(error.get("rate_window"))
    if limit is None or window is None or limit < 1 or window <= 0:
        return None
    return KeyLimit(limit=int(limit), window_s=window)


def _legacy_body_reset(body: bytes) -> float | None:
    """`error.rate_reset` of the pre-2024 429 body; None for any other body, JSON or not."""
    error = _legacy_error(body)
    return None if error is None else _finite(error.get("rate_reset"))


def _legacy_error(body: bytes) -> dict[str, Any] | None:
    """The `error` object of a JSON 429 body; None for any other body."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else None


def _finite(value: object) -> float | None:
    """A JSON number that is finite (not a bool); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# Waits shorter than this are float rounding, not waits.
WAIT_EPSILON_S = 1e-9
# After a 429, the group's pace drops to this share of what it was, for this long past the pause;
# each further 429 (once per burst) lowers it again.
BACKOFF_FACTOR = 0.9
BACKOFF_S = 30.0
# A send's slot is never more than this (and a quarter of an interval) behind the send; a send
# more than an interval late follows idle time: the schedule restarts at it. A busy event loop
# (a fleet's worker runs dozens of orgs) wakes waiters late by a few ms: what the schedule keeps
# of that lateness, the margin below absorbs (8 of its 10 ms; 2 are left for the network's jitter
# before a 429 widens it).
LATE_TOLERANCE_S = 0.008
# Slots are a little more than 1/rate apart: over each server window, JITTER_ALLOWANCE_S more,
# so a window W never sees more than rate x W sends. A group's window is 1 s (Close's shortest)
# until its `RateLimit` reports a longer one (the largest `reset` seen). A 429 the pace did not
# cause doubles the group's allowance, up to MAX_JITTER_ALLOWANCE_S.
JITTER_ALLOWANCE_S = 0.01
MAX_JITTER_ALLOWANCE_S = 0.08
DEFAULT_WINDOW_S = 1.0
# A `reset` above this is not taken as the window's length (a bogus `reset=1e9` keeps a margin).
MAX_WINDOW_S = 60.0


@dataclass(slots=True)
class _GroupState:
    """When a group may send next: its last slot, pause end, a temporary pace cap, the longest
    window its `RateLimit` has shown, and whether its latest answer carried one."""

    last_slot: float | None = None
    paused_until: float = -math.inf
    cap_per_s: float | None = None
    cap_until: float = -math.inf
    window_s: float = DEFAULT_WINDOW_S
    allowance_s: float = JITTER_ALLOWANCE_S
    informed: bool = False
    lock: anyio.Lock | None = None

    def interval_s(self, now: float, base_per_s: float) -> float:
        """Seconds between two slots at the pace in force."""
        return slot_interval_s(self.rate_at(now, base_per_s), self.window_s, self.allowance_s)

    def rate_at(self, now: float, base_per_s: float) -> float:
        """The pace in force at `now`: the base rate, or a lower cap until it expires."""
        if self.cap_per_s is not None and now < self.cap_until:
            return min(base_per_s, self.cap_per_s)
        return base_per_s

    def next_slot(self, now: float, base_per_s: float) -> float:
        """The group's next slot: one interval after its last slot, and not paused."""
        if self.last_slot is None:
            return self.paused_until
        return max(self.last_slot + self.interval_s(now, base_per_s), self.paused_until)

    def learn(self, info: RateLimitInfo | None) -> None:
        """Remember whether an answer carried `RateLimit`, and the longest window it showed."""
        self.informed = info is not None
        if info is not None and info.reset_s is not None:
            self.learn_window(info.reset_s)

    def learn_window(self, window_s: float) -> None:
        """Keep the longest server window seen (at most `MAX_WINDOW_S`) for the margin."""
        if self.window_s < window_s <= MAX_WINDOW_S:
            self.window_s = window_s


def slot_interval_s(
    rate_per_s: float,
    window_s: float = DEFAULT_WINDOW_S,
    allowance_s: float = JITTER_ALLOWANCE_S,
) -> float:
    """Seconds between two slots of a group at `rate_per_s` whose server windows last
    `window_s`: 1/rate plus the share of the jitter allowance that falls to one request."""
    return (1.0 + allowance_s / window_s) / rate_per_s


def slot_taken(next_slot: float, now: float, interval_s: float) -> float:
    """The slot a send at `now` takes when the group's next slot is `next_slot` (<= now).

    Slots follow one another, as GCRA's theoretical arrival times do, so a waiter that wakes a
    little late (the sleep's overshoot) does not push every later slot: it takes the slot it
    waited for. A send later than the tolerance (`LATE_TOLERANCE_S`, at most a quarter of an
    interval) but by less than an interval (a busy event loop) takes the slot the tolerance
    behind it, losing only the excess; one later still follows idle time, and the schedule
    restarts at now. Either way no send is more than the tolerance after its slot (which the
    margin absorbs), and none catches up in a burst.
    """
    if now - next_slot > interval_s:
        return now
    return max(next_slot, now - min(LATE_TOLERANCE_S, interval_s / 4))


class Pacer:
    """Spaces requests evenly per endpoint group, and holds a group while Close asks it to wait.

    One pacer per run, shared by every worker. Per group (e.g. `"GET role/"`) it hands out slots
    one interval apart (`slot_interval_s`: 1/rate and 10 ms more per server window), like GCRA
    with no burst: the next slot follows the previous *slot*, not the time its waiter woke, so
    sleep overshoot is not lost once per interval (`slot_taken`). After idle time the schedule
    restarts at now.
    Unlike a fixed `AsyncLimiter(1, 1 / rate)`, the interval can change at run time:

    - `acquire(group)`: waits in FIFO order until the group's next slot, one interval (at the
      pace in force then) after its last slot, and until the group is not paused. The waiter at
      the head re-checks after every sleep, so a pause or slowdown that arrives meanwhile holds
      it too.
    - `pause(group, s)` (a 429): the group sends nothing until the later of its current pause end
      and now + s.
    - `observe(group, info)` (every response's `RateLimit`): see `throttle_for`. A pause extends
      the pause end; a cap lowers the pace until the window resets. A cap is replaced only by a
      lower one or when it has expired, so out-of-order responses cannot loosen it early.

    No pause lasts more than `max_pause_s` at a time, so a bogus `reset=1e9` cannot stall a run:
    once it ends, the next request asks again.

    Counters: `pauses` (pause() calls by group), `paused_s` (seconds of pause added by group,
    from 429s and from `observe`), `slowdowns` (throttles applied by `observe`, by group).
    `reserve` is how many requests of a window `observe` leaves unused (0: spend it all).
    `clock` defaults to the event loop's time; tests inject their own.
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] | None = None,
        reserve: int = 0,
        max_pause_s: float = 120.0,
    ) -> None:
        if not (math.isfinite(rate_per_s) and rate_per_s > 0):
            raise ValueError(f"rate_per_s: got {rate_per_s}, expected a finite number > 0")
        self.rate_per_s = rate_per_s
        self.reserve = reserve
        self.max_pause_s = max_pause_s
        self._clock = clock or anyio.current_time
        self._groups: dict[str, _GroupState] = {}
        self.pauses: Counter[str] = Counter()
        self.paused_s: defaultdict[str, float] = defaultdict(float)
        self.slowdowns: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"Pacer(rate_per_s={self.rate_per_s}, groups={sorted(self._groups)})"

    def delay_s(self, group: str) -> float:
        """Seconds until the group's next request may go (0 when it may go now)."""
        now = self._clock()
        wait_s = self._state(group).next_slot(now, self.rate_per_s) - now
        # a residue of float rounding (now + wait can land an ulp short of the slot) is no wait
        return wait_s if wait_s > WAIT_EPSILON_S else 0.0

    def try_acquire(self, group: str) -> bool:
        """Take the group's slot if it is free now, without waiting; False when it is not.

        It does not queue, so mixing it with concurrent `acquire` calls skips their FIFO order.
        """
        if self.delay_s(group) > 0:
            return False
        now, state = self._clock(), self._state(group)
        next_slot = min(state.next_slot(now, self.rate_per_s), now)  # an ulp ahead is now
        state.last_slot = slot_taken(next_slot, now, state.interval_s(now, self.rate_per_s))
        return True

    def last_slot(self, group: str) -> float | None:
        """The slot the group's latest request took (None before its first)."""
        return self._state(group).last_slot

    async def acquire(self, group: str) -> None:
        """Wait for the group's next slot, then take it (waiters queue in order)."""
        state = self._state(group)
        if state.lock is None:
            state.lock = anyio.Lock()
        async with state.lock:
            # Re-check after each sleep: a pause or slowdown may have moved the slot meanwhile.
            while True:
                if self.try_acquire(group):
                    return
                await anyio.sleep(self.delay_s(group))

    def pause(self, group: str, seconds: float, told: KeyLimit | None = None) -> None:
        """Hold the group until the later of its current pause end and now + seconds.

        A 429 that finds the group running (not already paused: concurrent 429s of one burst
        act once) also adjusts its pace:

        - with a `RateLimit` header (the group's latest answer; `observe` paces from it), or a
          pre-2024 body that `told` the key's limit and the pace is within it: the requests
          bunched at a window's edge, so the margin's jitter allowance doubles (at most
          `MAX_JITTER_ALLOWANCE_S`);
        - a body that told a limit below the pace: the pace drops to it for `BACKOFF_S` after
          the pause;
        - with nothing to pace from: the pace drops by `BACKOFF_FACTOR` for `BACKOFF_S` after the
          pause, as resuming at the same pace would only meet the next 429.
        """
        now = self._clock()
        self.pauses[group] += 1
        state = self._state(group)
        if state.paused_until <= now:
            self._adjust_after_429(state, now, seconds, told)
            self.slowdowns[group] += 1
        self._pause_until(group, now + seconds)

    def _adjust_after_429(
        self, state: _GroupState, now: float, seconds: float, told: KeyLimit | None
    ) -> None:
        current = state.rate_at(now, self.rate_per_s)
        if told is not None:
            state.learn_window(told.window_s)
        lowered = current * BACKOFF_FACTOR if told is None else told.rate_per_s
        if state.informed or lowered >= current:
            state.allowance_s = min(2 * state.allowance_s, MAX_JITTER_ALLOWANCE_S)
            return
        state.cap_per_s = lowered
        state.cap_until = now + seconds + BACKOFF_S

    def observe(self, group: str, info: RateLimitInfo | None) -> None:
        """Slow the group down when its `RateLimit` says the window would run out at this pace."""
        now = self._clock()
        state = self._state(group)
        state.learn(info)
        current = state.rate_at(now, self.rate_per_s)
        throttle = throttle_for(info, rate_per_s=current, reserve=self.reserve)
        if throttle is None:
            return
        self.slowdowns[group] += 1
        if throttle.rate_per_s <= 0:
            self._pause_until(group, now + throttle.for_s)
            return
        state.cap_per_s = throttle.rate_per_s
        state.cap_until = now + min(throttle.for_s, self.max_pause_s)

    def _pause_until(self, group: str, until: float) -> None:
        state, now = self._state(group), self._clock()
        until = min(until, now + self.max_pause_s)
        added = until - max(state.paused_until, now)
        if added > 0:
            self.paused_s[group] += added
            state.paused_until = until

    def _state(self, group: str) -> _GroupState:
        state = self._groups.get(group)
        if state is None:
            state = self._groups[group] = _GroupState()
        return state
