"""RateLimit parsing, 429 wait hints, the throttle decision, and the pacer on a controlled clock."""

from __future__ import annotations

import itertools
import math

import anyio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scf_batch.close.pacer import (
    BACKOFF_FACTOR,
    BACKOFF_S,
    LATE_TOLERANCE_S,
    MAX_JITTER_ALLOWANCE_S,
    KeyLimit,
    Pacer,
    RateLimitInfo,
    Throttle,
    legacy_key_limit,
    parse_ratelimit,
    slot_interval_s,
    slot_taken,
    throttle_for,
    wait_hint_s,
)


class FakeClock:
    """A clock that moves only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- parse_ratelimit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("limit=100, remaining=50, reset=5", RateLimitInfo(100, 50, 5.0)),
        ("limit=160; remaining=159; reset=8", RateLimitInfo(160, 159, 8.0)),
        ("limit=100,remaining=50,reset=0.25", RateLimitInfo(100, 50, 0.25)),
        ("reset=1.5, remaining=0, limit=10", RateLimitInfo(10, 0, 1.5)),
        ("limit=10, policy=burst, remaining=3, w=1, reset=2", RateLimitInfo(10, 3, 2.0)),
        ("LIMIT=10, Remaining=3, Reset=2", RateLimitInfo(10, 3, 2.0)),
        ('limit="10", remaining="3", reset="2"', RateLimitInfo(10, 3, 2.0)),
        ("remaining=4", RateLimitInfo(None, 4, None)),
        ("limit=abc, remaining=4, reset=-1", RateLimitInfo(None, 4, None)),
        ("limit=10, remaining=3, reset=nan", RateLimitInfo(10, 3, None)),
    ],
)
def test_parse_ratelimit_reads_every_documented_and_observed_form(
    value: str, expected: RateLimitInfo
) -> None:
    """Either separator, spaces or not, decimal reset, any order, unknown keys and bad values."""
    assert parse_ratelimit(value) == expected


@pytest.mark.parametrize("value", [None, "", "garbage", "limit", "=5", "a=1, b=2", ";;,,"])
def test_parse_ratelimit_returns_none_for_garbage(value: str | None) -> None:
    """A missing header or one without any usable known key parses to None."""
    assert parse_ratelimit(value) is None


@given(
    limit=st.integers(0, 10**6),
    remaining=st.integers(0, 10**6),
    reset=st.floats(0, 10**4, allow_nan=False),
    order=st.permutations(["limit", "remaining", "reset"]),
    sep=st.sampled_from([",", ";", ", ", "; ", " , "]),
)
def test_parse_ratelimit_round_trips_any_well_formed_header(
    limit: int, remaining: int, reset: float, order: list[str], sep: str
) -> None:
    """Any order and separator of the three keys parses back to the same values."""
    values = {"limit": str(limit), "remaining": str(remaining), "reset": repr(reset)}
    header = sep.join(f"{key}={values[key]}" for key in order)
    assert parse_ratelimit(header) == RateLimitInfo(limit, remaining, reset)


@given(st.text())
def test_parse_ratelimit_never_raises(value: str) -> None:
    """Arbitrary text parses to None or to an info with finite, non-negative values."""
    info = parse_ratelimit(value)
    if info is not None:
        numbers = [v for v in (info.limit, info.remaining, info.reset_s) if v is not None]
        assert all(math.isfinite(v) and v >= 0 for v in numbers)


# --- wait_hint_s -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"RateLimit": "limit=1, remaining=0, reset=0.4", "Retry-After": "1"}, b"", 0.4),
        ({"ratelimit": "limit=1; remaining=0; reset=2.5"}, b"", 2.5),
        ({"RateLimit": "limit=1, remaining=0", "Retry-After": "3"}, b"", 3.0),
        ({"retry-after": "7"}, b"", 7.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b"", None),
        ({}, b'{"error": {"message": "API call count exceeded", "rate_reset": 0.13}}', 0.13),
        ({"RateLimit": "limit=1, remaining=0, reset=0"}, b'{"error": {"rate_reset": 2}}', 2.0),
        ({"Retry-After": "1"}, b'{"error": {"rate_reset": 0.13}}', 0.13),
        ({"Retry-After": "3"}, b'{"error": {"rate_reset": 2.4}}', 2.4),
        ({"Retry-After": "3"}, b'{"error": {"rate_reset": 0.2}}', 3.0),
        ({"Retry-After": "3"}, b'{"error": {"rate_reset": 9}}', 3.0),
        ({"Retry-After": "0"}, b"", None),
        ({"Retry-After": "-3"}, b"", None),
        ({"Retry-After": "inf"}, b"", None),
        ({}, b'{"error": {"rate_reset": 0}}', None),
        ({}, b'{"error": {"rate_reset": true}}', None),
        ({}, b'{"error": "Too many requests"}', None),
        ({}, b"<html>429 Too Many Requests</html>", None),
        ({}, b"\xff\xfe", None),
        ({}, b"", None),
    ],
)
def test_wait_hint_prefers_reset_then_retry_after_then_the_legacy_body(
    headers: dict[str, str], body: bytes, expected: float | None
) -> None:
    """The first usable of RateLimit reset, Retry-After, body rate_reset; <= 0 is no hint; a
    body's rate_reset within Retry-After's last (rounded-up) second is the precise wait."""
    assert wait_hint_s(headers, body) == expected


@given(
    headers=st.dictionaries(st.sampled_from(["RateLimit", "Retry-After", "X"]), st.text()),
    body=st.binary(),
)
def test_wait_hint_never_raises_and_is_positive_when_given(
    headers: dict[str, str], body: bytes
) -> None:
    """Any headers and body give None or a finite wait > 0."""
    hint = wait_hint_s(headers, body)
    assert hint is None or (math.isfinite(hint) and hint > 0)


# --- throttle_for ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "info",
    [
        None,
        RateLimitInfo(10, None, 1.0),
        RateLimitInfo(10, 0, None),
        RateLimitInfo(10, 0, 0.0),
    ],
)
def test_throttle_needs_remaining_and_a_positive_reset(info: RateLimitInfo | None) -> None:
    """Without both `remaining` and a reset > 0 there is nothing to act on."""
    assert throttle_for(info, rate_per_s=20, reserve=0) is None


def test_throttle_pauses_until_reset_when_the_window_is_spent() -> None:
    """remaining <= reserve pauses the group (rate 0) for `reset` seconds."""
    assert throttle_for(RateLimitInfo(20, 0, 0.7), rate_per_s=20, reserve=0) == Throttle(0.0, 0.7)
    assert throttle_for(RateLimitInfo(20, 2, 0.7), rate_per_s=20, reserve=2) == Throttle(0.0, 0.7)


def test_throttle_barely_touches_a_pace_that_exactly_fills_the_window() -> None:
    """At 20/s against 20 per 1 s window, no response slows the pace by more than float noise."""
    for k in range(1, 20):
        info = RateLimitInfo(20, 20 - k, 1.0 - (k - 1) * 0.05)
        throttle = throttle_for(info, rate_per_s=20, reserve=0)
        assert throttle is None or throttle.rate_per_s == pytest.approx(20)


def test_throttle_caps_a_pace_that_would_run_out_before_the_reset() -> None:
    """At 20/s with 9 left for 1 s, the pace is capped at the fill pace, (9 + 1) / 1 s."""
    assert throttle_for(RateLimitInfo(10, 9, 1.0), rate_per_s=20, reserve=0) == Throttle(10.0, 1.0)
    assert throttle_for(RateLimitInfo(10, 9, 1.0), rate_per_s=20, reserve=1) == Throttle(9.0, 1.0)


@given(
    remaining=st.integers(0, 1000),
    reset=st.floats(0.001, 100),
    rate=st.floats(0.1, 1000),
    reserve=st.integers(0, 5),
)
def test_a_throttle_never_speeds_up_and_fits_the_window(
    remaining: int, reset: float, rate: float, reserve: int
) -> None:
    """A cap is always slower than the current pace and fits `remaining - reserve` in the window."""
    throttle = throttle_for(RateLimitInfo(None, remaining, reset), rate_per_s=rate, reserve=reserve)
    if throttle is not None:
        assert throttle.rate_per_s < rate
        assert throttle.rate_per_s * throttle.for_s - 1 <= max(0, remaining - reserve) + 1e-9
        assert throttle.for_s == reset


# --- Pacer on a controlled clock ---------------------------------------------------------------


def test_pacer_spaces_a_group_at_its_rate_and_keeps_groups_apart() -> None:
    """After a request the group waits one slot interval (1/R and the margin); another group is
    not held."""
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock)
    interval = slot_interval_s(4.0)
    assert pacer.delay_s("a") == 0.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(interval)
    assert pacer.delay_s("b") == 0.0
    clock.now += 0.1
    assert pacer.delay_s("a") == pytest.approx(interval - 0.1)
    clock.now += interval - 0.1
    assert pacer.delay_s("a") == 0.0


def test_pause_holds_until_the_later_end_and_counts_only_added_time() -> None:
    """pause() keeps the later of the current end and now + s; paused_s adds only extensions."""
    clock = FakeClock()
    pacer = Pacer(100.0, clock=clock)
    pacer.pause("a", 5.0)
    pacer.pause("a", 2.0)
    assert (pacer.delay_s("a"), pacer.delay_s("b")) == (5.0, 0.0)
    clock.now += 1.0
    pacer.pause("a", 6.0)
    assert pacer.delay_s("a") == 6.0
    assert (pacer.pauses["a"], pacer.paused_s["a"]) == (3, 7.0)


def test_try_acquire_takes_a_free_slot_only() -> None:
    """try_acquire succeeds when the slot is free and refuses, without waiting, when it is not."""
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock)
    assert (pacer.try_acquire("a"), pacer.try_acquire("a"), pacer.try_acquire("b")) == (
        True,
        False,
        True,
    )
    clock.now += slot_interval_s(2.0)
    assert pacer.try_acquire("a")


@st.composite
def pacer_scripts(draw: st.DrawFn) -> list[tuple[str, str, float]]:
    """A random script of (operation, group, amount) steps against one pacer."""
    step = st.tuples(
        st.sampled_from(["advance", "send", "pause", "observe"]),
        st.sampled_from(["a", "b"]),
        st.floats(0, 3),
    )
    return draw(st.lists(step, max_size=60))


@given(script=pacer_scripts(), rate=st.floats(0.5, 50))
@example(  # float rounding once left the slot an ulp away after waiting delay_s exactly
    script=[("advance", "a", 0.026450496243091377), ("send", "a", 0.0)] * 2, rate=6.0
)
def test_pacer_never_sends_early_or_during_a_pause(
    script: list[tuple[str, str, float]], rate: float
) -> None:
    """Whatever happens, a group's slots are >= 1/R apart, none falls inside a pause, and each
    send goes at its slot or at most the late tolerance after it."""
    clock = FakeClock(0.0)
    pacer = Pacer(rate, clock=clock)
    sends: dict[str, list[float]] = {"a": [], "b": []}
    pauses: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    for op, group, amount in script:
        if op == "advance":
            clock.now += amount
        elif op == "send":
            clock.now += pacer.delay_s(group)
            assert pacer.try_acquire(group)
            slot = pacer.last_slot(group)
            assert slot is not None
            assert 0 <= clock.now - slot <= LATE_TOLERANCE_S + 1e-9
            assert not any(start <= slot < end - 1e-9 for start, end in pauses[group])
            sends[group].append(slot)
        elif op == "pause":
            pacer.pause(group, amount)
            pauses[group].append((clock.now, clock.now + amount))
        else:
            pacer.observe(group, RateLimitInfo(None, int(amount), amount))
    for times in sends.values():
        assert all(b - a >= 1 / rate - 1e-9 for a, b in itertools.pairwise(times))


def test_pause_is_bounded_by_max_pause() -> None:
    """A bogus huge wait holds the group for max_pause_s only."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, max_pause_s=60.0)
    pacer.pause("a", 1e9)
    assert pacer.delay_s("a") == 60.0


