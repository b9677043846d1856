"""After a run, the pure and file-level parts: raw rows, retry files, the results CSV, reopening
a pass for --retry-failed, and a pass's report read back from its files."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.job.files import fingerprint
from scf_batch.job.opsfile import OperationsFile, read_operations
from scf_batch.job.rawrows import open_raw
from scf_batch.models import Operation, Outcome, RowError, Status
from scf_batch.report.passreport import load_report
from scf_batch.report.resultscsv import verdicts, write_results_csv
from scf_batch.report.retryfile import Selection, select_rows, write_retry
from scf_batch.report.summary import RunReport, render_summary
from scf_batch.runfolder.durable import write_json_atomically
from scf_batch.runfolder.folder import begin_pass, read_checkpoint, scan_results
from scf_batch.runfolder.lock import RunLock
from scf_batch.runfolder.passfiles import find_pass, input_file
from scf_batch.runfolder.recorder import PassRecord
from scf_batch.runfolder.records import PassTotals, ResultLine
from scf_batch.runfolder.reopen import drop_lines, reopen_failed
from scf_batch.runfolder.results import Tally, read_results
from tests.jobfiles import FIELD_1, write, write_jsonl

TRICKY_CSV = (
    "\ufeffKey, scf_id ,object_type,required,editable_with_roles,\n"
    "\n"
    f"a,{FIELD_1},lead,yes,admin;user,\n"
    ",,,,,\n"
    f'"b\nstill b",{FIELD_1},contact,,"[""admin""]",\n'
    f"c,{FIELD_1},leed,maybe,,\n"
    f"d,{FIELD_1},opportunity,0,,\n"
)
TRICKY_JSONL = (
    '\ufeff{"key": "a", "scf_id": "' + FIELD_1 + '", "object_type": "lead", "required": true}\n'
    "\n"
    "{not json\n"
    '{"scf_id": "' + FIELD_1 + '", "object_type": "contact", "editable_with_roles": []}\n'
    "   \n"
    '{"key": 7, "scf_id": "' + FIELD_1 + '", "object_type": "opportunity"}\n'
)


def numbering(path: Path) -> list[tuple[int, int]]:
    with open_raw(path) as raw:
        return [(item.row, item.line) for item in raw.rows]


@pytest.mark.parametrize(
    ("name", "text"),
    [("ops.csv", TRICKY_CSV), ("ops.csv.gz", TRICKY_CSV), ("ops.jsonl", TRICKY_JSONL)],
)
def test_raw_rows_are_numbered_as_run_numbers_them(tmp_path: Path, name: str, text: str) -> None:
    """Blank rows, a BOM, quoted line breaks and unparsable rows: (row, line) as read_operations."""
    path = write(tmp_path / name, text)
    assert [(item.row, item.line) for item in read_operations(path)] == numbering(path)


def test_raw_csv_row_keeps_its_cells_by_column(tmp_path: Path) -> None:
    """A CSV row's values are its trimmed cells under the header's lower-cased names."""
    path = write(tmp_path / "ops.csv", TRICKY_CSV)
    with open_raw(path) as raw:
        first = next(raw.rows)
        assert ("key", "scf_id", "object_type", "required", "editable_with_roles", "") == (
            raw.columns
        )
    assert {
        "key": "a",
        "scf_id": FIELD_1,
        "object_type": "lead",
        "required": "yes",
        "editable_with_roles": "admin;user",
    } == first.values


def ops_without_keys(path: Path) -> list[Any]:
    """Each readable row as `run` reads it, its key and position left out (a retry file moves
    them): the operation, or the columns its problems are in."""
    found: list[Any] = []
    for item in read_operations(path):
        if _unreadable(item):
            continue
        if isinstance(item, Operation):
            found.append(
                (item.action, item.field, item.object_type, item.required, item.editable_with_roles)
            )
        else:
            found.append(sorted(p.column for p in item.problems))
    return found


@pytest.mark.parametrize("source_name", ["ops.csv", "ops.jsonl"])
@pytest.mark.parametrize("out_name", ["retry.csv", "retry.jsonl", "retry.csv.gz"])
def test_retry_file_reads_back_as_the_same_operations(
    tmp_path: Path, source_name: str, out_name: str
) -> None:
    """Every row written to a retry file, in any format, is the operation it was (or fails the
    same checks), and a row without a key points back with `line-N`."""
    text = TRICKY_CSV if source_name.endswith(".csv") else TRICKY_JSONL
    source = write(tmp_path / source_name, text)
    failed = (line_of(result_line(n, "failed", "conflict")) for n in range(1, 6))
    every = select_rows(failed, Selection.of((), ()))
    out = tmp_path / out_name
    written = write_retry(OperationsFile(source), every, out)
    assert ops_without_keys(source) == ops_without_keys(out)
    assert written.rows == len(ops_without_keys(out))
    readable = [item for item in read_operations(source) if not _unreadable(item)]
    keys = [item.key for item in read_operations(out)]
    assert [item.key or f"line-{item.line}" for item in readable] == keys


def _unreadable(item: Operation | RowError) -> bool:
    return isinstance(item, RowError) and any(p.column == "row" for p in item.problems)


def test_retry_file_of_a_jsonl_row_that_is_not_json_is_reported_not_written(
    tmp_path: Path,
) -> None:
    """A selected row that cannot be read at all is returned by its line, not written."""
    source = write(tmp_path / "ops.jsonl", TRICKY_JSONL)
    invalid = line_of(result_line(2, "invalid", "invalid"))
    rows = select_rows([invalid], Selection.of(["invalid"], ()))
    written = write_retry(OperationsFile(source), rows, tmp_path / "retry.jsonl")
    assert (0, (f"{source}:3",)) == (written.rows, written.unreadable)


def test_selection_defaults_to_failed_and_an_outcome_alone_to_not_ok() -> None:
    """No filter takes failed rows; --outcome alone any status but ok; both filters combine."""
    records = [
        line_of(result_line(1, "ok", "not_associated")),
        line_of(result_line(2, "failed", "not_associated")),
        line_of(result_line(3, "failed", "conflict")),
        line_of(result_line(4, "invalid", "invalid")),
    ]

    def taken(statuses: tuple[str, ...], outcomes: tuple[str, ...]) -> list[int]:
        rows = select_rows(records, Selection.of(statuses, outcomes))
        return [n for n in range(1, 5) if n in rows]

    assert [2, 3] == taken((), ())
    assert [2] == taken((), ("not_associated",))
    assert [4] == taken(("invalid",), ())
    assert [3, 4] == taken(("failed", "invalid"), ("conflict", "invalid"))


def result_line(row: int, status: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {
        "row": row,
        "line": row + 1,
        "key": f"k{row}",
        "status": status,
        "outcome": outcome,
        "error": None,
        **extra,
    }


def line_of(document: dict[str, Any]) -> ResultLine:
    return ResultLine.from_json(document)


def write_results(path: Path, lines: list[dict[str, Any]], tail: bytes = b"") -> Path:
    text = "".join(json.dumps(line) + "\n" for line in lines)
    path.write_bytes(text.encode() + tail)
    return path


@pytest.mark.parametrize("name", ["ops.csv", "ops.jsonl"])
def test_results_csv_echoes_the_input_columns_then_the_verdict_in_input_order(
    tmp_path: Path, name: str
) -> None:
    """Rows in input order, each with its own cells, then status, outcome and the error text."""
    rows: list[dict[str, object]] = [
        {"key": "x", "scf_id": FIELD_1, "object_type": "lead", "required": True},
        {"scf_id": FIELD_1, "object_type": "contact", "editable_with_roles": ["admin", "b"]},
    ]
    if name.endswith(".csv"):
        source = write(
            tmp_path / name,
            f"key,scf_id,object_type,required\nx,{FIELD_1},lead,yes\n,{FIELD_1},contact,\n",
        )
    else:
        source = write_jsonl(tmp_path / name, rows)
    error = {"message": "no", "field_errors": {"required": "bad"}}
    results = write_results(
        tmp_path / "results.jsonl",
        [
            result_line(2, "failed", "rejected", error=error),
            result_line(1, "ok", "created"),
        ],
    )
    out = tmp_path / "results.csv"
    assert 2 == write_results_csv(OperationsFile(source), verdicts(read_results(results)), out)
    with out.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [
        ("x", "lead", "ok", "created", ""),
        ("", "contact", "failed", "rejected", "no; required: bad"),
    ] == [(r["key"], r["object_type"], r["status"], r["outcome"], r["error"]) for r in table]
    if name.endswith(".csv"):
        assert ["key", "scf_id", "object_type", "required", "status", "outcome", "error"] == list(
            table[0]
        )
        assert "yes" == table[0]["required"]
    else:
        assert ("true", '["admin", "b"]') == (table[0]["required"], table[1]["editable_with_roles"])


def test_error_text_of_a_result_without_error_is_empty() -> None:
    """No error object: an empty cell."""
    assert "" == line_of(result_line(1, "ok", "created")).error_text


def checkpoint(folder: Path, source: Path, *, complete: bool, rows: int = 3) -> None:
    record = PassRecord(
        "job", 1, "2026-01-01T00:00:00+00:00", source, fingerprint(source), {}, None, rows
    )
    write_json_atomically(
        folder / "checkpoint.json",
        record.document(rows_done=rows, complete=complete, now="t").to_json(),
    )


def test_drop_lines_takes_out_only_that_status_and_keeps_a_torn_tail(tmp_path: Path) -> None:
    """Failed lines go, other lines and a torn last line stay byte for byte."""
    lines = [
        result_line(1, "ok", "created"),
        result_line(2, "failed", "conflict"),
        result_line(3, "invalid", "invalid"),
    ]
    path = write_results(tmp_path / "results.jsonl", lines, tail=b'{"row": 4, "sta')
    assert 1 == drop_lines(path, status=Status.FAILED)
    expected = json.dumps(lines[0]) + "\n" + json.dumps(lines[2]) + "\n" + '{"row": 4, "sta'
    assert expected == path.read_text()
    assert not (tmp_path / "results.jsonl.tmp").exists()


def test_reopen_failed_marks_the_pass_unfinished_so_the_resume_runs_the_failed_rows(
    tmp_path: Path,
) -> None:
    """After reopening, the pass continues (same number) with the failed row not done."""
    source = write(tmp_path / "ops.csv", "x")
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, source, complete=True)
    write_results(
        folder / "results.jsonl",
        [
            result_line(1, "ok", "created"),
            result_line(2, "failed", "conflict"),
            result_line(3, "ok", "created"),
        ],
    )
    assert 1 == reopen_failed(folder, fingerprint=fingerprint(source), restart=False)
    start = begin_pass(
        folder, fingerprint=fingerprint(source), operations=source, restart=False, now="t"
    )
    assert (1, True) == (start.number, start.continuing)
    resume = scan_results(folder / "results.jsonl", rows_total=3)
    assert ([1, 3], 2) == ([n for n in (1, 2, 3) if n in resume.done], resume.done.count)


def test_a_crash_after_the_checkpoint_step_leaves_a_pass_that_runs_nothing(tmp_path: Path) -> None:
    """Step 1 alone (checkpoint unfinished, every line kept) continues the pass with every row
    done: the crash loses nothing and rerunning --retry-failed reopens it again."""
    source = write(tmp_path / "ops.csv", "x")
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, source, complete=False)
    write_results(
        folder / "results.jsonl", [result_line(n, "failed", "conflict") for n in (1, 2, 3)]
    )
    start = begin_pass(
        folder, fingerprint=fingerprint(source), operations=source, restart=False, now="t"
    )
    assert start.continuing
    assert 3 == scan_results(folder / "results.jsonl", rows_total=3).done.count
    assert 3 == reopen_failed(folder, fingerprint=fingerprint(source), restart=False)
    assert 0 == scan_results(folder / "results.jsonl", rows_total=3).done.count


def test_reopen_failed_refuses_restart_a_changed_input_and_a_folder_without_a_pass(
    tmp_path: Path,
) -> None:
    """Each refusal is a UsageError (exit 2) and changes nothing."""
    source = write(tmp_path / "ops.csv", "x")
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(UsageError, match="no pass"):
        reopen_failed(folder, fingerprint=fingerprint(source), restart=False)
    checkpoint(folder, source, complete=True)
    with pytest.raises(UsageError, match="--restart"):
        reopen_failed(folder, fingerprint=fingerprint(source), restart=True)
    with pytest.raises(UsageError, match="changed"):
        reopen_failed(folder, fingerprint="0" * 64, restart=False)
    document = read_checkpoint(folder)
    assert document is not None
    assert document.complete is True


def test_find_pass_picks_the_latest_or_the_one_asked_and_input_file_checks_it(
    tmp_path: Path,
) -> None:
    """The current pass by default, a history pass by number; an edited input is refused."""
    source = write(tmp_path / "ops.csv", "x")
    folder = tmp_path / "run"
    (folder / "history" / "pass-1").mkdir(parents=True)
    checkpoint(folder / "history" / "pass-1", source, complete=True)
    checkpoint(folder, source, complete=False)
    document = json.loads((folder / "checkpoint.json").read_text())
    write_json_atomically(folder / "checkpoint.json", {**document, "pass": 2})
    assert (2, folder) == (find_pass(folder).number, find_pass(folder).folder)
    assert folder / "history" / "pass-1" == find_pass(folder, 1).folder
    with pytest.raises(UsageError, match="expected one of 1, 2"):
        find_pass(folder, 3)
    assert source == input_file(find_pass(folder, 1))
    source.write_text("y")
    with pytest.raises(UsageError, match="changed"):
        input_file(find_pass(folder, 1))


def test_report_of_a_kept_pass_lists_its_failed_rows_and_says_when_its_summary_is_stale(
    tmp_path: Path,
) -> None:
    """Counts and failed rows come from results.jsonl; a summary of another row count is not
    trusted, and the report says why."""
    source = write(tmp_path / "ops.csv", "x")
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, source, complete=True)
    error = {"message": "not associated", "field_errors": {}}
    write_results(
        folder / "results.jsonl",
        [result_line(1, "ok", "created"), result_line(2, "failed", "not_associated", error=error)],
    )
    summary = {
        "rows_done": 2,
        "exit_code": 1,
        "elapsed_s": 4.0,
        "requests": 9,
        "rate_per_s_ceiling": 5.0,
        "requests_by_group": {"POST x": 8},
    }
    write_json_atomically(folder / "summary.json", summary)
    report = load_report(find_pass(folder))
    assert (ExitCode.ROWS_FAILED, 1, None) == (report.exit_code, report.tally.failed, report.reason)
    text = render_summary(report)
    assert "    line 3 key k2: failed not_associated: not associated" in text
    assert "pass      1, started 2026-01-01T00:00:00+00:00" in text
    write_json_atomically(folder / "summary.json", {**summary, "rows_done": 1})
    stale = load_report(find_pass(folder))
    assert (ExitCode.INTERRUPTED, 0) == (stale.exit_code, stale.requests)
    assert "left no summary" in render_summary(stale)


def a_report(**changes: Any) -> RunReport:
    tally = Tally()
    tally.add("ok", "created")
    values: dict[str, Any] = {
        "exit_code": ExitCode.OK,
        "folder": Path("run"),
        "job": "j",
        "org": None,
        "pass_number": 1,
        "pass_why": "",
        "started_at": "t",
        "total_rows": 1,
        "tally": tally,
        "totals": PassTotals(10.0, 100, 0, {"POST a": 45, "GET b": 55}, runs=1),
        "rate_per_s": 5.0,
    }
    values.update(changes)
    return RunReport(**values)


def test_pace_line_names_one_group_an_average_and_the_per_group_ceiling() -> None:
    """The busiest group's average over the run, next to the ceiling each group is held to."""
    text = render_summary(a_report())
    assert (
        "  pace      busiest endpoint group GET b: 5.5 req/s on average over 10.0s "
        "(each group's ceiling: 5 req/s)"
    ) in text.splitlines()


