"""Hostile and odd inputs end in a clear message (exit 2) in bounded memory and time.

Caps are made small with monkeypatch so the files stay tiny; each test says the cap it meets.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from scf_batch.errors import JobFileError, JobHeaderError, UsageError
from scf_batch.job import csvrows, files, jsonlrows
from scf_batch.job.opsfile import check_operations, read_operations
from scf_batch.job.spec import load_job
from scf_batch.models import Action, ObjectType, Operation, Ref, RowError
from scf_batch.options import BY_NAME, ENCODINGS
from tests.jobfiles import FIELD_1, FIELD_2, problems, read, write

HEADER = "scf_id,object_type\n"
ROW_1 = f"{FIELD_1},lead\n"
ROW_2 = f"{FIELD_2},contact\n"


def ops(*rows: tuple[str, ObjectType, int]) -> list[Operation]:
    return [
        Operation(row, line, Action.ASSOCIATE, Ref(id=field), kind)
        for row, (field, kind, line) in enumerate(rows, 1)
    ]


# --- item 1: bounded memory --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ops.csv.gz", "ops.jsonl.gz"])
def test_gzip_inflating_past_the_cap_is_a_job_file_error_naming_the_file(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small .gz of NULs that inflates past MAX_INFLATED_BYTES stops with a message."""
    monkeypatch.setattr(files, "MAX_INFLATED_BYTES", 1 << 20)
    path = tmp_path / name
    start = HEADER if name.startswith("ops.csv") else ""
    path.write_bytes(gzip.compress(start.encode() + b"\0" * (3 << 20)))
    assert path.stat().st_size < 10_000
    with pytest.raises(
        JobFileError, match=rf"{name}: found a gzip stream that inflates past 1 MiB"
    ):
        read(path)


def test_gzip_under_the_cap_reads_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inflation cap counts bytes: a file under it is read whole."""
    monkeypatch.setattr(files, "MAX_INFLATED_BYTES", 1 << 20)
    path = write(tmp_path / "ops.csv.gz", HEADER + ROW_1 * 1000)
    assert len(read(path)) == 1000


def test_csv_line_over_the_cap_is_that_rows_problem_and_later_rows_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A physical line past MAX_LINE_CHARS is cut, reported on its line, and reading goes on."""
    monkeypatch.setattr(csvrows, "MAX_LINE_CHARS", 100)
    path = write(tmp_path / "ops.csv", HEADER + ROW_1 + "x" * 5000 + ",lead\n" + ROW_2)
    items = read(path)
    assert items[0] == ops((FIELD_1, ObjectType.LEAD, 2))[0]
    assert isinstance(items[1], RowError)
    assert (items[1].row, items[1].line) == (2, 3)
    assert items[2] == Operation(3, 4, Action.ASSOCIATE, Ref(id=FIELD_2), ObjectType.CONTACT)
    assert problems(path) == [
        f"{path}:3: row: found a line over 100 characters; expected well-formed CSV"
    ]


def test_csv_line_without_newline_over_the_cap_is_never_held_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A last line of NULs far past the cap ends as one row problem (no MemoryError)."""
    monkeypatch.setattr(csvrows, "MAX_LINE_CHARS", 1000)
    path = write(tmp_path / "ops.csv", HEADER.encode() + b"\0" * 200_000)
    assert problems(path) == [
        f"{path}:2: row: found a line over 1000 characters; expected well-formed CSV"
    ]


def test_quoted_row_spread_over_lines_past_the_row_cap_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines each under the line cap that a quoted cell joins past MAX_ROW_CHARS: one problem."""
    monkeypatch.setattr(csvrows, "MAX_ROW_CHARS", 300)
    body = '"' + "y" * 50 + "\n" + ("z" * 50 + "\n") * 10 + '",lead\n'
    path = write(tmp_path / "ops.csv", HEADER + body + ROW_2)
    found = problems(path)
    assert found[0] == f"{path}:7: row: found a row over 300 characters; expected well-formed CSV"
    assert all("over 300" in line or "does not parse" in line or ":" in line for line in found)


