"""A job spec's `definitions` file: read before the operations file as one job (one
fingerprint, rows numbered on, each problem naming its own file), checked before anything runs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scf_batch.errors import JobFileError, UsageError
from scf_batch.job.opsfile import OperationsFile, check_operations
from scf_batch.job.rawrows import open_raw_job
from scf_batch.job.spec import load_job
from scf_batch.models import FieldDefinition, FieldOrder, Operation, RowError
from scf_batch.report.resultscsv import write_results_csv
from scf_batch.report.retryfile import write_retry
from scf_batch.runfolder.folder import DoneRows
from tests.jobfiles import write, write_jsonl

DEFINES: list[dict[str, object]] = [
    {"define": "field", "scf_name": "Tier", "type": "choices", "choices": ["Gold", "Silver"]},
    {"define": "field", "scf_name": "Region", "type": "text"},
    {"define": "order", "object_type": "lead", "fields": ["Region", "Tier"]},
]
ROWS = "action,scf_name,object_type,required\nensure,Tier,lead,true\n\nensure,Region,lead,false\n"


def job_files(folder: Path) -> OperationsFile:
    """A definitions file of three define lines and a CSV of two rows (a blank line between)."""
    definitions = write_jsonl(folder / "org.definitions.jsonl", DEFINES)
    operations = write(folder / "org.csv", ROWS)
    return OperationsFile(operations, definitions=definitions)


def spec_of(folder: Path, text: str) -> Path:
    return write(folder / "org.toml", text)


def test_a_spec_with_definitions_names_the_file_beside_it(tmp_path: Path) -> None:
    """`definitions` is read relative to the spec, like `operations`."""
    job_files(tmp_path)
    spec = spec_of(tmp_path, 'operations = "org.csv"\ndefinitions = "org.definitions.jsonl"\n')
    loaded = load_job(spec)
    assert (tmp_path / "org.csv", tmp_path / "org.definitions.jsonl") == (
        loaded.operations,
        loaded.definitions,
    )


def test_a_missing_definitions_file_is_refused_naming_the_key_and_the_path(
    tmp_path: Path,
) -> None:
    """A spec naming a definitions file that does not exist is a UsageError (exit 2) naming the
    spec, the key and the file."""
    write(tmp_path / "org.csv", ROWS)
    spec = spec_of(tmp_path, 'operations = "org.csv"\ndefinitions = "gone.jsonl"\n')
    with pytest.raises(UsageError) as caught:
        load_job(spec)
    message = str(caught.value)
    assert message.startswith(f'{spec}: definitions: found "gone.jsonl"')
    assert str(tmp_path / "gone.jsonl") in message


def test_a_definitions_file_that_is_not_jsonl_is_refused(tmp_path: Path) -> None:
    """A CSV cannot hold definitions: a `definitions` key naming one says what would do."""
    write(tmp_path / "org.csv", ROWS)
    spec = spec_of(tmp_path, 'operations = "org.csv"\ndefinitions = "org.csv"\n')
    with pytest.raises(UsageError, match=r"definitions: found \"org.csv\"; expected a JSONL"):
        load_job(spec)


def test_a_misspelt_definitions_key_gets_the_closest_key(tmp_path: Path) -> None:
    """Unknown keys still get "did you mean", now with `definitions` among the known keys."""
    write(tmp_path / "org.csv", ROWS)
    spec = spec_of(tmp_path, 'operations = "org.csv"\ndefinition = "org.definitions.jsonl"\n')
    with pytest.raises(UsageError, match=r"definition: found an unknown key.*definitions"):
        load_job(spec)


def test_rows_are_numbered_on_across_both_files(tmp_path: Path) -> None:
    """The definitions file's rows come first (1-3), the CSV's are numbered on (4-5); each keeps
    the line of its own file."""
    items = list(job_files(tmp_path).items())
    kinds = [type(item) for item in items]
    assert [FieldDefinition, FieldDefinition, FieldOrder, Operation, Operation] == kinds
    assert [(1, 1), (2, 2), (3, 3), (4, 2), (5, 4)] == [(i.row, i.line) for i in items]


def test_the_raw_rows_are_numbered_as_the_job_numbers_them(tmp_path: Path) -> None:
    """`retry` and `report --csv` join rows to results by number: the raw rows of a two-file job
    are numbered as its items are."""
    job = job_files(tmp_path)
    with open_raw_job(job) as raw:
        numbered = [(row.row, row.line, row.defined) for row in raw.rows]
    assert [(i.row, i.line) for i in job.items()] == [(r, line) for r, line, _ in numbered]
    assert [True, True, True, False, False] == [defined for *_, defined in numbered]


def test_the_fingerprint_changes_when_either_file_changes(tmp_path: Path) -> None:
    """One fingerprint covers both files: a change to either is a changed job, and it is not the
    operations file's own (a job without definitions keeps its old fingerprint)."""
    job = job_files(tmp_path)
    first = job.fingerprint()
    assert first != OperationsFile(job.path).fingerprint()
    assert job.definitions is not None
    write_jsonl(job.definitions, DEFINES[:2])
    second = job.fingerprint()
    write(job.path, ROWS + "ensure,Tier,contact,false\n")
    assert len({first, second, job.fingerprint()}) == 3


def test_an_association_row_in_the_definitions_file_is_a_row_error_naming_its_place(
    tmp_path: Path,
) -> None:
    """The definitions file holds define lines only: an association row there is refused,
    naming the file and line and saying where it belongs."""
    definitions = write_jsonl(
        tmp_path / "d.jsonl",
        [DEFINES[0], {"action": "ensure", "scf_name": "Tier", "object_type": "lead"}],
    )
    job = OperationsFile(write(tmp_path / "org.csv", ROWS), definitions=definitions)
    error = list(job.items())[1]
    assert isinstance(error, RowError)
    (problem,) = error.problems
    assert str(problem) == (
        f"{definitions}:2: define: found an association row in the definitions file; expected "
        f"define lines only (field definitions and orders); put the row in {job.path}"
    )


