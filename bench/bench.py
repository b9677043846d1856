"""scf-batch against the physical floor N/R and what users would use instead, in one run.

    .venv/bin/python bench/bench.py [--quick] [--sections 1,2,3,4,5] [--contenders ...]

Every contender is a real process against a real `scf-batch sim` process, measured side by side
in the same run, so the figures are ratios, not absolute times:

1. efficiency: N creates at R per key per group in Close's 8 s windows, latency 80 + U(0, 40) ms;
   for each contender efficiency = (N/R) / elapsed (whole process, start-up included), the share
   of requests that met a 429, rows lost. R = 20, 50, 100, R = 20 with `--header-style none`,
   and R = 20 in the simulator's shortest (1 s) windows.
2. latency: scf-batch at default settings (`--rate R`) with 50, 300 and 1,000 ms of latency,
   with the ceiling two round trips leave (reading the org, the last answer).
3. one org, four keys: four runs at once, combined throughput against the org's 3R.
4. CPU: rate limit off, scf-batch rows/s against a bare aiohttp loop sending the same POSTs.
5. memory and resume: peak RSS of `run` for 10k and 200k rows; time to the first request of a
   resume with 200,000 of 200,100 rows done, against a plain read of its results file.

Prints one table and writes `bench/results/bench-<time>.json`. The goals are issue 12's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from measure import Measure, format_table  # noqa: E402
from sections import SECTIONS, Plan  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small jobs, R = 20 only")
    parser.add_argument("--sections", default="1,2,3,4,5", help="comma-separated, from 1-5")
    parser.add_argument("--contenders", default="", help="section 1 only these (comma-separated)")
    parser.add_argument("--rates", default="", help="section 1 only these R (comma-separated)")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="JSON folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan.quick() if args.quick else Plan.full()
    if args.contenders:
        plan.contenders = tuple(args.contenders.split(","))
    if args.rates:
        plan.rates = tuple(int(r) for r in args.rates.split(","))
    wanted = [int(s) for s in args.sections.split(",")]
    measures: list[Measure] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scf-bench-") as tmp:
        for number in wanted:
            section: Callable[[Plan, Path], list[Measure]] = SECTIONS[number]
            found = section(plan, Path(tmp) / f"s{number}")
            measures += found
            print(f"-- section {number} done ({time.monotonic() - started:.0f} s)", flush=True)
    print(format_table(measures))
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    report = {
        "command": " ".join(["bench/bench.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "wall_s": round(time.monotonic() - started, 1),
        "plan": asdict(plan),
        "measures": [asdict(m) for m in measures],
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
