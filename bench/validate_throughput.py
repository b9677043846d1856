"""Validation throughput and memory: `read_operations` over generated CSVs of 100k and 1M rows.

    .venv/bin/python bench/validate_throughput.py [--rows 1000000] [--small-rows 100000]

Prints rows/s for a plain `csv.reader` pass and for `read_operations` over the same file in the
same run, their ratio, and the peak RSS of a fresh process validating each file.
Goals (issue 3): ratio >= 0.3; RSS(1M) <= 1.2 x RSS(100k) and < 100 MB.
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
from pathlib import Path

from scf_batch.jobfile import read_operations
from scf_batch.models import RowError

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


def _id(rng: random.Random, prefix: str, size: int) -> str:
    return prefix + "".join(rng.choice(BASE62) for _ in range(size))


def generate(path: Path, rows: int) -> None:
    """A realistic file: 300 fields x 23 targets, each pair with one fixed set of settings.

    Pairs touched by ensure/associate/update rows always name the same settings, and a separate
    set of pairs is only ever disassociated, so no row conflicts with another.
    """
    rng = random.Random(42)
    fields = [_id(rng, "cf_", 43) for _ in range(300)]
    roles = [_id(rng, "role_", 22) for _ in range(5)]
    targets: list[tuple[str, str, str]] = [
        ("lead", "", ""),
        ("contact", "", ""),
        ("opportunity", "", ""),
    ]
    targets += [("custom_activity_type", _id(rng, "actitype_", 22), "") for _ in range(10)]
    targets += [("custom_object_type", "", _id(rng, "cotype_", 22)) for _ in range(10)]
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
            writer.writerow(
                [
                    action,
                    fields[field],
                    object_type,
                    actitype,
                    cotype,
                    required,
                    role_list,
                    f"k{row}",
                ]
            )


def plain_pass(path: Path) -> int:
    """What the csv module alone does with the file."""
    count = 0
    with path.open(newline="", encoding="utf-8") as stream:
        for _ in csv.reader(stream):
            count += 1
    return count - 1


def validate_pass(path: Path) -> int:
    """The whole validation, as `validate` and the runner's first pass do it."""
    count = 0
    for item in read_operations(path):
        if isinstance(item, RowError):
            raise SystemExit(f"unexpected invalid row: {item.problems[0]}")
        count += 1
    return count


def rate(function: object, path: Path, repeat: int) -> tuple[int, float]:
    """Rows and the best rows/s of `repeat` runs."""
    best = 0.0
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = function(path)  # type: ignore[operator]
        best = max(best, rows / (time.perf_counter() - started))
    return rows, best


def child_peak_rss_mb(path: Path) -> float:
    """Peak RSS of a fresh interpreter that validates the whole file."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return float(output.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        validate_pass(args.child)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # Linux: KiB
        return
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder) / "small.csv", Path(folder) / "large.csv"
        generate(small, args.small_rows)
        generate(large, args.rows)
        size_mb = large.stat().st_size / 1e6
        print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
        rows, plain = rate(plain_pass, large, args.repeat)
        checked, validated = rate(validate_pass, large, args.repeat)
        assert rows == checked == args.rows
        print(f"csv.reader:      {plain:>12,.0f} rows/s")
        print(f"read_operations: {validated:>12,.0f} rows/s")
        print(f"ratio:           {validated / plain:>12.2f}   (goal >= 0.3)")
        rss_small, rss_large = child_peak_rss_mb(small), child_peak_rss_mb(large)
        print(f"peak RSS {args.small_rows:>9,} rows: {rss_small:6.1f} MB")
        print(f"peak RSS {args.rows:>9,} rows: {rss_large:6.1f} MB")
        print(f"RSS ratio: {rss_large / rss_small:.2f}   (goal <= 1.2, and < 100 MB)")


if __name__ == "__main__":
    main()
