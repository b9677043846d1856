"""The pure retry policy: which errors are retried, how long to wait, and when to give up."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scf_batch
from scf_batch.close.retry import RefusalStreak, RetryPolicy, decide
from scf_batch.errors import (
    ApiError,
    AuthError,
    CloseError,
    NetworkError,
    RateLimited,
    ServerError,
    TransientError,
)

POLICY = RetryPolicy()


def rate_limited(retry_after_s: float | None) -> RateLimited:
    return RateLimited("429", retry_after_s=retry_after_s)


@pytest.mark.parametrize(
    "error",
    [
        AuthError("401", status=401),
        AuthError("403", status=403),
        ApiError("400", status=400, field_errors={"object_type": "x"}),
        ApiError("404", status=404),
        CloseError("unexpected status 302", status=302),
    ],
)
def test_permanent_errors_are_never_retried(error: CloseError) -> None:
    """AuthError, ApiError and a bare CloseError give up at once."""
    assert decide(error, attempt=0, elapsed_s=0.0, policy=POLICY, rand=0.5) is None


@pytest.mark.parametrize("hint", [0.25, 3.0, 17.5])
def test_a_429_waits_its_hint(hint: float) -> None:
    """A 429 with a usable hint waits exactly that long, whatever the jitter draw."""
    assert decide(rate_limited(hint), attempt=0, elapsed_s=0.0, policy=POLICY, rand=0.9) == hint


@pytest.mark.parametrize("hint", [None, 0.0, -1.0, math.nan, math.inf])
def test_a_429_without_a_usable_hint_waits_the_default(hint: float | None) -> None:
    """None, 0, negative, NaN or infinite hints fall back to default_429_wait_s."""
    policy = RetryPolicy(default_429_wait_s=4.0)
    assert decide(rate_limited(hint), attempt=0, elapsed_s=0.0, policy=policy, rand=0.0) == 4.0


def test_a_429_does_not_use_up_max_retries() -> None:
    """A 429 is retried even when the non-429 attempt count is past max_retries."""
    policy = RetryPolicy(max_retries=0)
    assert decide(rate_limited(1.0), attempt=99, elapsed_s=0.0, policy=policy, rand=0.5) == 1.0


def test_a_429_respects_the_row_deadline() -> None:
    """A 429 whose wait would end past the row deadline gives up."""
    policy = RetryPolicy(row_deadline_s=10.0)
    assert decide(rate_limited(3.0), attempt=0, elapsed_s=7.0, policy=policy, rand=0.5) == 3.0
    assert decide(rate_limited(3.0), attempt=0, elapsed_s=7.5, policy=policy, rand=0.5) is None


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)],
)
def test_transient_errors_back_off_exponentially(attempt: int, expected: float) -> None:
    """With rand=1 the wait is base * 2**attempt: the ceiling of the full jitter."""
    error = ServerError("503", status=503)
    assert decide(error, attempt=attempt, elapsed_s=0.0, policy=POLICY, rand=1.0) == expected


def test_backoff_is_capped_at_max_delay() -> None:
    """The backoff ceiling never exceeds max_delay_s."""
    policy = RetryPolicy(max_retries=100, max_delay_s=30.0)
    error = NetworkError("reset")
    assert decide(error, attempt=10, elapsed_s=0.0, policy=policy, rand=1.0) == 30.0


def test_full_jitter_scales_the_ceiling_by_rand() -> None:
    """The wait is rand times the ceiling: 0 with rand=0, half with rand=0.5."""
    error = NetworkError("timeout")
    assert decide(error, attempt=2, elapsed_s=0.0, policy=POLICY, rand=0.0) == 0.0
    assert decide(error, attempt=2, elapsed_s=0.0, policy=POLICY, rand=0.5) == 1.0


def test_transient_errors_give_up_after_max_retries() -> None:
    """attempt counts earlier non-429 failures: max_retries=3 retries attempts 0, 1, 2 only."""
    policy = RetryPolicy(max_retries=3)
    error = ServerError("502", status=502)
    waits = [decide(error, attempt=a, elapsed_s=0.0, policy=policy, rand=1.0) for a in range(5)]
    assert waits == [0.5, 1.0, 2.0, None, None]


def test_max_retries_zero_never_retries_transient_errors() -> None:
    """max_retries=0 gives up on the first 5xx."""
    policy = RetryPolicy(max_retries=0)
    assert decide(ServerError("500"), attempt=0, elapsed_s=0.0, policy=policy, rand=0.5) is None


def test_transient_errors_respect_the_row_deadline() -> None:
    """A backoff that would end past the row deadline gives up."""
    policy = RetryPolicy(row_deadline_s=5.0)
    error = NetworkError("reset")
    assert decide(error, attempt=0, elapsed_s=4.9, policy=policy, rand=0.1) == pytest.approx(0.05)
    assert decide(error, attempt=0, elapsed_s=4.9, policy=policy, rand=1.0) is None
    assert decide(error, attempt=0, elapsed_s=6.0, policy=policy, rand=0.0) is None


def test_a_huge_attempt_count_does_not_overflow() -> None:
    """An attempt number far beyond any float exponent still yields max_delay_s."""
    policy = RetryPolicy(max_retries=10**6, row_deadline_s=1e9)
    assert decide(NetworkError("x"), attempt=5000, elapsed_s=0, policy=policy, rand=1.0) == 30.0


@pytest.mark.parametrize("rand", [-0.1, 1.5, math.nan])
def test_rand_outside_the_unit_interval_is_a_caller_bug(rand: float) -> None:
    """rand must be a draw in [0, 1]."""
    with pytest.raises(ValueError, match="rand"):
        decide(NetworkError("x"), attempt=0, elapsed_s=0.0, policy=POLICY, rand=rand)


def test_a_negative_attempt_is_a_caller_bug() -> None:
    """attempt counts failures, so it is never negative."""
    with pytest.raises(ValueError, match="attempt"):
        decide(NetworkError("x"), attempt=-1, elapsed_s=0.0, policy=POLICY, rand=0.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"base_delay_s": -1.0},
        {"max_delay_s": math.inf},
        {"row_deadline_s": math.nan},
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    """Negative counts and negative or non-finite durations are refused at construction."""
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


transient_errors = st.sampled_from(
    [ServerError("500", status=500), NetworkError("reset"), TransientError("x")]
)
policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(0, 20),
    base_delay_s=st.floats(0, 10),
    max_delay_s=st.floats(0, 100),
    row_deadline_s=st.floats(0, 1000),
    default_429_wait_s=st.floats(0, 60),
)


@given(
    error=transient_errors,
    attempt=st.integers(0, 10**4),
    elapsed_s=st.floats(0, 2000),
    policy=policies,
    rand=st.floats(0, 1),
)
def test_backoff_stays_within_its_bounds(
    error: TransientError, attempt: int, elapsed_s: float, policy: RetryPolicy, rand: float
) -> None:
    """A 5xx/network wait is within [0, max_delay], inside the deadline and the retry budget."""
    wait = decide(error, attempt=attempt, elapsed_s=elapsed_s, policy=policy, rand=rand)
    if wait is not None:
        assert 0 <= wait <= policy.max_delay_s
        assert elapsed_s + wait <= policy.row_deadline_s
        assert attempt < policy.max_retries
    elif attempt < policy.max_retries and rand == 0:
        assert elapsed_s > policy.row_deadline_s


@given(
    hint=st.one_of(st.none(), st.floats()),
    attempt=st.integers(0, 10**4),
    elapsed_s=st.floats(0, 2000),
    policy=policies,
    rand=st.floats(0, 1),
)
def test_429_waits_are_positive_hints_or_the_default(
    hint: float | None, attempt: int, elapsed_s: float, policy: RetryPolicy, rand: float
) -> None:
    """A 429 is retried after its hint or the default exactly when that fits the deadline."""
    wait = decide(
        rate_limited(hint), attempt=attempt, elapsed_s=elapsed_s, policy=policy, rand=rand
    )
    usable = hint is not None and math.isfinite(hint) and hint > 0
    expected = hint if usable else policy.default_429_wait_s
    assert expected is not None
    assert wait == (expected if elapsed_s + expected <= policy.row_deadline_s else None)


@pytest.mark.parametrize(
    ("module", "banned"),
    [
        ("close/retry", {"aiohttp", "anyio", "structlog", "asyncio", "time", "random"}),
        ("close/pacer", {"aiohttp", "structlog", "time"}),
    ],
)
def test_pure_modules_stay_off_the_network_and_the_clock(module: str, banned: set[str]) -> None:
    """retry imports no I/O, clock or randomness; ratelimit speaks no HTTP."""
    tree = ast.parse((Path(scf_batch.__file__).parent / f"{module}.py").read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert imported & banned == set()


def test_a_streak_of_rows_refused_with_429s_trips_the_breaker() -> None:
    """budget rows in a row that gave up on 429s stop the run; any other ending resets."""
    streak = RefusalStreak(budget=3)
    seen = [
        streak.see(gave_up=True, status=429),
        streak.see(gave_up=True, status=429),
        streak.see(gave_up=False, status=200),  # a row got through: not refusing after all
        streak.see(gave_up=True, status=503),  # gave up on 5xx: not a refusal
        streak.see(gave_up=True, status=429),
        streak.see(gave_up=True, status=429),
    ]
    assert seen == [None] * 6
    reason = streak.see(gave_up=True, status=429)
    assert reason is not None
    assert "429 to every attempt of the last 3 rows" in reason