def test_no_pace_line_for_a_run_too_short_to_measure() -> None:
    """Under two seconds a per-second figure is noise: no pace line."""
    assert "pace" not in render_summary(a_report(totals=PassTotals(0.8, 100, 0, {"GET b": 100})))


def test_a_run_with_failed_rows_says_how_to_retry_them() -> None:
    """Failed rows: the summary names --retry-failed and `scf-batch retry`."""
    tally = Tally()
    tally.add("failed", "conflict")
    failed = [ResultLine(1, 2, None, "associate", Status.FAILED, Outcome.CONFLICT)]
    text = render_summary(a_report(tally=tally, failed_rows=failed, exit_code=ExitCode.ROWS_FAILED))
    assert "--retry-failed" in text
    assert "scf-batch retry run -o FILE" in text


def test_raw_rows_read_a_semicolon_cp1252_file_as_run_numbers_it(tmp_path: Path) -> None:
    """retry and the results CSV read the input with run's own reader: a `;` CSV saved as
    cp1252 gives the same rows, numbers and values."""
    path = tmp_path / "ops.csv"
    path.write_bytes(
        "scf_name;object_type;key\r\nCaf\u00e9 Owner;lead;a\r\n\r\nSeats;contact;b\r\n".encode(
            "cp1252"
        )
    )
    with open_raw(path, encoding="cp1252") as raw:
        rows = [(r.row, r.line, r.values) for r in raw.rows]
    assert rows == [
        (1, 2, {"scf_name": "Caf\u00e9 Owner", "object_type": "lead", "key": "a"}),
        (2, 4, {"scf_name": "Seats", "object_type": "contact", "key": "b"}),
    ]
    ops = list(read_operations(path, encoding="cp1252"))
    assert [(op.row, op.line) for op in ops] == [(1, 2), (2, 4)]


