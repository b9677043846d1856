"""Simulator throughput for association POSTs against a do-nothing aiohttp handler.

Starts the simulator (rate limit off, no latency, no faults) and a minimal aiohttp app, each in
its own subprocess, and drives both with the same keep-alive load generator: the same
concurrency, the same number of POSTs, alternating rounds. Prints req/s of both and the ratio
(goal: >= 0.6). Run: `.venv/bin/python bench/sim_throughput.py [--requests N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from scf_batch.sim.ids import stable_id
from scf_batch.sim.seedgen import build_seed

LISTENING = "listening on "
WARMUP = 500
BASELINE = """
import sys
from aiohttp import web

async def post(request):
    return web.Response(status=201)

async def announce(app):
    port = runner.addresses[0][1]
    print(f"baseline listening on http://127.0.0.1:{port}/api/v1/", flush=True)

app = web.Application()
app.router.add_post("/{tail:.*}", post)
runner = web.AppRunner(app, access_log=None)

async def main():
    import asyncio
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await announce(app)
    await asyncio.Event().wait()

import asyncio
asyncio.run(main())
"""


def bench_seed(fields: int) -> tuple[dict[str, Any], list[tuple[str, dict[str, str]]]]:
    """The default seed plus `fields` unassociated fields in the target org, and one 201-bound
    (path, body) per association they can take."""
    seed = build_seed()
    target = seed["orgs"][1]
    template = target["shared_custom_fields"][0]
    kinds: list[dict[str, str]] = [{"object_type": t} for t in ("lead", "contact", "opportunity")]
    kinds += [
        {"object_type": "custom_activity_type", "custom_activity_type_id": t["id"]}
        for t in target["custom_activity_types"]
    ]
    kinds += [
        {"object_type": "custom_object_type", "custom_object_type_id": t["id"]}
        for t in target["custom_object_types"]
    ]
    posts = []
    for i in range(fields):
        scf_id = stable_id("cf_", "bench", str(i))
        target["shared_custom_fields"].append({**template, "id": scf_id, "name": f"Bench {i}"})
        posts += [(f"custom_field/shared/{scf_id}/association/", kind) for kind in kinds]
    return seed, posts


@contextmanager
def server(command: list[str]) -> Iterator[tuple[str, psutil.Process]]:
    """Run a server subprocess; yield its base URL (once it prints its listening line) and the
    process, whose CPU time the rounds measure."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if LISTENING not in line:
            raise RuntimeError(f"server did not start: {line!r}")
        yield line.split(LISTENING, 1)[1].strip(), psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def drive(
    base_url: str, posts: list[tuple[str, dict[str, str]]], concurrency: int
) -> tuple[float, Counter[int]]:
    """POST every (path, body) with `concurrency` keep-alive workers; (req/s, status counts)."""
    headers = {
        "Authorization": "Basic " + base64.b64encode(b"api_target_key_1:").decode(),
        "Content-Type": "application/json",
    }
    statuses: Counter[int] = Counter()
    queue = iter(posts)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector, headers=headers) as session:

        async def worker() -> None:
            for path, body in queue:
                async with session.post(path, data=json.dumps(body)) as response:
                    await response.read()
                    statuses[response.status] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(posts) / elapsed, statuses


def reset(root_url: str) -> None:
    """Back to the seed, so every association POST is new again."""
    request = urllib.request.Request(f"{root_url}_sim/reset", data=b"{}", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


@dataclass
class Measured:
    """One timed run against one server."""

    rate: float  # requests per second seen by the load generator
    cpu_us: float  # server CPU time per request, in microseconds (robust to a busy machine)


def measure(
    url: str, proc: psutil.Process, posts: list[tuple[str, dict[str, str]]], concurrency: int
) -> Measured | None:
    """Drive one server with `posts`; None if any answer was not 201."""
    before = proc.cpu_times()
    rate, statuses = asyncio.run(drive(url, posts, concurrency))
    after = proc.cpu_times()
    if set(statuses) != {201}:
        print(f"unexpected statuses from {url}: {dict(statuses)}")
        return None
    cpu_s = (after.user + after.system) - (before.user + before.system)
    return Measured(rate, cpu_s / len(posts) * 1e6)


def run_rounds(
    servers: dict[str, tuple[str, psutil.Process]],
    posts: list[tuple[str, dict[str, str]]],
    rounds: int,
    concurrency: int,
) -> list[dict[str, Measured]] | None:
    """Alternate which server goes first each round. Each timed run follows a short untimed
    warm-up on other fresh associations; the simulator is reset to the seed every round."""
    timed, warmup = posts[:-WARMUP], posts[-WARMUP:]
    results = []
    for round_no in range(1, rounds + 1):
        reset(servers["sim"][0].removesuffix("api/v1/"))
        measured: dict[str, Measured] = {}
        names = ["sim", "baseline"] if round_no % 2 else ["baseline", "sim"]
        for name in names:
            url, proc = servers[name]
            asyncio.run(drive(url, warmup, concurrency))
            gc.collect()
            result = measure(url, proc, timed, concurrency)
            if result is None:
                return None
            measured[name] = result
        results.append(measured)
        sim, base = measured["sim"], measured["baseline"]
        print(
            f"round {round_no}: simulator {sim.rate:6.0f} req/s ({sim.cpu_us:4.0f} us CPU/req)   "
            f"baseline {base.rate:6.0f} req/s ({base.cpu_us:4.0f} us CPU/req)   "
            f"ratio {sim.rate / base.rate:.2f}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6_000, help="POSTs per round and server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    seed, posts = bench_seed(fields=(args.requests + WARMUP) // 10 + 1)
    posts = posts[: args.requests + WARMUP]
    with tempfile.TemporaryDirectory() as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed))
        sim_cmd = [
            sys.executable,
            "-m",
            "scf_batch",
            "sim",
            "--port",
            "0",
            "--seed",
            str(seed_path),
        ]
        base_cmd = [sys.executable, "-c", BASELINE]
        with server(sim_cmd) as sim, server(base_cmd) as base:
            results = run_rounds(
                {"sim": sim, "baseline": base}, posts, args.rounds, args.concurrency
            )
    if results is None:
        return 1
    rate = {n: statistics.median(r[n].rate for r in results) for n in ("sim", "baseline")}
    cpu = {n: statistics.median(r[n].cpu_us for r in results) for n in ("sim", "baseline")}
    ratio = statistics.median(r["sim"].rate / r["baseline"].rate for r in results)
    print(
        f"median of {args.rounds} rounds x {args.requests} association POSTs, concurrency "
        f"{args.concurrency}:\n  simulator {rate['sim']:.0f} req/s, baseline "
        f"{rate['baseline']:.0f} req/s, ratio {ratio:.2f} (goal >= 0.6)\n"
        f"  server CPU per request: simulator {cpu['sim']:.0f} us, baseline "
        f"{cpu['baseline']:.0f} us, CPU ratio (baseline/simulator) "
        f"{cpu['baseline'] / cpu['sim']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
