"""How many requests a run keeps in flight, found from the rate and the latency it sees.

A run paced at R requests/s whose requests take W seconds each needs R x W of them in flight at
once (Little's law); with fewer, the pacer's slots go unused and the run falls below R. With 16 in
flight and 1 s of latency a run tops out at 16 requests/s, whatever `--rate` says.

The pure half, `needed_in_flight` and `LatencyWindow`, takes plain values and reads no clock.
`InFlightLimit` is the gate a runner puts around each request: its limit follows the latency
observed, bounded by the most the user allows (`--concurrency`).

Which latency: the 90th percentile of the last 64 requests, not a mean.

- A mean (or an EWMA of it) sizes the pool for the average request. Latency varies (Close's,
  and the simulator's `--jitter-ms`), and whenever a few slow requests pile up the pool runs dry
  and a slot is missed; sizing for the p90 keeps a worker free at nearly every slot.
- A window of samples forgets a burst of slow requests after 64 more, where an EWMA keeps a trace
  of a 30 s timeout for a long time (at alpha = 0.1 it adds 3 s to the estimate, and after 20
  samples still 0.4 s); the p90 of 64 ignores up to 6 outliers outright.
- 64 samples is about 3 s at 20 requests/s: quick to follow a change, yet enough for a p90.

Too many in flight costs little: the extra requests wait at the pacer, not at Close. So the
estimate also gets some headroom, and one more request waits for the next slot.
"""

from __future__ import annotations

import math
from collections import deque
from types import TracebackType

import anyio

DEFAULT_HEADROOM = 1.25
DEFAULT_FLOOR = 1
DEFAULT_CEILING = 256
# Before any latency is seen, the limit starts here (the former fixed default concurrency).
DEFAULT_INITIAL = 16
LATENCY_WINDOW = 64
LATENCY_QUANTILE = 0.9


def needed_in_flight(
    rate_per_s: float,
    latency_s: float,
    *,
    headroom: float = DEFAULT_HEADROOM,
    floor: int = DEFAULT_FLOOR,
    ceiling: int = DEFAULT_CEILING,
) -> int:
    """Requests to keep in flight to send `rate_per_s` when each takes `latency_s` (Little's law).

    `ceil(rate x latency x headroom) + 1`: the requests under way, with headroom for the latency
    to vary, plus one waiting for the next slot; then bounded to `[floor, ceiling]`.
    """
    _check("rate_per_s", rate_per_s, allow_zero=False)
    _check("latency_s", latency_s, allow_zero=True)
    if not (math.isfinite(headroom) and headroom >= 1):
        raise ValueError(f"headroom: got {headroom}, expected a finite number >= 1")
    if not 1 <= floor <= ceiling:
        raise ValueError(f"floor, ceiling: got {floor}, {ceiling}, expected 1 <= floor <= ceiling")
    needed = math.ceil(rate_per_s * latency_s * headroom) + 1
    return max(floor, min(ceiling, needed))


class LatencyWindow:
    """The last `size` latencies, and a quantile of them (nearest rank)."""

    def __init__(self, size: int = LATENCY_WINDOW) -> None:
        if size < 1:
            raise ValueError(f"size: got {size}, expected an integer >= 1")
        self._samples: deque[float] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, latency_s: float) -> None:
        """Record one request's latency; the oldest sample goes when the window is full."""
        _check("latency_s", latency_s, allow_zero=True)
        self._samples.append(latency_s)

    def quantile(self, q: float = LATENCY_QUANTILE) -> float | None:
        """The smallest sample with at least `q` of the samples at or below it; None when empty."""
        if not 0 < q <= 1:
            raise ValueError(f"q: got {q}, expected 0 < q <= 1")
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        return ordered[math.ceil(q * len(ordered)) - 1]


class InFlightLimit:
    """A gate around each request whose limit follows Little's law on the latency observed.

        limit = InFlightLimit(rate_per_s=20, max_in_flight=64)
        async with limit:                  # waits while `limit.limit` requests are under way
            started = anyio.current_time()
            await send_one_request()
        limit.observe_latency(anyio.current_time() - started)

    The limit starts at `min(initial, max_in_flight)` and, after each observed latency, becomes
    `needed_in_flight(rate_per_s, p90 of the last 64, ceiling=max_in_flight)`. Lowering it lets
    the requests already under way finish; no new one starts until fewer than the new limit are.
    It is anyio's `CapacityLimiter` underneath: a task holds at most one place at a time.
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        max_in_flight: int = DEFAULT_CEILING,
        initial: int = DEFAULT_INITIAL,
        headroom: float = DEFAULT_HEADROOM,
        window: int = LATENCY_WINDOW,
    ) -> None:
        _check("rate_per_s", rate_per_s, allow_zero=False)
        if max_in_flight < 1 or initial < 1:
            raise ValueError(
                f"max_in_flight, initial: got {max_in_flight}, {initial}, expected >= 1"
            )
        self.rate_per_s = rate_per_s
        self.max_in_flight = max_in_flight
        self.headroom = headroom
        self._latencies = LatencyWindow(window)
        self._limiter = anyio.CapacityLimiter(min(initial, max_in_flight))

    def __repr__(self) -> str:
        return f"InFlightLimit(limit={self.limit}, in_flight={self.in_flight})"

    @property
    def limit(self) -> int:
        """How many requests may be under way at once now."""
        return int(self._limiter.total_tokens)

    @property
    def in_flight(self) -> int:
        """How many are under way now."""
        return self._limiter.borrowed_tokens

    def latency_estimate_s(self) -> float | None:
        """The latency the limit is sized for (p90 of the window); None before any sample."""
        return self._latencies.quantile()

    def observe_latency(self, seconds: float) -> None:
        """Record one finished request's latency and resize the limit from it."""
        self._latencies.add(seconds)
        estimate = self._latencies.quantile()
        assert estimate is not None  # a sample was just added
        self._limiter.total_tokens = needed_in_flight(
            self.rate_per_s, estimate, headroom=self.headroom, ceiling=self.max_in_flight
        )

    async def __aenter__(self) -> None:
        await self._limiter.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._limiter.release()


def _check(name: str, value: float, *, allow_zero: bool) -> None:
    """A finite number > 0 (or >= 0 with `allow_zero`), else ValueError naming the argument."""
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: got {value}, expected a finite number {expected}")
