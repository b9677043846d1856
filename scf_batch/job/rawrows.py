"""An operations file's rows as written (cells, not Operations), numbered as `run` numbers them.

`retry` and the results CSV echo a row's own values, so they read the file again without
checking it: CSV cells by column, JSONL objects as parsed. Rows are counted exactly as
csvrows/jsonlrows count them (blank rows skipped; a row that does not parse still counts, with
`values` None), so `row` joins them to results.jsonl; a job with a definitions file has its
rows first and the operations file's numbered on, as opsfile.py numbers them. Streamed, memory
flat.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from scf_batch.errors import JobFileError
from scf_batch.job.csvrows import CsvRow, csv_rows
from scf_batch.job.files import UNREADABLE, file_format, open_binary, text_stream
from scf_batch.job.jsonlrows import BinaryStream, json_object, jsonl_lines
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.rowrules import COLUMNS, RowProblems, parse_csv_bool, parse_csv_roles

Values = dict[str, object]


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its 1-based number, its first physical line, its values (None: unreadable),
    and whether it comes from the job's definitions file (its `line` is that file's)."""

    row: int
    line: int
    values: Values | None
    defined: bool = False


@dataclass(frozen=True, slots=True)
class RawFile:
    """The file's format, its columns (a CSV's header; every column for JSONL), its rows."""

    kind: str
    columns: tuple[str, ...]
    rows: Iterator[RawRow]


@contextmanager
def open_raw(path: Path, *, encoding: str = "utf-8") -> Iterator[RawFile]:
    """The rows of an operations file as written; JobFileError when it cannot be read.

    Read by the very readers `run` reads with (csvrows, jsonlrows: delimiter, encoding, caps and
    numbering), so a row's number here is its number in results.jsonl.
    """
    kind = file_format(path)
    where = str(path)
    with ExitStack() as stack:
        raw = stack.enter_context(open_binary(path))
        try:
            if kind == "jsonl":
                rows = _jsonl_rows(where, raw, encoding)
                columns: tuple[str, ...] = COLUMNS
            else:
                names, read = csv_rows(where, stack.enter_context(text_stream(raw, encoding)))
                columns = tuple(name or "" for name in names)
                rows = _csv_rows(read, columns)
        except UNREADABLE as exc:
            raise JobFileError(f"{path}: cannot read: {exc}") from exc
        yield RawFile(kind, columns, _guarded(path, rows))


@contextmanager
def open_raw_job(job: OperationsFile) -> Iterator[RawFile]:
    """The rows of a job as written: the definitions file's (when the spec names one), then the
    operations file's, numbered on; the format and columns are the operations file's."""
    if job.definitions is None:
        with open_raw(job.path, encoding=job.encoding) as raw:
            yield raw
        return
    with (
        open_raw(job.definitions) as defines,
        open_raw(job.path, encoding=job.encoding) as raw,
    ):
        yield RawFile(raw.kind, raw.columns, _joined(defines.rows, raw.rows))


def definitions_rows(job: OperationsFile) -> int:
    """How many rows the job's definitions file holds (the rows numbered before the
    operations file's); 0 without one."""
    if job.definitions is None:
        return 0
    with open_raw(job.definitions) as defines:
        return sum(1 for _ in defines.rows)


def _joined(defines: Iterator[RawRow], rows: Iterator[RawRow]) -> Iterator[RawRow]:
    last_row = 0
    for one in defines:
        last_row = one.row
        yield replace(one, defined=True)
    for one in rows:
        yield replace(one, row=one.row + last_row)


def _guarded(path: Path, rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """The rows; a file that turns out unreadable half-way (corrupt gzip) is a JobFileError."""
    try:
        yield from rows
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc


def _csv_rows(read: Iterator[CsvRow], columns: tuple[str, ...]) -> Iterator[RawRow]:
    for one in read:
        values: Values | None = None
        if one.cells is not None:
            cells = zip(columns, one.cells, strict=False)
            values = {name: cell.strip() for name, cell in cells if name}
        yield RawRow(one.row, one.line, values)


def _jsonl_rows(where: str, raw: BinaryStream, encoding: str) -> Iterator[RawRow]:
    for row, line, data in jsonl_lines(where, raw):
        obj = json_object(data, RowProblems(where, line), encoding)
        yield RawRow(row, line, obj)


def as_csv_cells(values: Values) -> dict[str, str]:
    """A row's values as CSV cells: booleans as true/false, role lists as a JSON array."""
    cells: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            cells[name] = ""
        elif isinstance(value, bool):
            cells[name] = "true" if value else "false"
        elif isinstance(value, str):
            cells[name] = value
        else:  # a role list (or a value `run` refuses anyway): JSON keeps it exact
            cells[name] = json.dumps(value, ensure_ascii=False)
    return cells


def as_json_object(values: Values) -> Values:
    """A row's values as a JSONL object: CSV text turned into the types JSONL expects.

    Empty cells are left out; a cell that does not convert stays text, so `run` reports it as
    it would have reported the original.
    """
    obj: Values = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, str) and name == "required":
            parsed = parse_csv_bool(value)
            obj[name] = value if parsed is None else parsed
        elif isinstance(value, str) and name == "editable_with_roles":
            roles = parse_csv_roles(value)
            obj[name] = value if isinstance(roles, str) else list(roles)
        else:
            obj[name] = value
    return obj