def test_observe_pauses_a_group_whose_window_is_spent() -> None:
    """A response saying remaining=0 holds the group until the reset."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    pacer.observe("a", RateLimitInfo(10, 0, 3.0))
    assert (pacer.delay_s("a"), pacer.slowdowns["a"], pacer.pauses["a"]) == (3.0, 1, 0)


def test_observe_caps_the_pace_until_the_reset_then_restores_it() -> None:
    """remaining=3 for 2 s at 10/s caps the pace at 2/s, and the base pace returns after 2 s."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    assert pacer.try_acquire("a")
    pacer.observe("a", RateLimitInfo(10, 3, 2.0))  # a 2 s window, too
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(2.0, 2.0))
    clock.now += 2.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0, 2.0))


def test_observe_does_not_loosen_a_cap_on_a_later_lenient_header() -> None:
    """Once capped, a response saying plenty remains leaves the cap in force until it expires."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    assert pacer.try_acquire("a")
    pacer.observe("a", RateLimitInfo(10, 3, 2.0))
    pacer.observe("a", RateLimitInfo(10, 9, 1.0))
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(2.0, 2.0))


def test_observe_ignores_a_missing_header() -> None:
    """No RateLimit header changes nothing."""
    pacer = Pacer(10.0, clock=FakeClock())
    pacer.observe("a", None)
    assert (pacer.delay_s("a"), pacer.slowdowns["a"]) == (0.0, 0)


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_pacer_rejects_a_rate_that_is_not_positive_and_finite(rate: float) -> None:
    """A rate must be a finite number > 0."""
    with pytest.raises(ValueError, match="rate_per_s"):
        Pacer(rate)


@pytest.mark.anyio
async def test_acquire_spaces_sequential_requests_on_the_loop_clock() -> None:
    """Five acquires on one group at 20/s take at least four intervals; another group is free."""
    pacer = Pacer(20.0)
    started = anyio.current_time()
    for _ in range(5):
        await pacer.acquire("a")
    spent = anyio.current_time() - started
    await pacer.acquire("b")
    assert spent >= 4 / 20 * 0.9
    assert anyio.current_time() - started - spent < 0.05


@pytest.mark.anyio
async def test_acquire_waits_out_a_pause() -> None:
    """An acquire on a paused group returns only after the pause ends."""
    pacer = Pacer(1000.0)
    pacer.pause("a", 0.3)
    started = anyio.current_time()
    await pacer.acquire("a")
    assert anyio.current_time() - started >= 0.3 * 0.9


def test_a_429_lowers_the_pace_once_per_burst_and_it_recovers() -> None:
    """After a 429 the group resumes at BACKOFF_FACTOR of its pace (a second 429 of the same
    burst does not lower it again), and returns to the full pace BACKOFF_S after the pause."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    pacer.pause("a", 2.0)
    pacer.pause("a", 2.0)  # another request of the same burst
    clock.now += 2.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0 * BACKOFF_FACTOR))
    assert pacer.delay_s("b") == 0.0
    clock.now += 30.5
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0))


