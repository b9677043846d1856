"""Validation throughput and memory, on two generated CSVs side by side (issue 3's goals).

    .venv/bin/python bench/validate_throughput.py [--rows 1000000] [--small-rows 100000]

- distinct: every row a different (field, target) pair with its own settings, a million pairs,
  more than any org has (fields x targets): the conflict check keeps its first 50,000 pairs and
  then, with bounded memory, only those that repeat (scf_batch/repeats.py).
- repeating: 300 fields x 23 targets whose rows repeat the same settings over and over.

For each: rows/s of a plain `csv.reader` pass and of `check_offline` (what `scf-batch validate`
and the runner's first pass do) over the same file in the same run, alternating, best of
`--repeat`; their ratio (goal >= 0.3); then the peak RSS of a fresh process validating the small
and the large file (goal: large <= 1.2 x small, and under 100 MB).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scf_batch.validation import check_offline

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


def plain_pass(path: Path) -> int:
    """What the csv module alone does with the file."""
    count = 0
    with path.open(newline="", encoding="utf-8") as stream:
        for _ in csv.reader(stream):
            count += 1
    return count - 1


def validate_pass(path: Path) -> int:
    """The whole offline validation, as `validate` and the runner's first pass do it."""
    report = check_offline(path)
    if not report.ok:
        raise SystemExit(f"unexpected problem: {report.problems[0]}")
    return report.rows


def rates(path: Path, repeat: int) -> tuple[float, float]:
    """Best rows/s of `repeat` runs of each pass, the two alternating so both meet the same load."""
    plain = validated = 0.0
    for _ in range(repeat):
        plain = max(plain, _rate(plain_pass, path))
        validated = max(validated, _rate(validate_pass, path))
    return plain, validated


def _rate(function: Callable[[Path], int], path: Path) -> float:
    started = time.perf_counter()
    rows = function(path)
    return rows / (time.perf_counter() - started)


def peak_rss_mb() -> float:
    """This process's peak RSS.

    Linux's VmHWM starts afresh with each exec; ru_maxrss would also count the RSS of the
    parent that forked us (a bench that has just validated a million distinct pairs).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_peak_rss_mb(path: Path) -> float:
    """Peak RSS of a fresh interpreter that validates the whole file."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return float(output.strip())


def measure(
    name: str, generate: Callable[[Path, int], None], folder: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Throughput on the large file and peak RSS on both sizes, for one kind of file."""
    small, large = folder / f"{name}-small.csv", folder / f"{name}-large.csv"
    generate(small, args.small_rows)
    generate(large, args.rows)
    plain, validated = rates(large, args.repeat)
    return {
        "MB": large.stat().st_size / 1e6,
        "plain": plain,
        "validated": validated,
        "small": child_peak_rss_mb(small),
        "large": child_peak_rss_mb(large),
    }


def report(found: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    """One column per file."""
    distinct, repeating = found["distinct"], found["repeating"]

    def line(label: str, text: Callable[[dict[str, float]], str]) -> None:
        print(f"{label:<28}{text(distinct):>20}{text(repeating):>20}")

    print(f"{'':<28}{'distinct':>20}{'repeating':>20}")
    line(f"file ({args.rows:,} rows), MB", lambda f: f"{f['MB']:.0f}")
    line("csv.reader rows/s", lambda f: f"{f['plain']:,.0f}")
    line("validate rows/s", lambda f: f"{f['validated']:,.0f}")
    line("ratio (goal >= 0.3)", lambda f: f"{f['validated'] / f['plain']:.2f}")
    line(f"peak RSS {args.small_rows:,} rows, MB", lambda f: f"{f['small']:.1f}")
    line(f"peak RSS {args.rows:,} rows, MB", lambda f: f"{f['large']:.1f}")
    line("RSS ratio (goal <= 1.2)", lambda f: f"{f['large'] / f['small']:.2f}")
    line("goals met", lambda f: "yes" if meets_goals(f) else "NO")


def meets_goals(found: dict[str, float]) -> bool:
    """Throughput >= 0.3 x csv.reader; peak RSS flat (<= 1.2x) and under 100 MB."""
    ratio = found["validated"] / found["plain"]
    return ratio >= 0.3 and found["large"] <= 1.2 * found["small"] and found["large"] < 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        validate_pass(args.child)
        print(peak_rss_mb())
        return
    with tempfile.TemporaryDirectory() as folder:
        found = {
            "distinct": measure("distinct", generate_distinct, Path(folder), args),
            "repeating": measure("repeating", generate_repeating, Path(folder), args),
        }
    report(found, args)


if __name__ == "__main__":
    main()
