"""Pure retry policy: (error, attempt, elapsed, rand) -> wait N seconds, or give up. No I/O.

The caller owns the loop, the clock and the randomness; this module only decides, so every branch
is testable with plain values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scf_batch.errors import CloseError, RateLimited, TransientError

DEFAULT_429_WAIT_S = 5.0
# 2**62 already dwarfs any max_delay_s; capping the exponent keeps the float math finite.
_MAX_EXPONENT = 62


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how often a row may be retried.

    `max_retries` bounds retries of non-429 transient errors (5xx, timeouts, dropped
    connections); 429s never use it up. `row_deadline_s` caps a row's total time, 429s included.
    `default_429_wait_s` is the wait on a 429 that carried no usable hint.
    """

    max_retries: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    row_deadline_s: float = 300.0
    default_429_wait_s: float = DEFAULT_429_WAIT_S

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries: got {self.max_retries}, expected >= 0")
        for name in ("base_delay_s", "max_delay_s", "row_deadline_s", "default_429_wait_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: got {value}, expected a finite number >= 0")


def decide(
    error: CloseError, *, attempt: int, elapsed_s: float, policy: RetryPolicy, rand: float
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    `attempt` counts only the row's earlier non-429 transient failures: 0 on the first one,
    1 on the second, ...; the caller does not increment it for a 429. With `max_retries=5` a row
    gets five retries of 5xx/network errors, however many 429s it meets. `elapsed_s` is the time
    since the row's first attempt started; no retry is scheduled to start past
    `policy.row_deadline_s`. `rand` is a uniform draw in [0, 1] for the full jitter.

    - 429 (`RateLimited`): its `retry_after_s` when usable (finite, > 0), else the default.
    - other transient errors: `rand * min(max_delay_s, base_delay_s * 2**attempt)` (full jitter),
      until `attempt` reaches `max_retries`.
    - anything else (`AuthError`, `ApiError`, a bare `CloseError`): never retried.
    """
    if not 0.0 <= rand <= 1.0:
        raise ValueError(f"rand: got {rand}, expected a number in [0, 1]")
    if attempt < 0:
        raise ValueError(f"attempt: got {attempt}, expected >= 0")
    if isinstance(error, RateLimited):
        wait_s = _usable(error.retry_after_s, policy.default_429_wait_s)
    elif isinstance(error, TransientError):
        if attempt >= policy.max_retries:
            return None
        ceiling_s = policy.base_delay_s * 2.0 ** min(attempt, _MAX_EXPONENT)
        wait_s = rand * min(policy.max_delay_s, ceiling_s)
    else:
        return None
    if elapsed_s + wait_s > policy.row_deadline_s:
        return None
    return wait_s


def _usable(hint_s: float | None, default_s: float) -> float:
    """A server hint when it is a real wait; 0, negative, NaN or infinite mean "no hint"."""
    if hint_s is None or not math.isfinite(hint_s) or hint_s <= 0:
        return default_s
    return hint_s


@dataclass(slots=True)
class RefusalStreak:
    """The run-level circuit breaker: rows in a row that gave up on 429s.

    A row gives up on 429s only after its whole time cap (`row_deadline_s`) of waiting, so a
    streak of `budget` such rows means Close has refused every attempt for that long: going on
    would spend hours (20,000 rows at five minutes each) getting nowhere. Any row that ends
    another way breaks the streak.
    """

    budget: int
    count: int = 0

    def see(self, *, gave_up: bool, status: int | None) -> str | None:
        """Count one finished row; the reason to stop the run once the budget is reached."""
        if not (gave_up and status == 429):
            self.count = 0
            return None
        self.count += 1
        if self.count < self.budget:
            return None
        return (
            f"Close answered 429 to every attempt of the last {self.count} rows, each for as "
            "long as a row may take; it is refusing these requests for now, rerun later"
        )
