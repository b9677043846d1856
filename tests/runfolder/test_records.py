"""The run folder's records: each reads back what it writes, refuses a value of another shape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome, RowResult, Status
from scf_batch.runfolder.records import (
    Checkpoint,
    PassTotals,
    RecordedOrg,
    ResultLine,
    Second,
    Summary,
)
from scf_batch.runfolder.results import ResultsWriter, read_results

CONTRACT = [
    "row",
    "line",
    "key",
    "action",
    "scf_id",
    "scf_name",
    "object_type",
    "target",
    "target_name",
    "org",
    "status",
    "outcome",
    "http_status",
    "requests",
    "retries",
    "error",
    "duration_ms",
    "finished_at",
]
FAILED = RowResult(
    row=1,
    line=2,
    key="k",
    action="associate",
    status=Status.FAILED,
    outcome=Outcome.REJECTED,
    scf_id="cf_1",
    http_status=400,
    requests=2,
    retries=1,
    error="no",
    field_errors=(("required", "bad"),),
    finished_at="2026-01-01T00:00:00.000+00:00",
)


def test_a_result_line_keeps_the_contract_field_order_and_reads_back_equal(tmp_path: Path) -> None:
    """A line is written in the contract's order (note only when set) and read back as written."""
    noted = dataclasses.replace(FAILED, row=2, status=Status.OK, note="removed meanwhile")
    writer = ResultsWriter(tmp_path / "results.jsonl")
    for result in (FAILED, noted):
        writer.write(result)
    writer.close()
    raw = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [CONTRACT, [*CONTRACT, "note"]] == [list(line) for line in raw]
    assert [ResultLine.of(FAILED), ResultLine.of(noted)] == list(
        read_results(tmp_path / "results.jsonl")
    )
    assert "no; required: bad" == ResultLine.of(FAILED).error_text


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"row": 1, "status": "skipped", "outcome": "created"}, "status"),
        ({"row": 1, "status": "ok", "outcome": "made"}, "outcome"),
        ({"row": 1, "status": ["ok"], "outcome": "created"}, "status"),
        ({"row": 1, "status": "ok", "outcome": "created", "line": "x"}, "line"),
        ({"row": 1, "status": "ok", "outcome": "created", "error": "x"}, "error"),
    ],
)
def test_a_line_of_another_shape_is_damage_naming_its_field(
    tmp_path: Path, line: dict[str, object], field: str
) -> None:
    """An unknown status (`skipped`, which nothing writes), outcome or a field of another type is
    refused with the file, the line and the field."""
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(UsageError, match=rf"results\.jsonl:1: found a damaged line \({field}: "):
        list(read_results(path))


def test_the_summary_reads_back_what_it_writes_and_adds_up_a_pass() -> None:
    """summary.json round-trips; a second run's totals add to the first's, second by second."""
    first = PassTotals(2.5, 10, 1, {"GET a": 10}, (Second(0.0, 10, 1, 3),), runs=1)
    second = PassTotals(1.0, 4, 0, {"GET a": 3, "PUT b": 1}, (Second(0.0, 1), Second(9.0, 3)), 1)
    summary = Summary(
        job="j",
        org=RecordedOrg("orga_1", "Acme"),
        pass_number=2,
        started_at="t",
        exit_code=ExitCode.ROWS_FAILED,
        reason=None,
        rows_total=3,
        rows_done=3,
        rows_done_before_this_run=2,
        rows_retried_this_run=0,
        by_status={"ok": 3},
        by_outcome={"ok/created": 3},
        rate_per_s_ceiling=5.0,
        totals=first.plus(second),
    )
    assert summary == Summary.from_json(json.loads(json.dumps(summary.to_json())))
    assert (3.5, 14, 1, {"GET a": 13, "PUT b": 1}, 2) == (
        summary.totals.elapsed_s,
        summary.totals.requests,
        summary.totals.rate_limited,
        dict(summary.totals.requests_by_group),
        summary.totals.runs,
    )
    assert (Second(0.0, 11, 1, 3), Second(9.0, 3)) == summary.totals.timeline


def test_the_checkpoint_reads_back_what_it_writes() -> None:
    """checkpoint.json round-trips, settings and org included; a wrong version is refused."""
    checkpoint = Checkpoint(
        job="j",
        pass_number=3,
        started_at="t",
        input_path="ops.csv",
        fingerprint="a" * 64,
        settings={"encoding": "cp1252"},
        org=RecordedOrg("orga_1", "Acme"),
        rows_total=9,
        rows_done=4,
        complete=False,
        updated_at="u",
    )
    assert checkpoint == Checkpoint.from_json(json.loads(json.dumps(checkpoint.to_json())))
    assert "cp1252" == checkpoint.encoding
    with pytest.raises(ValueError, match="version 1"):
        Checkpoint.from_json({**checkpoint.to_json(), "version": 1})