@pytest.mark.parametrize(
    "summary",
    [
        {"rows_done": 1, "exit_code": 7},
        {"rows_done": 1, "exit_code": 0, "elapsed_s": "x"},
        {"rows_done": 1, "exit_code": 0, "requests_by_group": []},
    ],
)
def test_report_of_a_pass_with_a_damaged_summary_falls_back_to_its_results(
    tmp_path: Path, summary: dict[str, Any]
) -> None:
    """A summary.json in another shape is not trusted (no traceback): counts come from the
    results, and the report says the run left no usable summary."""
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, write(tmp_path / "ops.csv", "x"), complete=True, rows=1)
    line = {"row": 1, "line": 2, "status": "failed", "outcome": "conflict", "key": "k"}
    (folder / "results.jsonl").write_text(json.dumps(line) + "\n")
    write_json_atomically(folder / "summary.json", summary)
    report = load_report(find_pass(folder))
    assert (report.tally.done, report.failed_rows[0].line) == (1, 2)
    assert "left no summary" in (report.reason or "")


def test_report_refuses_a_results_line_with_an_impossible_row(tmp_path: Path) -> None:
    """A row number no job has (10^12) is damage, refused with its line."""
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, write(tmp_path / "ops.csv", "x"), complete=True, rows=1)
    line = {"row": 10**12, "status": "ok", "outcome": "created"}
    (folder / "results.jsonl").write_text(json.dumps(line) + "\n")
    with pytest.raises(UsageError, match=r"results\.jsonl:1: found a damaged line"):
        load_report(find_pass(folder))


