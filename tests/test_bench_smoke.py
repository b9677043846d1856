"""`bench/bench.py --quick` runs scf-batch end to end and prints its table and JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_bench_of_one_contender_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    """Each tiny scf-batch run against the simulator gives one table row and one JSON measure,
    with every row of the job applied."""
    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "bench" / "bench.py"), "--quick", "--sections", "1"),
            *("--contenders", "scf-batch", "--results", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=100,
    )
    table = [line for line in done.stdout.splitlines() if line.startswith("| 1 ")]
    # R = 20 in 8 s windows with the RateLimit header and without it, and in 1 s windows
    assert len(table) == 3
    assert all("| scf-batch " in line and "efficiency" in line for line in table)
    (report_path,) = tmp_path.glob("bench-*.json")
    report = json.loads(report_path.read_text())
    assert report["quick"] is True
    assert [m["contender"] for m in report["measures"]] == ["scf-batch"] * 3
    for measure in report["measures"]:
        assert measure["metric"] == "efficiency"
        assert measure["lost"] == 0
        assert measure["rows"] == 60  # 3 s at 20/s
        assert 0 < measure["value"]
        assert 0 <= measure["share_429"] < 1


@pytest.mark.slow
def test_quick_fleet_bench_runs_every_org_and_loses_no_row() -> None:
    """`bench/fleet.py --quick`: a small fleet run to its end, its figures printed as JSON last,
    every row with its result line and no 429 met."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fleet.py"), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    assert (figures["fleet exit"], figures["rows lost"]) == (0, 0)
    assert figures["429s share (goal < 0.5 %)"] == "0.000 %"
