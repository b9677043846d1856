"""`export --format csv` round trip on the simulator: the associations as an operations CSV,
the definitions beside it as JSONL; editing one cell makes `plan` show exactly that step."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scf_batch.cli.main import main
from tests.simproc import SimProcess, sim_process


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """The simulator with the default seed (export and plan only read)."""
    with sim_process() as process:
        yield process


@pytest.fixture
def exported(sim: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The source org exported as CSV, the source's key in CLOSE_API_KEY."""
    monkeypatch.setenv("CLOSE_API_KEY", "api_source_key_1")
    path = tmp_path / "source.csv"
    args = ["export", "-o", str(path), "--format", "csv", "--base-url", sim.base_url]
    assert main(args) == 0
    return path


def plan_steps(
    sim: SimProcess, path: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    """The rows of `plan --format json` that would write."""
    capsys.readouterr()
    main(["plan", str(path), "--base-url", sim.base_url, "--format", "json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return [r for r in lines if r.get("step") not in (None, "nothing", "invalid")]


def test_export_csv_writes_the_associations_and_the_definitions_beside(exported: Path) -> None:
    """One ensure row per association in the CSV; one definition per field in the JSONL."""
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    definitions = (exported.parent / "source.definitions.jsonl").read_text(encoding="utf-8")
    assert (48, {"ensure"}) == (len(rows), {r["action"] for r in rows})
    assert 25 == len(definitions.splitlines())


def test_the_unedited_csv_plans_nothing_and_one_edited_cell_plans_one_step(
    sim: SimProcess, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the org it came from the CSV changes nothing; flip one `required` cell and the
    plan has exactly one step, an update of that pair."""
    assert [] == plan_steps(sim, exported, capsys)
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    (edited,) = [r for r in rows if r["scf_name"] == "Industry" and r["object_type"] == "lead"]
    edited["required"] = "true"
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    exported.write_text(out.getvalue(), encoding="utf-8")
    (step,) = plan_steps(sim, exported, capsys)
    assert ("update", "Industry", "lead") == (step["step"], step["scf_name"], step["target"])