def test_row_of_too_many_cells_is_reported_without_checking_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row past MAX_COLUMNS cells is one problem, not one per cell."""
    monkeypatch.setattr(csvrows, "MAX_COLUMNS", 50)
    path = write(tmp_path / "ops.csv", HEADER + "," * 3000 + "\n" + ROW_1)
    assert problems(path) == [f"{path}:2: row: found a row of 3001 cells; expected at most 50"]


def test_header_over_the_line_cap_is_a_job_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first line past MAX_LINE_CHARS cannot be a header."""
    monkeypatch.setattr(csvrows, "MAX_LINE_CHARS", 100)
    path = write(tmp_path / "ops.csv", "scf_id," * 100 + "\n" + ROW_1)
    with pytest.raises(JobFileError, match=r"ops\.csv:1: the header is a line over 100 characters"):
        read_operations(path)


def test_header_of_too_many_cells_is_a_job_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A header past MAX_COLUMNS cells is refused at once."""
    monkeypatch.setattr(csvrows, "MAX_COLUMNS", 10)
    path = write(tmp_path / "ops.csv", "scf_id,object_type" + "," * 20 + "\n" + ROW_1)
    with pytest.raises(JobFileError, match="the header has 22 cells; expected at most 10"):
        read_operations(path)


# --- item 2: bounded time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ops.jsonl", "\n" * 50),
        ("ops.jsonl.gz", "\n" * 50),
        ("ops.csv", HEADER + "\n" * 50),
        ("ops.csv.gz", HEADER + ",\n" * 50),
        ("ops.csv", "\n" * 50 + HEADER),
    ],
)
def test_too_many_lines_without_a_row_is_a_job_file_error(
    tmp_path: Path, name: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_BLANK_LINES lines without a row, reading stops with a message naming the file."""
    for module in (csvrows, jsonlrows):
        monkeypatch.setattr(module, "MAX_BLANK_LINES", 10)
    path = write(tmp_path / name, text + ROW_1)
    with pytest.raises(
        JobFileError, match=rf"{name}.*(lines without a row|blank lines|first 10 lines)"
    ):
        read(path)


def test_blank_lines_under_the_cap_are_skipped(tmp_path: Path) -> None:
    """The cap does not touch an ordinary file's blank lines."""
    path = write(tmp_path / "ops.csv", HEADER + "\n,\n\n" + ROW_1)
    assert read(path) == ops((FIELD_1, ObjectType.LEAD, 5))


# --- item 3: tracebacks that become exit 2 -----------------------------------------------------


def test_jsonl_integer_of_100000_digits_is_called_what_it_is(tmp_path: Path) -> None:
    """Python's int-string limit (a ValueError) is not reported as "too deeply nested"."""
    path = write(tmp_path / "ops.jsonl", '{"key": ' + "9" * 100_000 + "}\n")
    (found,) = problems(path)
    assert "a number of more than 4300 digits" in found
    assert "nested" not in found


def test_jsonl_deep_nesting_is_still_too_deeply_nested(tmp_path: Path) -> None:
    """A RecursionError keeps its own message."""
    path = write(tmp_path / "ops.jsonl", "[" * 100_000 + "\n")
    (found,) = problems(path)
    assert "too deeply nested" in found


def test_toml_nested_100000_deep_is_a_usage_error(tmp_path: Path) -> None:
    """tomllib's RecursionError becomes a UsageError naming the spec."""
    spec = write(tmp_path / "job.toml", 'operations = "o.csv"\nx = ' + "[" * 100_000 + "\n")
    with pytest.raises(UsageError, match=r"job\.toml: not valid TOML here: .*nested too deeply"):
        load_job(spec)


def test_toml_integer_of_100000_digits_is_a_usage_error(tmp_path: Path) -> None:
    """tomllib's int() ValueError becomes a UsageError naming the spec."""
    spec = write(tmp_path / "job.toml", 'operations = "o.csv"\ntimeout = ' + "9" * 100_000 + "\n")
    with pytest.raises(UsageError, match=r"job\.toml: not valid TOML here: an integer"):
        load_job(spec)


