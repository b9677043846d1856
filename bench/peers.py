"""What a user would write instead of scf-batch, run as its own process by `bench/bench.py`.

    CLOSE_API_KEY=... python bench/peers.py CONTENDER --base-url URL --job FILE.csv --rate R

- `closeio-seq`: Close's official client (`closeio_api.API`), one POST after another.
- `closeio-pool`: the same client in a `ThreadPoolExecutor` of 8 (one client per thread, as its
  `requests.Session` is not meant to be shared).
- `aiolimiter`: aiohttp with `AsyncLimiter(R, 1)` and a fixed pool of 16 workers; a 429 waits
  its `Retry-After` and tries again, up to 5 times.
- `bare`: the same aiohttp loop with no limiter, no retry, no results, checkpoint or logging: the
  CPU floor for sending these requests.

Each stops taking new rows after `--deadline` seconds (the sequential client cannot finish a
long job in reasonable time; its rate is what counts). Prints one JSON line:
`{"attempted": N, "ok": N, "failed": N}`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
from aiolimiter import AsyncLimiter
from closeio_api import API, APIError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import read_job

Post = tuple[str, dict[str, str]]
POOL_THREADS = 8
ASYNC_WORKERS = 16
MAX_429_RETRIES = 5


class Tally:
    """Rows taken, succeeded and failed, shared by the workers; stops handing out at a deadline."""

    def __init__(self, posts: Iterator[Post], deadline_s: float) -> None:
        self._posts = posts
        self._until = time.monotonic() + deadline_s
        self._lock = threading.Lock()
        self.attempted = self.ok = self.failed = 0

    def take(self) -> Post | None:
        """The next row, or None when none is left or the deadline has passed."""
        with self._lock:
            if time.monotonic() >= self._until:
                return None
            post = next(self._posts, None)
            self.attempted += post is not None
            return post

    def record(self, success: bool) -> None:
        with self._lock:
            self.ok += success
            self.failed += not success


def closeio_worker(base_url: str, key: str, tally: Tally) -> None:
    """One thread's loop with its own official client."""
    api = API(base_url, api_key=key, tz_offset="0")
    while (post := tally.take()) is not None:
        path, body = post
        try:
            api.post(path.rstrip("/"), data=body)  # the client appends the "/"
        except (APIError, OSError):
            tally.record(False)
        else:
            tally.record(True)


def run_closeio(base_url: str, key: str, tally: Tally, threads: int) -> None:
    if threads == 1:
        closeio_worker(base_url, key, tally)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(closeio_worker, base_url, key, tally)


async def run_aiohttp(base_url: str, key: str, tally: Tally, rate: float | None) -> None:
    """16 workers; with a rate, each POST goes through `AsyncLimiter(rate, 1)`."""
    limiter = AsyncLimiter(rate, 1) if rate else None
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    connector = aiohttp.TCPConnector(limit=ASYNC_WORKERS)
    async with aiohttp.ClientSession(base_url, headers=headers, connector=connector) as session:

        async def send(path: str, body: dict[str, str]) -> bool:
            for _ in range(MAX_429_RETRIES + 1):
                if limiter is not None:
                    await limiter.acquire()
                async with session.post(path, data=json.dumps(body)) as response:
                    await response.read()
                    if response.status != 429 or limiter is None:
                        return response.status < 300
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            return False

        async def worker() -> None:
            while (post := tally.take()) is not None:
                try:
                    tally.record(await send(*post))
                except aiohttp.ClientError:
                    tally.record(False)

        await asyncio.gather(*(worker() for _ in range(ASYNC_WORKERS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=["closeio-seq", "closeio-pool", "aiolimiter", "bare"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--job", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--deadline", type=float, default=3600.0)
    args = parser.parse_args()
    key = os.environ["CLOSE_API_KEY"]
    tally = Tally(read_job(args.job), args.deadline)
    if args.contender.startswith("closeio"):
        threads = 1 if args.contender == "closeio-seq" else POOL_THREADS
        run_closeio(args.base_url, key, tally, threads)
    else:
        rate = args.rate if args.contender == "aiolimiter" else None
        asyncio.run(run_aiohttp(args.base_url, key, tally, rate))
    print(json.dumps({"attempted": tally.attempted, "ok": tally.ok, "failed": tally.failed}))


if __name__ == "__main__":
    main()
