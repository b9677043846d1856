"""The five sections of `bench/bench.py`, each a function (plan, scratch folder) -> measures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from measure import Finished, Measure, Proc, peer_run, scf_batch_run
from workload import KEYS, POST_GROUP, write_job, write_seed

from tests.simproc import SimProcess, sim_process

LATENCY = ("--latency-ms", "80", "--jitter-ms", "40")
# Close's windows as seen live (`limit=160; remaining=159; reset=8`, and `rate_window: 8` in the
# old 429 body); the simulator's default 1 s window, the shortest, is measured too (section 1).
CLOSE_WINDOW_S = 8.0
SHORTEST_WINDOW_S = 1.0


def window_args(window_s: float) -> tuple[str, str]:
    return ("--rate-window", f"{window_s:g}")


@dataclass
class Plan:
    """Sizes of every section; `full()` is `make bench`, `quick()` the smoke-sized run."""

    seconds_at_limit: float  # section 1-3 job length at the limit
    rates: tuple[int, ...]
    contenders: tuple[str, ...]
    latencies_ms: tuple[int, ...]
    cpu_rows: int
    rss_rows: tuple[int, int]  # small, large
    resume_left: int  # rows left to do when resuming the large job

    @classmethod
    def full(cls) -> Plan:
        return cls(
            seconds_at_limit=30.0,
            rates=(20, 50, 100),
            contenders=("scf-batch", "closeio-seq", "closeio-pool", "aiolimiter"),
            latencies_ms=(50, 300, 1000),
            cpu_rows=20_000,
            rss_rows=(10_000, 200_000),
            resume_left=100,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            seconds_at_limit=3.0,
            rates=(20,),
            contenders=("scf-batch", "closeio-seq", "closeio-pool", "aiolimiter"),
            latencies_ms=(50, 300),
            cpu_rows=2_000,
            rss_rows=(1_000, 5_000),
            resume_left=100,
        )


@contextmanager
def simulator(folder: Path, rows: int, *args: str) -> Iterator[SimProcess]:
    """A simulator process seeded with the fields `rows` rows need."""
    folder.mkdir(parents=True, exist_ok=True)
    seed = folder / "seed.json"
    if not seed.exists():
        write_seed(seed, rows)
    with sim_process("--seed", str(seed), *args) as sim:
        yield sim


@dataclass
class Observed:
    """A contender's process plus what the simulator saw during it."""

    finished: Finished
    applied: int
    share_429: float
    requests: int


def observe(sim: SimProcess, start: Callable[[], Proc]) -> Observed:
    """Reset the simulator, run one contender to its end, read the simulator's counts."""
    sim.reset()
    finished = start().wait()
    if finished.returncode not in (0, 4):
        print(f"  exit {finished.returncode}: {finished.stderr[-1500:]}", file=sys.stderr)
    stats = sim.stats()
    total = stats["total"]
    return Observed(
        finished=finished,
        applied=stats["writes_applied"].get(POST_GROUP, 0),
        share_429=stats["rate_limited"] / total if total else 0.0,
        requests=total,
    )


def contender_proc(
    name: str, job: Path, sim: SimProcess, out: Path, *, rate: float, n: int
) -> Proc:
    if name == "scf-batch":
        return scf_batch_run(job, sim.base_url, out, rate=rate, key=KEYS[0])
    # the sequential client cannot reach R; give it the floor's time and count what it did
    deadline = n / rate if name == "closeio-seq" else 1.5 * n / rate + 10
    return peer_run(name, job, sim.base_url, rate=rate, deadline_s=deadline)


def efficiency_measure(
    section: int, case: str, name: str, *, rate: float, rows: int, seen: Observed, goal: float
) -> Measure:
    """(done / R) / elapsed, 429 share, rows lost; the goal applies to scf-batch only."""
    attempted = rows
    if name != "scf-batch" and seen.finished.stdout.strip():
        attempted = json.loads(seen.finished.stdout)["attempted"]
    efficiency = seen.applied / rate / seen.finished.wall_s
    is_ours = name == "scf-batch"
    met = None
    if is_ours:
        met = efficiency >= goal and seen.share_429 < 0.005 and seen.applied == rows
    return Measure(
        section=section,
        case=case,
        contender=name,
        rows=seen.applied,
        elapsed_s=seen.finished.wall_s,
        metric="efficiency",
        value=efficiency,
        goal=f">= {goal}, 429 < 0.5 %" if is_ours else "",
        met=met,
        share_429=seen.share_429,
        lost=attempted - seen.applied,
        details={"requests": seen.requests, "exit": seen.finished.returncode, "rate": rate},
    )