@pytest.mark.parametrize("key", ["timeout", "concurrency", "simulator.latency_ms"])
def test_toml_integer_too_big_for_a_float_is_a_wrong_value(tmp_path: Path, key: str) -> None:
    """A 400-digit integer (float() overflows) is reported like any out-of-range value."""
    table, _, name = key.rpartition(".")
    big = "9" * 400
    text = 'operations = "o.csv"\n' + (f"[{table}]\n" if table else "") + f"{name} = {big}\n"
    with pytest.raises(UsageError, match=rf"{key}: found 9+…?; expected"):
        load_job(write(tmp_path / "job.toml", text))


def test_huge_integer_flag_is_refused_by_the_options_table() -> None:
    """Option.check refuses, not raises, for an integer past every bound."""
    assert BY_NAME["timeout"].check(10**400) is None
    assert BY_NAME["concurrency"].check(10**400) is None


def test_spec_over_the_size_cap_is_a_usage_error(tmp_path: Path) -> None:
    """A spec is read up to 1 MiB: a larger one is refused, not loaded."""
    spec = write(tmp_path / "job.toml", 'operations = "o.csv"\n' + "# x\n" * 300_000)
    with pytest.raises(UsageError, match=r"job\.toml: found a job spec over 1048576 bytes"):
        load_job(spec)


def test_spec_out_with_a_nul_is_a_wrong_value(tmp_path: Path) -> None:
    """out = "a\\u0000b" is reported, not a ValueError later at mkdir."""
    spec = write(tmp_path / "job.toml", 'operations = "o.csv"\nout = "a\\u0000b"\n')
    with pytest.raises(UsageError, match="out: found"):
        load_job(spec)


# --- item 4: what a spec may reach, what a message echoes --------------------------------------


@pytest.mark.parametrize("out", ["../../../../elsewhere", "/tmp/elsewhere", "runs/../../../x"])
def test_spec_out_outside_its_folder_and_the_current_one_is_refused(
    tmp_path: Path, out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec may not pick where the run writes: outside both folders needs --out."""
    (tmp_path / "proj" / "jobs").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "proj")
    spec = write(tmp_path / "proj" / "jobs" / "job.toml", f'operations = "o.csv"\nout = "{out}"\n')
    with pytest.raises(
        UsageError, match=r"out: found .*; expected a folder under the spec.s folder"
    ):
        load_job(spec)


@pytest.mark.parametrize("out", ["runs/x", "../runs/x"])
def test_spec_out_under_its_folder_or_the_current_one_is_kept(
    tmp_path: Path, out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`jobs/x.toml` may write under jobs/ or, run from the project, under ../runs/."""
    (tmp_path / "proj" / "jobs").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "proj")
    spec = write(tmp_path / "proj" / "jobs" / "job.toml", f'operations = "o.csv"\nout = "{out}"\n')
    assert load_job(spec).values["out"] == str(spec.parent / out)


