"""A pass over its runs, end to end: the summary adds every run up, and --keep-passes prunes
the history; the CLI and the simulator as subprocesses."""

from __future__ import annotations

import json
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


def test_a_run_that_ends_in_a_refusal_keeps_the_passs_earlier_figures(tmp_path: Path) -> None:
    """A pass stopped by --limit, then a run of it whose key is refused (exit 3): summary.json
    says exit 3 and still counts the first run's requests, over 2 runs."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())[:10]
        rows = [p.row(f"k{i}", "ensure", "true", "admin") for i, p in enumerate(pairs)]
        job, out = write_csv(tmp_path / "job.csv", rows), tmp_path / "run"
        assert run_cli(job, sim.base_url, out, "--limit", "3").returncode == 4
        first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        refused = run_cli(job, sim.base_url, out, api_key="api_not_a_real_key_123")
    assert refused.returncode == 3, refused.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (3, 2) == (summary["exit_code"], summary["runs"])
    assert first["requests"] > 0
    assert summary["requests"] > first["requests"]
    assert summary["elapsed_s"] >= first["elapsed_s"]
