"""Memory where a user meets it: a realistic run and `validate`, peak RSS of the whole process.

1. `scf-batch run` of 50,000 `ensure` rows over a generated org of 2,000 fields x 25 targets
   (50,000 distinct pairs, every one associated; DRIFT of the rows ask another `required`, so the
   run writes that many updates), against the simulator on this machine. Goal: <= 150 MB.
   Printed beside a fresh interpreter that imports what `run` imports and does nothing else, so
   the figure reads as "the tool's own data" on a shared, noisy machine.
2. `scf-batch validate` of 100,000 distinct rows (bench/validate_throughput.py's file). Goals:
   <= 5 s and <= 150 MB (kept from the earlier goals).
3. Rows that repeat pairs keep memory flat: runs of 5,000 and of 50,000 rows cycling over the
   same 2,500 pairs (ratio of their peaks; goal <= 1.1).

    .venv/bin/python bench/memory.py [--quick]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import Finished, Proc  # noqa: E402
from validate_throughput import generate_distinct, validate_cli  # noqa: E402

from tests.e2e import cli_env, run_args  # noqa: E402
from tests.simproc import sim_process  # noqa: E402

BENCH_KEY = "api_bench_key_1"
RSS_GOAL_MB = 150.0
VALIDATE_WALL_GOAL_S = 5.0
DRIFT = 0.02  # share of the rows whose `required` differs from the org's
RUN_RATE = 200.0  # req/s per group: the simulator runs unlimited, so the run is short
IMPORTS_OF_RUN = (
    "import scf_batch.cli.jobs, scf_batch.run.job, scf_batch.close.client, "
    "scf_batch.report.summary, scf_batch.run.progress"
)


def generated_org(folder: Path, fields: int) -> tuple[Path, Path]:
    """A seed of `fields` x 25 targets, all associated, and its no-drift `ensure` job."""
    seed, ops = folder / "seed.json", folder / "ensure.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scf_batch.sim.seedgen",
            "--fields",
            str(fields),
            "--activity-types",
            "11",
            "--object-types",
            "11",
            "--associated",
            "1.0",
            "-o",
            str(seed),
            "--ops",
            str(ops),
        ],
        check=True,
        cwd=ROOT,
    )
    return seed, ops


def with_drift(ops: Path, out: Path, *, share: float) -> int:
    """`ops` with every 1/share-th row asking the opposite `required`; the rows written."""
    step = round(1 / share)
    with ops.open(newline="") as source, out.open("w", newline="") as target:
        reader = csv.DictReader(source)
        assert reader.fieldnames is not None
        writer = csv.DictWriter(target, reader.fieldnames)
        writer.writeheader()
        count = 0
        for index, row in enumerate(reader):
            if index % step == 0:
                row["required"] = "false" if row["required"] == "true" else "true"
            writer.writerow(row)
            count += 1
    return count


def repeating(ops: Path, out: Path, *, pairs: int, rows: int) -> None:
    """`rows` rows cycling over the first `pairs` rows of `ops` (one key column made unique)."""
    with ops.open(newline="") as source:
        reader = csv.DictReader(source)
        assert reader.fieldnames is not None
        fieldnames = list(reader.fieldnames)
        head = [row for _, row in zip(range(pairs), reader, strict=False)]
    with out.open("w", newline="") as target:
        writer = csv.DictWriter(target, fieldnames)
        writer.writeheader()
        for index in range(rows):
            row = dict(head[index % len(head)])
            if "key" in row:
                row["key"] = f"r{index}"
            writer.writerow(row)


def run_once(job: Path, base_url: str, out: Path) -> Finished:
    """`scf-batch run` to the end, as a user runs it; exit 0 expected."""
    command = run_args(job, base_url, out, "--rate", str(RUN_RATE), "--no-progress")
    finished = Proc(command, env=cli_env(BENCH_KEY)).wait()
    if finished.returncode != 0:
        raise SystemExit(f"run exited {finished.returncode}: {finished.stderr[-1500:]}")
    return finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 200-field org, 10,000 rows")
    args = parser.parse_args()
    fields = 200 if args.quick else 2000
    validate_rows = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed, ops = generated_org(folder, fields)
        drifted = folder / "drifted.csv"
        rows = with_drift(ops, drifted, share=DRIFT)
        pairs = max(rows // 20, 1)
        few, many = folder / "repeating-few.csv", folder / "repeating-many.csv"
        repeating(ops, few, pairs=pairs, rows=rows // 10)
        repeating(ops, many, pairs=pairs, rows=rows)
        with sim_process("--seed", str(seed)) as sim:
            distinct_run = run_once(drifted, sim.base_url, folder / "run-distinct")
            few_run = run_once(few, sim.base_url, folder / "run-few")
            many_run = run_once(many, sim.base_url, folder / "run-many")
        bare = Proc([sys.executable, "-c", IMPORTS_OF_RUN]).wait()
        validate_file = folder / "validate.csv"
        generate_distinct(validate_file, validate_rows)
        validated = min((validate_cli(validate_file) for _ in range(2)), key=lambda f: f.wall_s)
    print("memory, peak RSS of the whole process (bench/memory.py)")
    print(f"{'':<58}{'MB':>8}{'s':>8}  goal")
    run_ok = distinct_run.peak_rss_mb <= RSS_GOAL_MB
    print(
        f"{f'run, {rows:,} rows over {fields:,} x 25 pairs ({DRIFT:.0%} drift)':<58}"
        f"{distinct_run.peak_rss_mb:>8.1f}{distinct_run.wall_s:>8.1f}  "
        f"<= {RSS_GOAL_MB:.0f} MB: {'met' if run_ok else 'MISSED'}"
    )
    flat = many_run.peak_rss_mb / few_run.peak_rss_mb
    for label, seen in ((rows // 10, few_run), (rows, many_run)):
        print(
            f"{f'run, {label:,} rows cycling over {pairs:,} pairs':<58}"
            f"{seen.peak_rss_mb:>8.1f}{seen.wall_s:>8.1f}"
        )
    print(
        f"{'  ratio of the two (rows x 10, the same pairs)':<58}{flat:>8.2f}{'':>8}  "
        f"<= 1.1: {'met' if flat <= 1.1 else 'MISSED'}"
    )
    print(
        f"{'interpreter importing what run imports, nothing else':<58}"
        f"{bare.peak_rss_mb:>8.1f}{bare.wall_s:>8.1f}  "
        f"(run's own data: {distinct_run.peak_rss_mb - bare.peak_rss_mb:.1f} MB)"
    )
    validate_ok = validated.peak_rss_mb <= RSS_GOAL_MB and validated.wall_s <= VALIDATE_WALL_GOAL_S
    print(
        f"{f'validate, {validate_rows:,} distinct rows':<58}"
        f"{validated.peak_rss_mb:>8.1f}{validated.wall_s:>8.2f}  "
        f"<= {RSS_GOAL_MB:.0f} MB and <= {VALIDATE_WALL_GOAL_S:.0f} s: "
        f"{'met' if validate_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
