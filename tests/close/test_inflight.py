"""Little's law sizing, the latency window, and the in-flight gate."""

from __future__ import annotations

import math

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scf_batch.close.inflight import InFlightLimit, LatencyWindow, needed_in_flight

# --- needed_in_flight --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "latency", "expected"),
    [
        (20.0, 1.0, 26),  # 20 x 1 s x 1.25 = 25 under way, + 1 waiting for the next slot
        (20.0, 0.1, 4),  # 2.5 -> 3, + 1
        (100.0, 0.3, 39),  # 37.5 -> 38, + 1
        (20.0, 0.0, 1),  # no latency: one request at a time is enough
    ],
)
def test_needed_in_flight_follows_littles_law_with_headroom(
    rate: float, latency: float, expected: int
) -> None:
    """ceil(rate x latency x headroom) + 1 at the default headroom of 1.25."""
    assert needed_in_flight(rate, latency) == expected


def test_needed_in_flight_is_bounded_by_floor_and_ceiling() -> None:
    """The result never leaves [floor, ceiling]."""
    assert needed_in_flight(100.0, 10.0, ceiling=64) == 64
    assert needed_in_flight(1.0, 0.01, floor=4) == 4


@given(
    rate=st.floats(0.01, 1e4),
    latency=st.floats(0, 100),
    headroom=st.floats(1, 4),
    floor=st.integers(1, 10),
    extra=st.integers(0, 1000),
)
def test_needed_in_flight_covers_rate_times_latency_within_bounds(
    rate: float, latency: float, headroom: float, floor: int, extra: int
) -> None:
    """Unless the ceiling binds, there are at least rate x latency requests in flight."""
    ceiling = floor + extra
    got = needed_in_flight(rate, latency, headroom=headroom, floor=floor, ceiling=ceiling)
    assert floor <= got <= ceiling
    if got < ceiling:
        assert got >= rate * latency


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((0.0, 1.0), {}, "rate_per_s"),
        ((math.inf, 1.0), {}, "rate_per_s"),
        ((20.0, -1.0), {}, "latency_s"),
        ((20.0, math.nan), {}, "latency_s"),
        ((20.0, 1.0), {"headroom": 0.5}, "headroom"),
        ((20.0, 1.0), {"floor": 5, "ceiling": 4}, "floor"),
    ],
)
def test_needed_in_flight_rejects_bad_arguments(
    args: tuple[float, float], kwargs: dict[str, float], name: str
) -> None:
    """A bad argument is named in the error."""
    with pytest.raises(ValueError, match=name):
        needed_in_flight(*args, **kwargs)  # type: ignore[arg-type]


# --- LatencyWindow -----------------------------------------------------------------------------


def test_latency_window_p90_ignores_a_few_outliers() -> None:
    """Among 64 samples of 0.1 s, six 30 s timeouts leave the p90 at 0.1 s."""
    window = LatencyWindow(64)
    for index in range(64):
        window.add(30.0 if index % 10 == 0 and index < 60 else 0.1)
    assert window.quantile(0.9) == 0.1


def test_latency_window_forgets_samples_older_than_its_size() -> None:
    """After `size` fast samples, earlier slow ones no longer count."""
    window = LatencyWindow(4)
    for latency in (5.0, 5.0, 5.0, 5.0, 0.2, 0.2, 0.2, 0.2):
        window.add(latency)
    assert (len(window), window.quantile(1.0)) == (4, 0.2)


def test_latency_window_quantile_is_nearest_rank() -> None:
    """Over 1..10, the p90 is 9, the p50 is 5 and the max is 10; an empty window has none."""
    window = LatencyWindow(10)
    assert window.quantile(0.9) is None
    for latency in range(1, 11):
        window.add(float(latency))
    assert (window.quantile(0.9), window.quantile(0.5), window.quantile(1.0)) == (9.0, 5.0, 10.0)


# --- InFlightLimit -----------------------------------------------------------------------------


def test_limit_starts_at_initial_and_follows_the_observed_latency() -> None:
    """16 before any sample; at 20/s and 1 s of latency, 26; bounded by max_in_flight."""
    limit = InFlightLimit(20.0, max_in_flight=100)
    assert limit.limit == 16
    for _ in range(10):
        limit.observe_latency(1.0)
    assert (limit.limit, limit.latency_estimate_s()) == (26, 1.0)
    capped = InFlightLimit(20.0, max_in_flight=8)
    capped.observe_latency(1.0)
    assert (InFlightLimit(20.0, max_in_flight=8).limit, capped.limit) == (8, 8)


def test_limit_shrinks_when_latency_drops() -> None:
    """Once the window holds only fast requests, the limit sized for slow ones comes down."""
    limit = InFlightLimit(20.0, window=8)
    for latency in [1.0] * 8 + [0.1] * 8:
        limit.observe_latency(latency)
    assert limit.limit == needed_in_flight(20.0, 0.1)


@pytest.mark.anyio
async def test_gate_admits_at_most_limit_requests_at_once() -> None:
    """With the limit at 3, ten tasks entering the gate never have more than 3 inside."""
    limit = InFlightLimit(1.0, initial=3)
    inside, most = 0, 0
    release = anyio.Event()

    async def request() -> None:
        nonlocal inside, most
        async with limit:
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(request)
        await anyio.wait_all_tasks_blocked()
        assert (inside, limit.in_flight) == (3, 3)
        release.set()
    assert (most, limit.in_flight) == (3, 0)


@pytest.mark.anyio
async def test_raising_the_limit_lets_waiting_requests_in() -> None:
    """Waiters held at a limit of 1 enter once an observed latency raises the limit."""
    limit = InFlightLimit(20.0, initial=1)
    release = anyio.Event()

    async def request() -> None:
        async with limit:
            await release.wait()

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(request)
        await anyio.wait_all_tasks_blocked()
        assert limit.in_flight == 1
        limit.observe_latency(1.0)  # limit -> 26
        await anyio.wait_all_tasks_blocked()
        assert limit.in_flight == 5
        release.set()
