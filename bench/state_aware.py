"""What reading the org before writing buys: requests sent against the minimum, a no-drift
nightly job, and the snapshot's own cost. Printed side by side from one run.

1. Mixed job on the default seed's target org (creates, updates, deletes, rows with nothing to
   do, rows that fail): requests sent ÷ minimal requests (the snapshot's reads + the writes the
   org needs). Goal ≤ 1.02.
2. No-drift nightly `ensure` of 10,000 rows (an org of 400 fields x 25 targets, all associated
   as the job asks) at `--rate 20`, simulator latency 100 ms: the whole process's wall time,
   beside what a design that reads each row's association first needs at the least
   (N ÷ 20 req/s). Goal ≤ 5 s.
3. The snapshot of an org with 1,000 fields: requests ≤ ⌈1000/100⌉ + 4.

    .venv/bin/python bench/state_aware.py [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import all_pairs, cli_env, run_args, write_csv  # noqa: E402
from tests.simproc import SimProcess, sim_process  # noqa: E402

BENCH_KEY = "api_bench_key_1"
SNAPSHOT_READS = 5  # me/, role/, custom_activity/, custom_object_type/, one fields page


def total_requests(sim: SimProcess) -> int:
    stats = sim.stats()
    return sum(sum(by_status.values()) for by_status in stats["by_group"].values())


def writes(sim: SimProcess) -> int:
    stats = sim.stats()
    return sum(
        sum(by_status.values())
        for group, by_status in stats["by_group"].items()
        if not group.startswith("GET")
    )


def run(job: Path, sim: SimProcess, out: Path, *extra: str, key: str) -> float:
    """Run the CLI to the end; its wall time (the whole process)."""
    started = time.perf_counter()
    done = subprocess.run(
        run_args(job, sim.base_url, out, *extra),
        env=cli_env(key),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def mixed_job(folder: Path) -> dict[str, Any]:
    """Requests of a mixed job against the minimum it needs."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        seeded = [p.row(f"s{i}", "ensure") for i, p in enumerate(pairs[:30])]
        seed = write_csv(folder / "seed.csv", seeded)
        run(seed, sim, folder / "seed", key="api_target_key_1")
        rows = [p.row(f"new{i}", "associate", "true") for i, p in enumerate(pairs[30:90])]
        rows += [p.row(f"same{i}", "ensure") for i, p in enumerate(pairs[:10])]
        rows += [p.row(f"upd{i}", "update", "true", "admin") for i, p in enumerate(pairs[10:20])]
        rows += [p.row(f"del{i}", "disassociate") for i, p in enumerate(pairs[20:25])]
        rows += [p.row(f"gone{i}", "disassociate") for i, p in enumerate(pairs[90:95])]
        rows += [p.row(f"miss{i}", "update", "true") for i, p in enumerate(pairs[95:100])]
        job = write_csv(folder / "mixed.csv", rows)
        before_total, before_writes = total_requests(sim), writes(sim)
        run(job, sim, folder / "mixed", "--allow-delete", key="api_target_key_1")
        sent = total_requests(sim) - before_total
        needed = (writes(sim) - before_writes) + SNAPSHOT_READS
    return {"rows": len(rows), "sent": sent, "minimal": needed, "ratio": sent / needed}


def big_seed(folder: Path, fields: int, associated: float) -> tuple[Path, Path, int]:
    seed, ops = folder / f"seed-{fields}.json", folder / f"ops-{fields}.csv"
    subprocess.run(
        [sys.executable, "-m", "scf_batch.sim.seedgen", "--fields", str(fields),
         "--activity-types", "11", "--object-types", "11", "--associated", str(associated),
         "-o", str(seed), "--ops", str(ops)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    with ops.open(newline="") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    return seed, ops, rows


def nightly(folder: Path, fields: int) -> dict[str, Any]:
    """A no-drift nightly ensure job: wall time of the whole process."""
    seed, ops, rows = big_seed(folder, fields, 1.0)
    with sim_process("--seed", str(seed), "--latency-ms", "100") as sim:
        before = total_requests(sim)
        elapsed = run(ops, sim, folder / "nightly", "--rate", "20", key=BENCH_KEY)
        sent = total_requests(sim) - before
        changed = writes(sim)
    return {
        "rows": rows,
        "wall_s": elapsed,
        "requests": sent,
        "writes": changed,
        "read_each_row_floor_s": rows / 20,
    }


def snapshot_cost(folder: Path) -> dict[str, Any]:
    """Requests of reading an org of 1,000 fields (through `scf-batch plan` of a tiny job)."""
    seed, ops, _ = big_seed(folder, 1000, 0.01)
    head = ops.read_text().splitlines()[:2]
    job = folder / "one.csv"
    job.write_text("\n".join(head) + "\n")
    with sim_process("--seed", str(seed)) as sim:
        before = total_requests(sim)
        subprocess.run(
            [sys.executable, "-m", "scf_batch", "plan", str(job), "--base-url", sim.base_url],
            env=cli_env(BENCH_KEY), capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        sent = total_requests(sim) - before
    return {"fields": 1000, "requests": sent, "bound": math.ceil(1000 / 100) + 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 100-field org for section 2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mixed = mixed_job(folder)
        night = nightly(folder, 40 if args.quick else 400)
        snap = snapshot_cost(folder)
    print("state-aware runs (bench/state_aware.py)")
    print(
        f"  mixed job, {mixed['rows']} rows: {mixed['sent']} requests sent / {mixed['minimal']} "
        f"minimal = {mixed['ratio']:.3f}  (goal ≤ 1.02: {'met' if mixed['ratio'] <= 1.02 else 'MISSED'})"  # noqa: E501
    )
    ok = night["wall_s"] <= 5
    print(
        f"  no-drift nightly ensure, {night['rows']} rows at --rate 20, 100 ms latency: "
        f"{night['wall_s']:.1f} s whole process, {night['requests']} requests, "
        f"{night['writes']} writes; reading each row first needs ≥ "
        f"{night['read_each_row_floor_s']:.0f} s  (goal ≤ 5 s: {'met' if ok else 'MISSED'})"
    )
    print(
        f"  snapshot of {snap['fields']} fields: {snap['requests']} requests "
        f"(goal ≤ {snap['bound']}: {'met' if snap['requests'] <= snap['bound'] else 'MISSED'})"
    )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    document = {"mixed": mixed, "nightly": night, "snapshot": snap, "at": time.time()}
    (results / "state_aware.json").write_text(json.dumps(document, indent=2) + "\n")
    os.sync()


if __name__ == "__main__":
    main()