def test_report_of_a_pass_a_run_still_holds_names_the_run_and_its_pid(tmp_path: Path) -> None:
    """While a run holds the folder, `report` says so with its pid instead of "interrupted"."""
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, write(tmp_path / "ops.csv", "x"), complete=False)
    write_results(folder / "results.jsonl", [result_line(1, "ok", "created")])
    lock = RunLock(folder)
    lock.acquire()
    try:
        text = render_summary(load_report(find_pass(folder)))
    finally:
        lock.release()
    first = text.splitlines()[0]
    assert f"scf-batch: running: a run (pid {os.getpid()}) holds the run folder" in first
    assert "interrupted" not in text
    assert "left no summary" in render_summary(load_report(find_pass(folder)))


def test_report_refuses_a_pass_with_a_row_written_twice(tmp_path: Path) -> None:
    """14 lines for 13 rows is not "every row ok": the repeated row is refused naming both lines."""
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint(folder, write(tmp_path / "ops.csv", "x"), complete=True, rows=2)
    lines = [result_line(1, "ok", "created"), result_line(2, "ok", "created")]
    write_results(folder / "results.jsonl", [*lines, lines[0]])
    with pytest.raises(UsageError, match=r"results\.jsonl:3: found a second result of row 1"):
        load_report(find_pass(folder))