def test_a_429_with_a_ratelimit_header_pauses_without_lowering_the_pace() -> None:
    """When the 429's own answer carried `RateLimit` (observed first, as the client does), the
    group waits out the pause and resumes at the full pace: the header, not a guess, paces it."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    pacer.observe("a", RateLimitInfo(20, 0, 2.0))
    pacer.pause("a", 2.0)
    clock.now += 2.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0, 2.0))
    pacer.observe("a", None)  # a later 429 without the header is a guess again
    clock.now += 5.0
    pacer.pause("a", 1.0)
    clock.now += 1.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0 * BACKOFF_FACTOR, 2.0))


def test_a_429_at_a_windows_edge_widens_the_margin_up_to_its_cap() -> None:
    """A 429 while the group ran within its known limit (a `RateLimit` header, or a legacy body
    naming a key limit at or above the pace) doubles the jitter allowance, at most to
    MAX_JITTER_ALLOWANCE_S; the pace itself is not lowered."""
    clock = FakeClock()
    pacer = Pacer(20.0, clock=clock)
    pacer.observe("a", RateLimitInfo(20, 15, 0.5))  # informed, no cap; window 1 s (the default)
    pacer.pause("a", 0.01)
    clock.now += 0.01
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(20.0, 1.0, 0.02))
    for _ in range(5):
        pacer.pause("b", 0.01, KeyLimit(limit=20, window_s=1.0))
        clock.now += 0.01
    assert pacer.try_acquire("b")
    assert pacer.delay_s("b") == pytest.approx(slot_interval_s(20.0, 1.0, MAX_JITTER_ALLOWANCE_S))


def test_a_legacy_body_naming_a_lower_key_limit_sets_the_pace_to_it() -> None:
    """Without `RateLimit`, a 429 whose body says the key allows 40 per 8 s slows a 20/s group
    to 5/s (with an 8 s window's margin) until BACKOFF_S after the pause."""
    clock = FakeClock()
    pacer = Pacer(20.0, clock=clock)
    pacer.pause("a", 1.0, KeyLimit(limit=40, window_s=8.0))
    clock.now += 1.0
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(5.0, 8.0))
    clock.now += BACKOFF_S
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(20.0, 8.0))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"error": {"rate_limit": 240, "rate_window": 8, "rate_limit_type": "key"}}',
            KeyLimit(240, 8.0),
        ),
        (b'{"error": {"rate_limit": 240, "rate_window": 8, "rate_limit_type": "org"}}', None),
        (b'{"error": {"rate_limit": 240, "rate_window": 8}}', None),
        (b'{"error": {"rate_limit": 0, "rate_window": 8, "rate_limit_type": "key"}}', None),
        (b'{"error": {"rate_limit": 24, "rate_window": 0, "rate_limit_type": "key"}}', None),
        (b'{"error": {"rate_limit": true, "rate_window": 1, "rate_limit_type": "key"}}', None),
        (b"429 Too Many Requests", None),
        (b"", None),
    ],
)
def test_legacy_key_limit_reads_only_a_keys_own_limit(
    body: bytes, expected: KeyLimit | None
) -> None:
    """Only a body whose `rate_limit_type` is "key" tells our pace (the org's limit is shared)."""
    assert legacy_key_limit(body) == expected


