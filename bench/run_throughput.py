"""How close `scf-batch run` gets to the rate limit it is given.

The simulator runs as a subprocess with `--rate-limit R` and `--latency-ms 100`; the runner runs
as a subprocess with `--rate R` over an associate-only job long enough to last at least 20 s.
Printed side by side from one run: the allowed rate R, the achieved rate of association POSTs
(from the simulator's own count over the run's elapsed time), their ratio, and the 429s met.
Goal: achieved ≥ 0.95 R.

    .venv/bin/python bench/run_throughput.py [--rate 10] [--seconds 25] [--concurrency 16]
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.simproc import SimProcess, sim_process  # noqa: E402

TARGET_KEY = "api_target_key_1"
POST_GROUP = "POST custom_field/shared/{scf_id}/association/"


def add_fields(sim: SimProcess, count: int) -> None:
    """Create `count` more text fields in the target org (rate limit off while we do)."""
    auth = "Basic " + __import__("base64").b64encode(f"{TARGET_KEY}:".encode()).decode()
    for i in range(count):
        body = json.dumps({"name": f"Bench Field {i:05d}", "type": "text"}).encode()
        request = urllib.request.Request(
            f"{sim.base_url}custom_field/shared/",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": auth},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def write_job(sim: SimProcess, path: Path, rows: int) -> int:
    org = next(o for o in sim.state()["orgs"] if o["name"] == "Acme Target")
    targets = [("lead", "", ""), ("contact", "", ""), ("opportunity", "", "")]
    targets += [("custom_activity_type", t["name"], "") for t in org["custom_activity_types"]]
    targets += [("custom_object_type", "", t["name"]) for t in org["custom_object_types"]]
    written = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["scf_id", "object_type", "custom_activity_type_name", "custom_object_type_name"]
        )
        for field in org["shared_custom_fields"]:
            for object_type, activity, cotype in targets:
                if written == rows:
                    return written
                writer.writerow([field["id"], object_type, activity, cotype])
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="R: limit and runner --rate")
    parser.add_argument("--seconds", type=float, default=25.0, help="job length at rate R")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    rows = math.ceil(args.rate * args.seconds)
    sim_args = ("--latency-ms", str(args.latency_ms), "--jitter-ms", "0")
    with sim_process(*sim_args) as sim, tempfile.TemporaryDirectory() as tmp:
        per_field = 10
        have = len(
            next(o for o in sim.state()["orgs"] if o["name"] == "Acme Target")[
                "shared_custom_fields"
            ]
        )
        add_fields(sim, max(0, math.ceil(rows / per_field) - have))
        job = Path(tmp) / "bench.csv"
        write_job(sim, job, rows)
        sim.configure(rate_limit=int(args.rate))
        before = sim.stats()
        out = Path(tmp) / "run"
        env = {**os.environ, "CLOSE_API_KEY": TARGET_KEY}
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scf_batch",
                "run",
                str(job),
                "--base-url",
                sim.base_url,
                "--out",
                str(out),
                "--rate",
                str(args.rate),
                "--concurrency",
                str(args.concurrency),
                "--no-progress",
                "--log-format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall_s = time.monotonic() - started
        if done.returncode != 0:
            sys.exit(f"run failed ({done.returncode}):\n{done.stderr[-2000:]}")
        summary = json.loads((out / "summary.json").read_text())
        after = sim.stats()
    posts = sum(after["by_group"].get(POST_GROUP, {}).values()) - sum(
        before["by_group"].get(POST_GROUP, {}).values()
    )
    elapsed_s = summary["elapsed_s"]
    achieved = posts / elapsed_s
    limited = after["rate_limited"] - before["rate_limited"]
    print(f"rows {rows}, concurrency {args.concurrency}, latency {args.latency_ms:g} ms")
    print(f"allowed R            {args.rate:8.2f} req/s per endpoint group")
    print(
        f"achieved (POSTs)     {achieved:8.2f} req/s over {elapsed_s:.1f} s "
        f"({posts} POSTs, {limited} answered 429; wall {wall_s:.1f} s with start-up)"
    )
    print(f"ratio achieved / R   {achieved / args.rate:8.3f}   (goal >= 0.95)")


if __name__ == "__main__":
    main()
