"""Many orgs on one machine: a fleet's wall time beside one org's N/R, in one run.

    python bench/fleet.py                     # 50 orgs x 600 rows, rate 20, 80 +- 40 ms
    python bench/fleet.py --orgs 10 --fields 20 --quick

A generated fleet (every org onboarding: each of its rows creates an association) is served by
one simulator process with Close's limits per key and per org, `--latency-ms` and
`--jitter-ms`; `scf-batch fleet run` runs every org at once (`parallel` = orgs), shared by
its worker processes (one per core). Printed side by side: the fleet's wall time, one org's
floor N/R (rows / rate), their ratio (goal <= 1.15), one more org of the same job run alone
first (what one org's run takes on this machine: start-up, the pacer's margin) and the ratio
to it, the 429s' share of requests (goal
< 0.5 %), rows lost, CPU per row, the peak RSS of the fleet's process tree (the fleet and its
workers, sampled) and of its largest process; then a no-drift `fleet plan` of every org beside
the plan of one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from measure import Finished, Proc  # noqa: E402

from scf_batch.sim.fleetseed import FleetSpec, fleet_job_rows, org_slug, write_fleet  # noqa: E402
from tests.simproc import sim_process  # noqa: E402


def fleet_proc(folder: Path, *args: str) -> Proc:
    """`scf-batch fleet ...` in the fleet's folder with every org's key exported."""
    env = {}
    for line in (folder / "keys.env").read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    command = [sys.executable, "-m", "scf_batch", "fleet", *args]
    return Proc(["sh", "-c", f'cd "{folder}" && exec "$0" "$@"', *command], env=env)


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class TreeRss:
    """The peak of the summed RSS of a process and its descendants, sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        self.peak_mb = 0.0
        self._root = psutil.Process(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            total = 0
            try:
                for proc in [self._root, *self._root.children(recursive=True)]:
                    total += proc.memory_info().rss
            except psutil.Error:
                continue  # a process ended mid-sample: the next sample counts the rest
            self.peak_mb = max(self.peak_mb, total / 1e6)

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._done.set()
        self._thread.join()
        return self.peak_mb


def results_rows(folder: Path) -> int:
    """Result lines written by every org (one per row when nothing is lost)."""
    return sum(len(p.read_bytes().splitlines()) for p in folder.glob("runs/*/results.jsonl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--fields", type=int, default=120, help="x 5 targets = rows per org")
    parser.add_argument("--rate", type=int, default=20, help="per key per group, req/s")
    parser.add_argument("--latency-ms", type=int, default=80)
    parser.add_argument("--jitter-ms", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="a small fleet, for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.fields = min(args.orgs, 5), min(args.fields, 8)
    # one org more than the fleet: run alone first, the same job on the same machine
    spec = FleetSpec(orgs=args.orgs + 1, fields=args.fields, onboarding=True)
    rows = len(fleet_job_rows(spec))
    alone = org_slug(args.orgs)
    fleet = [arg for position in range(args.orgs) for arg in ("--org", org_slug(position))]
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        folder = Path(tmp)
        write_fleet(spec, folder, base_url="http://127.0.0.1:1/api/v1/")
        sim_args = ("--rate-limit", str(args.rate), "--latency-ms", str(args.latency_ms))
        sim_args += ("--jitter-ms", str(args.jitter_ms))
        with sim_process("--seed", str(folder / "seed.json"), *sim_args) as sim:
            write_fleet(spec, folder, base_url=sim.base_url, parallel=args.orgs)
            manifest = folder / "fleet.toml"
            text = manifest.read_text().replace("[defaults]\n", f"[defaults]\nrate = {args.rate}\n")
            manifest.write_text(text)
            one = fleet_proc(folder, "run", "fleet.toml", "--org", alone).wait()
            before = sim.stats()
            sim_cpu_before = process_cpu_s(sim.proc.pid)
            running = fleet_proc(folder, "run", "fleet.toml", *fleet)
            tree = TreeRss(running.popen.pid)
            run = running.wait()
            tree_peak_mb = tree.stop()
            sim_cpu_s = process_cpu_s(sim.proc.pid) - sim_cpu_before
            after = sim.stats()
            stats = {
                "total": int(after["total"]) - int(before["total"]),
                "rate_limited": int(after["rate_limited"]) - int(before["rate_limited"]),
                "sim_cpu_s": sim_cpu_s,
                "tree_peak_mb": tree_peak_mb,
                "one_org_wall_s": one.wall_s,
            }
            plan_all = fleet_proc(folder, "plan", "fleet.toml", *fleet).wait()
            plan_one = fleet_proc(folder, "plan", "fleet.toml", "--org", "client000").wait()
        lost = rows * (args.orgs + 1) - results_rows(folder)
    report(args, rows, run, stats, lost, plan_all=plan_all, plan_one=plan_one)
    return 0 if run.returncode == 0 else 1


def report(
    args: argparse.Namespace,
    rows: int,
    run: Finished,
    stats: dict[str, object],
    lost: int,
    *,
    plan_all: Finished,
    plan_one: Finished,
) -> None:
    floor_s = rows / args.rate
    total = int(str(stats["total"]))
    limited = int(str(stats["rate_limited"]))
    all_rows = rows * args.orgs
    figures = {
        "orgs": args.orgs,
        "rows per org": rows,
        "fleet exit": run.returncode,
        "fleet wall (s)": round(run.wall_s, 2),
        "one org's N/R (s)": round(floor_s, 2),
        "wall / N/R (goal <= 1.15)": round(run.wall_s / floor_s, 3),
        "one org run alone, same job (s)": round(float(str(stats["one_org_wall_s"])), 2),
        "wall / one org's run alone": round(run.wall_s / float(str(stats["one_org_wall_s"])), 3),
        "requests": total,
        "429s share (goal < 0.5 %)": f"{100 * limited / total:.3f} %" if total else "-",
        "rows lost": lost,
        "CPU per row (ms)": round(1000 * run.cpu_s / all_rows, 3),
        "fleet CPU, every process (s)": round(run.cpu_s, 1),
        "simulator CPU (s)": round(float(str(stats["sim_cpu_s"])), 1),
        "cores busy on average": round(
            (run.cpu_s + float(str(stats["sim_cpu_s"]))) / run.wall_s, 2
        ),
        "peak RSS of the largest fleet process (MB)": round(run.peak_rss_mb, 1),
        "peak RSS of the fleet's process tree (MB)": round(float(str(stats["tree_peak_mb"])), 1),
        "no-drift fleet plan, every org (s)": round(plan_all.wall_s, 2),
        "no-drift fleet plan, one org (s)": round(plan_one.wall_s, 2),
        "plan ratio (every org / one)": round(plan_all.wall_s / plan_one.wall_s, 2),
    }
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name.ljust(width)}  {value}")
    if run.returncode != 0:
        print(run.stderr[-2000:], file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