def test_the_margin_shrinks_to_10_ms_per_window_the_header_shows() -> None:
    """Slots are 1 % apart beyond 1/rate until `RateLimit` shows an 8 s window (reset=8), then
    0.125 %; a smaller later reset does not shrink the window, nor does one past a minute count."""
    clock = FakeClock()
    pacer = Pacer(20.0, clock=clock)
    assert pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(1.01 / 20)
    pacer.observe("a", RateLimitInfo(160, 159, 8.0))
    assert pacer.delay_s("a") == pytest.approx(1.00125 / 20)
    pacer.observe("a", RateLimitInfo(160, 100, 3.0))
    pacer.observe("b", RateLimitInfo(9600, 9000, 120.0))  # past MAX_WINDOW_S: not a window
    assert pacer.delay_s("a") == pytest.approx(1.00125 / 20)
    assert pacer.try_acquire("b")
    assert pacer.delay_s("b") == pytest.approx(1.01 / 20)


# --- slots (GCRA): the schedule follows the previous slot, not the waiter's wake-up -----------


def test_slot_taken_keeps_the_schedule_for_a_late_wake_and_restarts_after_idle() -> None:
    """Within the tolerance the slot is the one waited for; beyond it by less than an interval
    (a busy loop) the slot is the tolerance behind the send; after idle time it is the send's."""
    assert slot_taken(10.0, 10.0, 0.05) == 10.0
    assert slot_taken(10.0, 10.0 + LATE_TOLERANCE_S / 2, 0.05) == 10.0
    assert slot_taken(10.0, 10.0 + 2 * LATE_TOLERANCE_S, 0.05) == pytest.approx(
        10.0 + LATE_TOLERANCE_S
    )
    assert slot_taken(10.0, 10.04, 0.05) == pytest.approx(10.04 - LATE_TOLERANCE_S)
    assert slot_taken(10.0, 15.0, 0.05) == 15.0