def test_a_field_defined_in_both_files_is_caught_on_the_operations_files_line(
    tmp_path: Path,
) -> None:
    """Across the two files: a define line in a JSONL operations file (here one defining a field
    the definitions file defines already) is a row error on its own line, pointing at the
    definitions file, so no field is defined in two places."""
    definitions = write_jsonl(tmp_path / "d.jsonl", DEFINES[:1])
    operations = write_jsonl(
        tmp_path / "ops.jsonl",
        [DEFINES[0], {"action": "ensure", "scf_name": "Tier", "object_type": "lead"}],
    )
    items = list(OperationsFile(operations, definitions=definitions).items())
    error = items[1]
    assert isinstance(error, RowError)
    assert (2, 1) == (error.row, error.line)
    assert str(error.problems[0]).startswith(
        f"{operations}:1: define: found a define line in the operations file; expected "
        f"association rows only (the spec names {definitions} for define lines)"
    )
    assert isinstance(items[2], Operation)


def test_rows_contradicting_each_other_are_caught_with_the_jobs_row_numbers(
    tmp_path: Path,
) -> None:
    """One conflict check over the job: a contradiction names the earlier row by its number in
    the job (after the definitions file's rows), and its line in the operations file."""
    definitions = write_jsonl(tmp_path / "d.jsonl", DEFINES)
    operations = write(
        tmp_path / "ops.csv",
        "action,scf_name,object_type,required\n"
        "associate,Tier,lead,true\nassociate,Tier,lead,false\n",
    )
    error = list(OperationsFile(operations, definitions=definitions).items())[4]
    assert isinstance(error, RowError)
    assert "contradicting row 4 (line 2)" in str(error.problems[0])
    assert str(error.problems[0]).startswith(f"{operations}:3: ")


def test_a_job_is_empty_only_when_both_files_are(tmp_path: Path) -> None:
    """A header-only CSV with define lines beside it is a job; both empty is refused as empty."""
    operations = write(tmp_path / "org.csv", "action,scf_name,object_type\n")
    definitions = write_jsonl(tmp_path / "d.jsonl", DEFINES[:1])
    assert check_operations(operations, definitions=definitions).definitions == definitions
    write(definitions, "")
    with pytest.raises(JobFileError, match=r"d.jsonl and .*org.csv: no rows"):
        check_operations(operations, definitions=definitions)


def test_the_definitions_file_is_read_as_utf8_whatever_the_encoding(tmp_path: Path) -> None:
    """`encoding` is the spreadsheet's: a cp1252 CSV beside a UTF-8 definitions file reads both
    right."""
    definitions = write_jsonl(
        tmp_path / "d.jsonl", [{"define": "field", "scf_name": "Région", "type": "text"}]
    )
    operations = tmp_path / "org.csv"
    operations.write_bytes("action,scf_name,object_type\nensure,Région,lead\n".encode("cp1252"))
    items = list(OperationsFile(operations, "cp1252", definitions).items())
    assert ["Région", "Région"] == [
        item.name if isinstance(item, FieldDefinition) else item.field.name
        for item in items
        if isinstance(item, FieldDefinition | Operation)
    ]


def test_a_retry_of_a_two_file_job_holds_every_selected_row_as_one_jsonl_job(
    tmp_path: Path,
) -> None:
    """Failed define lines and failed rows go to one JSONL file, define lines first, each
    pointing back by its file's line; read back it is the same job (minus the keys)."""
    job = job_files(tmp_path)
    selected = DoneRows()
    for row in (1, 3, 5):
        selected.add(row)
    out = tmp_path / "retry.jsonl"
    assert 3 == write_retry(job, selected, out).rows
    items = list(OperationsFile(out).items())
    assert [FieldDefinition, FieldOrder, Operation] == [type(item) for item in items]
    assert ["definitions-line-1", "definitions-line-3", "line-4"] == [i.key for i in items]
    assert not any(isinstance(item, RowError) for item in items)


def test_a_csv_retry_of_a_failed_define_line_is_refused_before_writing(tmp_path: Path) -> None:
    """A CSV holds association rows only: selecting a define line for a .csv retry is refused,
    naming a .jsonl output instead, and nothing is written."""
    job = job_files(tmp_path)
    selected = DoneRows()
    selected.add(2)
    out = tmp_path / "retry.csv"
    with pytest.raises(UsageError, match=r"expected a \.jsonl output"):
        write_retry(job, selected, out)
    assert not out.exists()
    only_rows = DoneRows()
    only_rows.add(4)
    assert 1 == write_retry(job, only_rows, out).rows


def test_the_results_csv_of_a_two_file_job_lists_the_define_lines_first(tmp_path: Path) -> None:
    """`report --csv`: every row of both files in job order, joined to its verdict by the job's
    row number, with a `define` column saying which lines are define lines."""
    job = job_files(tmp_path)
    found = {1: ("failed", "conflict", "type"), 4: ("ok", "updated", "")}
    out = tmp_path / "results.csv"
    assert 5 == write_results_csv(job, found, out)
    table = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert ["field", "field", "order", "", ""] == [r["define"] for r in table]
    assert ["Tier", "Region", "", "Tier", "Region"] == [r["scf_name"] for r in table]
    assert ["conflict", "", "", "updated", ""] == [r["outcome"] for r in table]
