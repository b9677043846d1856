"""In-process `scf-batch run`s against one simulator subprocess: jobs of pairs the target org
does not hold yet (so each row writes), the run's arguments, and what its folder says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scf_batch.cli.main import main
from tests.e2e import TARGET_KEY, Pair, all_pairs, associations, write_csv
from tests.simproc import SimProcess

__all__ = ["TARGET_KEY", "new_pairs", "run", "summary", "summary_event", "write_job"]


def new_pairs(sim: SimProcess, count: int) -> list[Pair]:
    """`count` pairs of the target org with no association yet: associating each one writes."""
    state = sim.state()
    held = associations(state)
    free = [pair for pair in all_pairs(state) if pair not in held]
    return free[:count]


def write_job(folder: Path, sim: SimProcess, writes: int) -> Path:
    """An operations file of `writes` rows, each associating a pair the org does not hold."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [pair.row(f"row-{n}", "associate") for n, pair in enumerate(new_pairs(sim, writes))]
    return write_csv(folder / "job.csv", rows)


def run(job: Path, sim: SimProcess, out: Path, *extra: str) -> int:
    """`scf-batch run` in this process, JSON logs, no progress bar; its exit status."""
    args = ["run", str(job), "--base-url", sim.base_url, "--out", str(out)]
    return main([*args, "--log-format", "json", "--no-progress", *extra])


def summary(out: Path) -> dict[str, Any]:
    """The run folder's summary.json."""
    document: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return document


def summary_event(stderr: str) -> dict[str, Any]:
    """The JSON `summary` event that ends a command's stderr off a terminal."""
    event: dict[str, Any] = json.loads(stderr.strip().splitlines()[-1])
    assert "summary" == event["event"]
    return event
