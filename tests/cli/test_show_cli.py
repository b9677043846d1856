"""`scf-batch show` against the seeded simulator: each format, the filters and their
suggestions, and a CSV that is an operations file the validator accepts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from scf_batch.sim.seedgen import build_seed
from tests.simproc import SimProcess, sim_process

SOURCE = build_seed()["orgs"][0]
ASSOCIATIONS = sum(len(f["associations"]) for f in SOURCE["shared_custom_fields"])


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """The simulator with the default seed, for the whole module (show only reads)."""
    with sim_process() as process:
        yield process


@pytest.fixture
def base_url(sim: SimProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """The simulator's URL, the source's key in CLOSE_API_KEY."""
    monkeypatch.setenv("CLOSE_API_KEY", "api_source_key_1")
    return sim.base_url


def test_csv_lists_every_association_by_name(
    base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped CSV has one ensure row per association, custom types and roles by name."""
    assert main(["show", "--base-url", base_url, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert ASSOCIATIONS == len(rows)
    (owner,) = [
        r for r in rows if r["scf_name"] == "Account Owner" and r["object_type"] == "opportunity"
    ]
    assert ("ensure", '["admin", "Sales Manager"]') == (
        owner["action"],
        owner["editable_with_roles"],
    )
    (seats,) = [
        r for r in rows if r["scf_name"] == "Seats" and r["custom_object_type_name"] == "Asset"
    ]
    assert "false" == seats["required"]


def test_the_csv_is_an_operations_file_validate_accepts(
    base_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What show --format csv prints validates with no problem."""
    main(["show", "--base-url", base_url, "--format", "csv"])
    path = tmp_path / "org.csv"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["validate", str(path)]) == 0


def test_json_carries_type_and_choices(base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON rows name the field's type and choices; --field keeps only that field."""
    assert main(["show", "--base-url", base_url, "--format", "json", "--field", "Industry"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [("lead", "choices"), ("contact", "choices")] == sorted(
        ((r["object_type"], r["type"]) for r in rows), reverse=True
    )
    assert ["SaaS", "Manufacturing", "Retail", "Healthcare", "Finance"] == rows[0]["choices"]


def test_table_shows_fields_targets_and_editors(
    base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table, filtered by a custom type's name, shows that type's fields and the roles that
    may edit, and fits the width (80 columns when not on a terminal)."""
    args = ["show", "--base-url", base_url, "--format", "table", "--object-type", "Asset"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Serial Number" in out
    assert "Support" in out
    assert "Account Owner" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_typo_in_a_filter_suggests_the_closest_name(
    base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --field exits 2 and says what the org has that is closest."""
    assert main(["show", "--base-url", base_url, "--field", "Indstry"]) == 2
    assert "did you mean 'Industry'" in capsys.readouterr().err
