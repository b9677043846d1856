"""The pass history end to end: --keep-passes, with the CLI and the simulator as subprocesses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import all_pairs, run_cli, write_csv
from tests.simproc import sim_process

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator


def test_keep_passes_removes_the_oldest_finished_passes_when_a_pass_finishes(
    tmp_path: Path,
) -> None:
    """Four runs of a finished job with --keep-passes 2: history/ keeps passes 2 and 3 (pass 4
    is the current one); without the option the default keeps them all."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())[:2]
        job = write_csv(
            tmp_path / "job.csv", [p.row(f"k{i}", "ensure") for i, p in enumerate(pairs)]
        )
        out = tmp_path / "run"
        for _ in range(3):
            assert run_cli(job, sim.base_url, out).returncode == 0
        assert ["pass-1", "pass-2"] == sorted(p.name for p in (out / "history").iterdir())
        done = run_cli(job, sim.base_url, out, "--keep-passes", "2")
        assert done.returncode == 0, done.stderr
    assert ["pass-2", "pass-3"] == sorted(p.name for p in (out / "history").iterdir())
    assert (out / "results.jsonl").exists()