def test_slot_taken_tolerates_at_most_a_quarter_of_a_short_interval() -> None:
    """At 1,000/s (1 ms interval) a slot stays at most 0.25 ms behind its send."""
    assert slot_taken(10.0, 10.0002, 0.001) == 10.0
    assert slot_taken(10.0, 10.0005, 0.001) == pytest.approx(10.00025)


def test_a_late_wake_does_not_push_later_slots() -> None:
    """Waking 1 ms after its slot, a request takes that slot, and the next slot is one interval
    after it, not after the wake-up."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    interval = slot_interval_s(10.0)
    assert pacer.try_acquire("a")
    first = clock.now
    clock.now += interval + 0.001
    assert pacer.try_acquire("a")
    assert pacer.last_slot("a") == pytest.approx(first + interval)
    assert pacer.delay_s("a") == pytest.approx(interval - 0.001)


def test_late_wakes_lose_nothing_over_a_long_run() -> None:
    """1,000 requests that each wake 1.5 ms late end on slot 999: the pace is 1/interval."""
    clock = FakeClock()
    pacer = Pacer(100.0, clock=clock)
    assert pacer.try_acquire("a")
    start = clock.now
    for _ in range(999):
        clock.now += pacer.delay_s("a") + 0.0015
        assert pacer.try_acquire("a")
    assert pacer.last_slot("a") == pytest.approx(start + 999 * slot_interval_s(100.0))


def test_after_idle_the_next_slot_is_now_and_nothing_bursts() -> None:
    """After 5 s idle the slot is the send's own time, and the next request still waits a whole
    interval: no catching up on the slots missed."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    assert pacer.try_acquire("a")
    clock.now += 5.0
    assert pacer.try_acquire("a")
    assert pacer.last_slot("a") == clock.now
    assert not pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(slot_interval_s(10.0))