def section_1(plan: Plan, folder: Path) -> list[Measure]:
    """Efficiency against N/R for every contender, at each R and without the RateLimit header,
    in Close's 8 s windows; and at the first R in the simulator's shortest, 1 s, windows."""
    first = plan.rates[0]
    cases = [(rate, "comma", CLOSE_WINDOW_S) for rate in plan.rates]
    cases += [(first, "none", CLOSE_WINDOW_S), (first, "comma", SHORTEST_WINDOW_S)]
    most = max(math.ceil(plan.seconds_at_limit * rate) for rate in plan.rates)
    measures = []
    for rate, style, window_s in cases:
        rows = math.ceil(plan.seconds_at_limit * rate)
        job = write_job(_mkdir(folder) / f"job-{rate}.csv", 0, rows)
        args = ("--rate-limit", str(rate), *LATENCY, "--header-style", style)
        with simulator(folder, most, *args, *window_args(window_s)) as sim:
            for name in plan.contenders:
                out = folder / f"out-{rate}-{style}-{window_s:g}-{name}"
                seen = observe(sim, partial(contender_proc, name, job, sim, out, rate=rate, n=rows))
                case = f"R={rate} header={style} window={window_s:g}s"
                measures.append(
                    efficiency_measure(1, case, name, rate=rate, rows=rows, seen=seen, goal=0.97)
                )
                print(f"  {case} {name}: {measures[-1].value:.3f}", flush=True)
    return measures