def test_a_first_line_naming_no_column_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A symlink to a file that is no operations file: validate does not print its first line."""
    secret = write(tmp_path / "passwd", "root:x:0:0:root:/root:/bin/bash\nuser:x:1000\n")
    link = tmp_path / "ops.csv"
    link.symlink_to(secret)
    assert main(["validate", str(link)]) == 2
    out = capsys.readouterr().out
    assert "root:x" not in out
    assert "header: found a first line that names no known column" in out


def test_an_unknown_column_beside_known_ones_is_still_named(tmp_path: Path) -> None:
    """A misspelt column in a real header is shown, so the user can fix it."""
    path = write(tmp_path / "ops.csv", "scf_id,object_typ\n" + ROW_1)
    with pytest.raises(JobHeaderError) as caught:
        read_operations(path)
    assert any(problem.column == '"object_typ"' for problem in caught.value.problems)


# --- item 5: spreadsheet files -----------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_the_delimiter_is_read_from_the_header(tmp_path: Path, delimiter: str) -> None:
    """`;` (European Excel), tab and comma files read the same rows."""
    text = f"scf_id{delimiter}object_type\n{FIELD_1}{delimiter}lead\n"
    assert read(write(tmp_path / "ops.csv", text)) == ops((FIELD_1, ObjectType.LEAD, 2))


def test_a_semicolon_in_a_comma_file_stays_in_its_cell(tmp_path: Path) -> None:
    """The header decides: a comma file whose roles hold `;` keeps the comma."""
    text = f'scf_id,object_type,editable_with_roles\n{FIELD_1},lead,"admin;user"\n'
    (op,) = read(write(tmp_path / "ops.csv", text))
    assert isinstance(op, Operation)
    assert op.editable_with_roles == ("admin", "user")


def test_cp1252_file_reads_with_the_encoding_option(tmp_path: Path) -> None:
    """A Windows "CSV" (cp1252) reads with encoding="cp1252"; as UTF-8 it says how to fix it."""
    path = write(tmp_path / "ops.csv", "scf_name;object_type\nCafé €;lead\n".encode("cp1252"))
    (op,) = list(read_operations(path, encoding="cp1252"))
    assert isinstance(op, Operation)
    assert op.field == Ref(name="Café €")
    assert problems(path) == [
        f"{path}:2: scf_name: found bytes that are not UTF-8; expected UTF-8 text (in Excel: Save "
        'As "CSV UTF-8"; or give --encoding cp1252)'
    ]


def test_validate_takes_the_encoding_flag(tmp_path: Path) -> None:
    """`validate --encoding cp1252` reads a cp1252 file clean."""
    path = write(tmp_path / "ops.csv", "scf_name,object_type\nCafé,lead\n".encode("cp1252"))
    assert main(["validate", str(path)]) == 2
    assert main(["validate", str(path), "--encoding", "cp1252"]) == 0


def test_an_unknown_encoding_is_a_job_file_error(tmp_path: Path) -> None:
    """read_operations accepts only the listed encodings, the same list as the option's."""
    assert ENCODINGS == BY_NAME["encoding"].kind  # opsfile reads the same tuple
    with pytest.raises(JobFileError, match="encoding: found 'utf-7'"):
        read_operations(write(tmp_path / "ops.csv", HEADER + ROW_1), encoding="utf-7")


# --- item 6: an empty job is not a success -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"), [("ops.jsonl", ""), ("ops.csv", HEADER), ("ops.jsonl", "\n\n")]
)
def test_a_file_without_a_row_is_refused_unless_allowed(
    tmp_path: Path, name: str, text: str
) -> None:
    """check_operations refuses an empty job; allow_empty lets it through."""
    path = write(tmp_path / name, text)
    with pytest.raises(JobFileError, match=r"no rows .*--allow-empty"):
        check_operations(path)
    check_operations(path, allow_empty=True)


def test_check_operations_passes_a_file_with_a_row(tmp_path: Path) -> None:
    """One row is enough, however broken the row is (validate reports it)."""
    check_operations(write(tmp_path / "ops.csv", HEADER + "nope,lead\n"))


@pytest.mark.parametrize(("name", "text"), [("ops.jsonl", ""), ("ops.csv", HEADER)])
def test_validate_exits_2_on_an_empty_job_and_0_with_allow_empty(
    tmp_path: Path, name: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate: "no rows" is a problem (exit 2); --allow-empty makes it a clean, empty job."""
    path = write(tmp_path / name, text)
    assert main(["validate", str(path)]) == 2
    assert "rows: found no rows" in capsys.readouterr().out
    assert main(["validate", str(path), "--allow-empty"]) == 0


def test_validate_reads_allow_empty_from_the_spec(tmp_path: Path) -> None:
    """allow_empty = true in a job spec is the flag's equal."""
    write(tmp_path / "ops.csv", HEADER)
    spec = write(tmp_path / "job.toml", 'operations = "ops.csv"\nallow_empty = true\n')
    assert main(["validate", str(spec)]) == 0


def test_run_of_an_empty_job_exits_2_before_reading_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run refuses an empty file first: no key is needed to learn the export is broken."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    path = write(tmp_path / "ops.csv", HEADER)
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "no rows" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
