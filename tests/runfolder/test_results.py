"""results.py: the result line's form and the tally."""

from __future__ import annotations

import json
from pathlib import Path

from scf_batch.models import Outcome, RowResult, Status
from scf_batch.runfolder.results import ResultsWriter, Tally


def test_a_result_line_is_compact_utf8_json_in_the_contract_field_order(tmp_path: Path) -> None:
    """Each result is one line of compact JSON; non-ASCII names are kept as UTF-8, not escaped."""
    path = tmp_path / "results.jsonl"
    writer = ResultsWriter(path)
    result = RowResult(
        row=1, line=2, key=None, action="associate", status=Status.OK,
        outcome=Outcome.CREATED, scf_name="Café ☕", finished_at="2026-01-01T00:00:00.000+00:00",
    )  # fmt: skip
    writer.write(result)
    writer.write(result)
    writer.close()
    raw = path.read_bytes()
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == 2
    assert "Café ☕".encode() in raw
    assert ", " not in lines[0]
    assert '": ' not in lines[0]
    parsed = json.loads(lines[0])
    assert list(parsed)[:4] == ["row", "line", "key", "action"]
    assert (parsed["status"], parsed["outcome"], parsed["scf_name"]) == ("ok", "created", "Café ☕")


def test_tally_counts_by_status_and_outcome() -> None:
    """The tally counts rows done, failed and not ok from the statuses it is given."""
    tally = Tally()
    for status, outcome in [("ok", "created"), ("failed", "rejected"), ("invalid", "invalid")]:
        tally.add(status, outcome)
    assert (tally.done, tally.failed, tally.not_ok) == (3, 1, 2)
    assert tally.by_outcome["ok/created"] == 1