def section_2(plan: Plan, folder: Path) -> list[Measure]:
    """scf-batch at default settings under higher latencies (R = 20, the default rate)."""
    rate = 20
    rows = math.ceil(plan.seconds_at_limit * rate)
    job = write_job(_mkdir(folder) / "job.csv", 0, rows)
    measures = []
    for latency in plan.latencies_ms:
        jitter = str(latency // 2)
        args = ("--rate-limit", str(rate), "--latency-ms", str(latency), "--jitter-ms", jitter)
        with simulator(folder, rows, *args, *window_args(CLOSE_WINDOW_S)) as sim:
            out = folder / f"out-{latency}"
            start = partial(scf_batch_run, job, sim.base_url, out, rate=rate, key=KEYS[0])
            seen = observe(sim, start)
        case = f"R={rate} latency {latency}+U(0,{jitter}) ms"
        measures.append(
            efficiency_measure(2, case, "scf-batch", rate=rate, rows=rows, seen=seen, goal=0.95)
        )
        measures[-1].goal = ">= 0.95"
        # reading the org before writing and the last write's answer: two round trips N/R omits
        floor_s, round_trip_s = rows / rate, (latency + int(jitter) / 2) / 1000
        measures[-1].details["ceiling_two_round_trips"] = round(
            floor_s / (floor_s + 2 * round_trip_s), 3
        )
    return measures


def section_3(plan: Plan, folder: Path) -> list[Measure]:
    """Four runs at once, one per key of one org: the org's 3R binds."""
    rate, runs = 20, len(KEYS)
    each = math.ceil(plan.seconds_at_limit * 3 * rate / runs)
    jobs = [
        write_job(_mkdir(folder) / f"job-{k}.csv", k * each, (k + 1) * each) for k in range(runs)
    ]
    limit = ("--rate-limit", str(rate), *window_args(CLOSE_WINDOW_S))
    with simulator(folder, each * runs, *limit, *LATENCY) as sim:
        sim.reset()
        procs = [
            scf_batch_run(job, sim.base_url, folder / f"out-{k}", rate=rate, key=KEYS[k])
            for k, job in enumerate(jobs)
        ]
        with ThreadPoolExecutor(runs) as pool:
            done = list(pool.map(Proc.wait, procs))
        stats = sim.stats()
    wall_s = max(f.wall_s for f in done)
    applied = stats["writes_applied"].get(POST_GROUP, 0)
    share = stats["rate_limited"] / max(1, stats["total"])
    throughput = applied / wall_s / (3 * rate)
    fair = min(f.wall_s for f in done) / wall_s
    ok = all(f.returncode == 0 for f in done)
    return [
        Measure(
            section=3,
            case=f"4 keys x R={rate}, org 3R={3 * rate}",
            contender="scf-batch x4",
            rows=applied,
            elapsed_s=wall_s,
            metric="of 3R",
            value=throughput,
            goal=">= 0.95, all finish, 429 < 2 %",
            met=throughput >= 0.95 and ok and share < 0.02 and applied == each * runs,
            share_429=share,
            lost=each * runs - applied,
            details={"walls_s": [round(f.wall_s, 1) for f in done], "first/last": fair},
        )
    ]


def section_4(plan: Plan, folder: Path) -> list[Measure]:
    """Rate limit off: rows/s of scf-batch against a bare aiohttp loop, and CPU per row."""
    rows = plan.cpu_rows
    job = write_job(_mkdir(folder) / "job.csv", 0, rows)
    found: dict[str, Observed] = {}
    with simulator(folder, rows, "--rate-limit", "0") as sim:
        for name in ("bare", "scf-batch"):
            out = folder / f"out-{name}"
            if name == "bare":
                start = partial(peer_run, "bare", job, sim.base_url, rate=1, deadline_s=3600)
            else:
                start = partial(scf_batch_run, job, sim.base_url, out, rate=1e6, key=KEYS[0])
            found[name] = observe(sim, start)
    ours, bare = found["scf-batch"], found["bare"]
    ratio = (ours.applied / ours.finished.wall_s) / (bare.applied / bare.finished.wall_s)
    cpu_ratio = (bare.finished.cpu_s / max(1, bare.applied)) / (
        ours.finished.cpu_s / max(1, ours.applied)
    )
    details = {
        "rows_per_s": {k: round(v.applied / v.finished.wall_s) for k, v in found.items()},
        "cpu_ms_per_row": {
            k: round(1000 * v.finished.cpu_s / max(1, v.applied), 3) for k, v in found.items()
        },
        "cpu_ratio_bare_over_ours": round(cpu_ratio, 3),
    }
    measures = [
        _plain(4, "rate limit off", name, v, value=v.applied / v.finished.wall_s)
        for name, v in found.items()
    ]
    measures.append(
        Measure(
            4,
            "rate limit off",
            "scf-batch / bare",
            rows,
            ours.finished.wall_s,
            "rows/s ratio",
            ratio,
            ">= 0.5",
            ratio >= 0.5,
            lost=rows - ours.applied,
            details=details,
        )
    )
    return measures


def _plain(section: int, case: str, name: str, seen: Observed, *, value: float) -> Measure:
    return Measure(
        section,
        case,
        name,
        seen.applied,
        seen.finished.wall_s,
        "rows/s",
        value,
        share_429=seen.share_429,
        details={"cpu_s": round(seen.finished.cpu_s, 2)},
    )


def _mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def section_5(plan: Plan, folder: Path) -> list[Measure]:
    """Peak RSS of `run` for a small and a large job; time to the first request on resume."""
    small, large = plan.rss_rows
    total = large + plan.resume_left
    small_job = write_job(_mkdir(folder) / "small.csv", 0, small)
    large_job = write_job(folder / "large.csv", 0, total)
    with simulator(folder, total, "--rate-limit", "0") as sim:
        runs = {}
        for rows, job in ((small, small_job), (large, large_job)):
            out = folder / f"out-{rows}"
            limit = ("--limit", str(rows))
            start = partial(
                scf_batch_run, job, sim.base_url, out, rate=1e6, key=KEYS[0], extra=limit
            )
            runs[rows] = observe(sim, start)
        first_s, resumed = time_to_first_request(sim, large_job, folder / f"out-{large}")
    read_s = plain_read_s(folder / f"out-{large}" / "results.jsonl")
    rss = {rows: seen.finished.peak_rss_mb for rows, seen in runs.items()}
    rss_ratio = rss[large] / rss[small]
    measures = [
        Measure(
            5,
            f"run {rows:,} rows, rate off",
            "scf-batch",
            seen.applied,
            seen.finished.wall_s,
            "peak RSS MB",
            rss[rows],
            "< 150" if rows == large else "",
            rss[rows] < 150 if rows == large else None,
        )
        for rows, seen in runs.items()
    ]
    measures.append(
        Measure(
            5,
            f"RSS {large:,} / {small:,}",
            "scf-batch",
            large,
            0.0,
            "ratio",
            rss_ratio,
            "<= 1.2",
            rss_ratio <= 1.2,
        )
    )
    ratio = first_s / read_s
    measures.append(
        Measure(
            5,
            f"resume, {large:,} of {total:,} done",
            "scf-batch",
            resumed.applied,
            resumed.finished.wall_s,
            "first req / read",
            ratio,
            "<= 2",
            ratio <= 2,
            lost=plan.resume_left - resumed.applied,
            details={"first_request_s": round(first_s, 3), "plain_read_s": round(read_s, 3)},
        )
    )
    return measures


def time_to_first_request(sim: SimProcess, job: Path, out: Path) -> tuple[float, Observed]:
    """Resume the run in `out`; seconds from spawn until the simulator counts a request."""
    before = sim.stats()
    proc = scf_batch_run(job, sim.base_url, out, rate=1e6, key=KEYS[0])
    first_s = math.nan
    while proc.popen.poll() is None:
        if sim.stats()["total"] > before["total"]:
            first_s = time.monotonic() - proc.started
            break
        time.sleep(0.002)
    finished = proc.wait()
    stats = sim.stats()
    applied = stats["writes_applied"].get(POST_GROUP, 0)
    applied -= before["writes_applied"].get(POST_GROUP, 0)
    seen = Observed(finished, applied, 0.0, stats["total"] - before["total"])
    return first_s, seen


def plain_read_s(results: Path) -> float:
    """Wall seconds for a fresh interpreter to read and parse every line of a results file."""
    code = "import json,sys\nfor line in open(sys.argv[1]): json.loads(line)"
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code, str(results)], check=True)
    return time.monotonic() - started


SECTIONS: dict[int, Callable[[Plan, Path], list[Measure]]] = {
    1: section_1,
    2: section_2,
    3: section_3,
    4: section_4,
    5: section_5,
}
