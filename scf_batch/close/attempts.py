"""The retry loop: send a call until it answers, under the pure policy of retry.py.

One `Attempts` per row (or per list read) counts the requests sent and the retries among them.
A call that is not safe to replay (POST, DELETE) raises `UnknownFate` after a transient failure
instead of being sent again: the caller confirms by reading state first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from scf_batch.close.retry import RetryPolicy, decide
from scf_batch.errors import GaveUp, RateLimited, TransientError, UnknownFate

T = TypeVar("T")


class Attempts:
    """Sends one row's requests under the retry policy and counts them.

    `count`: requests sent; `retries`: failures (429 or transient) after which the row went on.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.count = 0
        self.failures = 0
        self.rate_limited = 0
        self.retries = 0
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._started = clock()

    async def run(self, call: Callable[[], Awaitable[T]], *, safe: bool) -> T:
        """Send `call` until it answers; a replay-unsafe call raises UnknownFate after a
        transient failure (having waited its backoff) so the caller can confirm first."""
        while True:
            self.count += 1
            try:
                return await call()
            except TransientError as exc:
                is_429 = isinstance(exc, RateLimited)
                delay = decide(
                    exc,
                    attempt=self.failures,  # earlier non-429 failures of this row
                    elapsed_s=self._clock() - self._started,
                    policy=self.policy,
                    rand=self._rand(),
                )
                if is_429:
                    self.rate_limited += 1
                else:
                    self.failures += 1
                if delay is None:
                    raise GaveUp(exc) from exc
                self.retries += 1  # a request will follow for this failure (a replay or a read)
                # A 429 already paused the endpoint group in the pacer; the next acquire waits.
                if not is_429:
                    await self._sleep(delay)
                if not safe and not is_429:
                    raise UnknownFate from exc