def test_a_cap_applies_from_the_next_slot() -> None:
    """A cap that arrives between two slots sets the next one at the capped interval after the
    last slot."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    assert pacer.try_acquire("a")
    slot = clock.now
    clock.now += 0.01
    pacer.observe("a", RateLimitInfo(10, 1, 1.0))  # fill pace (1 + 1) / 1 s = 2/s
    assert pacer.delay_s("a") == pytest.approx(slot + slot_interval_s(2.0) - clock.now)


def test_no_burst_after_a_pause() -> None:
    """When a pause ends, one request goes at its end, and the next waits an interval after it."""
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock)
    assert pacer.try_acquire("a")
    pacer.pause("a", 3.0)  # a 429 without `RateLimit`: the pace is lowered too
    end = clock.now + 3.0
    clock.now = end + 0.001
    assert pacer.try_acquire("a")
    assert pacer.last_slot("a") == end
    assert not pacer.try_acquire("a")
    assert pacer.delay_s("a") == pytest.approx(
        end + slot_interval_s(10.0 * BACKOFF_FACTOR) - clock.now
    )


@given(
    rate=st.integers(1, 200),
    late=st.lists(st.floats(0, 3 * LATE_TOLERANCE_S), min_size=1, max_size=400),
)
@example(rate=1, late=[0.0, 0.001, 0.0])  # without the margin the second window holds two
@example(rate=20, late=[0.0, 0.0015] + [0.0] * 20)
def test_a_window_opened_by_any_send_never_sees_more_than_the_rate(
    rate: int, late: list[float]
) -> None:
    """Sending as soon as allowed, each waiter waking up to 24 ms late, a 1 s window that opens
    with any send (the simulator's fixed windows) holds at most R sends: the margin absorbs the
    lateness the schedule keeps."""
    clock = FakeClock(0.0)
    pacer = Pacer(float(rate), clock=clock)
    sends = []
    for lateness in late:
        clock.now += pacer.delay_s("a") + lateness
        assert pacer.try_acquire("a")
        sends.append(clock.now)
    for k, opened in enumerate(sends):
        assert sum(1 for s in sends[k:] if s < opened + 1.0) <= rate
