"""`scf-batch validate` on generated CSVs, whole process through the CLI (issue 12's goal).

    .venv/bin/python bench/validate_throughput.py [--rows 100000]

- distinct: every row a different (field, target) pair with its own settings: the conflict
  check keeps one dict entry per pair (scf_batch/conflicts.py).
- repeating: 300 fields x 23 targets whose rows repeat the same settings over and over.

For each: wall time from spawning `scf-batch validate FILE` to its exit, and the process's peak
RSS (from `wait4`). Goal, on the distinct file: <= 5 s and <= 150 MB. A plain `csv.reader` pass
over the same file in a fresh interpreter is printed alongside, for scale.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Finished, Proc

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEADER = [
    "action",
    "scf_id",
    "object_type",
    "custom_activity_type_id",
    "custom_object_type_id",
    "required",
    "editable_with_roles",
    "key",
]
Target = tuple[str, str, str]


def _id(rng: random.Random, prefix: str, size: int) -> str:
    return prefix + "".join(rng.choice(BASE62) for _ in range(size))


def _targets(rng: random.Random, activity_types: int, object_types: int) -> list[Target]:
    """The three built-in object types, then custom activity and custom object types."""
    targets: list[Target] = [("lead", "", ""), ("contact", "", ""), ("opportunity", "", "")]
    for _ in range(activity_types):
        targets.append(("custom_activity_type", _id(rng, "actitype_", 22), ""))
    for _ in range(object_types):
        targets.append(("custom_object_type", "", _id(rng, "cotype_", 22)))
    return targets


def generate_distinct(path: Path, rows: int) -> None:
    """Fields x 10 targets, each (field, target) pair on one row with its own settings.

    Actions are associate or ensure, required true, false or empty, roles none or admin and up
    to three role ids; every pair appears once, so no row can conflict with another.
    """
    rng = random.Random(7)
    targets = _targets(rng, 4, 3)
    roles = [_id(rng, "role_", 22) for _ in range(8)]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        field = ""
        for row in range(rows):
            target = row % len(targets)
            if target == 0:
                field = _id(rng, "cf_", 43)
            object_type, actitype, cotype = targets[target]
            count = rng.randrange(4)
            role_list = ";".join(["admin", *rng.sample(roles, count)]) if count else ""
            required = rng.choice(("true", "false", ""))
            action = rng.choice(("associate", "ensure"))
            writer.writerow(
                [action, field, object_type, actitype, cotype, required, role_list, f"k{row}"]
            )


def generate_repeating(path: Path, rows: int) -> None:
    """300 fields x 23 targets, each pair with one fixed set of settings, repeated.

    Pairs touched by ensure/associate/update rows always name the same settings, and a separate
    set of pairs is only ever disassociated, so no row conflicts with another.
    """
    rng = random.Random(42)
    fields = [_id(rng, "cf_", 43) for _ in range(300)]
    roles = [_id(rng, "role_", 22) for _ in range(5)]
    targets = _targets(rng, 10, 10)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for row in range(rows):
            field = row % len(fields)
            target = (row // len(fields)) % len(targets)
            object_type, actitype, cotype = targets[target]
            pair = field * len(targets) + target
            required = "true" if pair % 3 == 0 else "false"
            role_list = ";".join(["admin", roles[pair % len(roles)]]) if pair % 2 else ""
            if pair % 10 == 9:
                action, required, role_list = "disassociate", "", ""
            else:
                action = ("ensure", "associate", "update", "ensure")[row % 4]
            row_cells = [action, fields[field], object_type, actitype, cotype, required]
            writer.writerow([*row_cells, role_list, f"k{row}"])


PLAIN_READ = "import csv,sys\nfor _ in csv.reader(open(sys.argv[1], newline='')): pass"
WALL_GOAL_S = 5.0
RSS_GOAL_MB = 150.0


def validate_cli(path: Path) -> Finished:
    """`scf-batch validate FILE` as a user runs it; exit 0 expected (the files are valid)."""
    finished = Proc([sys.executable, "-m", "scf_batch", "validate", str(path)]).wait()
    if finished.returncode != 0:
        raise SystemExit(f"validate exited {finished.returncode}: {finished.stdout[-500:]}")
    return finished


def plain_read(path: Path) -> Finished:
    """A fresh interpreter that only runs `csv.reader` over the file."""
    return Proc([sys.executable, "-c", PLAIN_READ, str(path)]).wait()


def measure(
    name: str, generate: Callable[[Path, int], None], folder: Path, rows: int
) -> dict[str, float]:
    """Wall and peak RSS of `validate` (best of two runs) and of a plain read, for one file."""
    path = folder / f"{name}.csv"
    generate(path, rows)
    runs = [validate_cli(path) for _ in range(2)]
    best = min(runs, key=lambda f: f.wall_s)
    return {
        "MB": path.stat().st_size / 1e6,
        "wall_s": best.wall_s,
        "rss_mb": max(f.peak_rss_mb for f in runs),
        "plain_s": plain_read(path).wall_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        found = {
            "distinct": measure("distinct", generate_distinct, Path(folder), args.rows),
            "repeating": measure("repeating", generate_repeating, Path(folder), args.rows),
        }
    print(f"scf-batch validate, {args.rows:,} rows, whole process")
    print(f"{'':<30}{'distinct':>14}{'repeating':>14}")
    for label, key, form in (
        ("file MB", "MB", "{:.1f}"),
        ("wall s (goal <= 5)", "wall_s", "{:.2f}"),
        ("peak RSS MB (goal <= 150)", "rss_mb", "{:.1f}"),
        ("plain csv.reader process s", "plain_s", "{:.2f}"),
    ):
        print(f"{label:<30}" + "".join(f"{form.format(found[k][key]):>14}" for k in found))
    distinct = found["distinct"]
    met = distinct["wall_s"] <= WALL_GOAL_S and distinct["rss_mb"] <= RSS_GOAL_MB
    print(f"{'goals met (distinct)':<30}{'yes' if met else 'NO':>14}")


if __name__ == "__main__":
    main()
