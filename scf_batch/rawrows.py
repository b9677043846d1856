"""An operations file's rows as written (cells, not Operations), numbered as `run` numbers them.

`retry` and the results CSV echo a row's own values, so they read the file again without
checking it: CSV cells by column, JSONL objects as parsed. Rows are counted exactly as
csvrows/jsonlrows count them (blank rows skipped; a row that does not parse still counts, with
`values` None), so `row` joins them to results.jsonl. Streamed, memory flat.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.errors import JobFileError
from scf_batch.jsonlrows import MAX_LINE_BYTES
from scf_batch.opsfile import UNREADABLE, file_format
from scf_batch.rowrules import COLUMNS, parse_csv_bool, parse_csv_roles

Values = dict[str, object]


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its 1-based number, its first physical line, its values (None: unreadable)."""

    row: int
    line: int
    values: Values | None


@dataclass(frozen=True, slots=True)
class RawFile:
    """The file's format, its columns (a CSV's header; every column for JSONL), its rows."""

    kind: str
    columns: tuple[str, ...]
    rows: Iterator[RawRow]


@contextmanager
def open_raw(path: Path) -> Iterator[RawFile]:
    """The rows of an operations file as written; JobFileError when it cannot be read."""
    kind = file_format(path)
    with ExitStack() as stack:
        try:
            raw: gzip.GzipFile | io.BufferedReader
            if path.name.lower().endswith(".gz"):
                raw = stack.enter_context(gzip.GzipFile(path, "rb"))
            else:
                raw = stack.enter_context(path.open("rb"))
            columns: tuple[str, ...] = COLUMNS
            if kind == "jsonl":
                rows = _jsonl_rows(raw)
            else:
                text = io.TextIOWrapper(
                    raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
                )
                reader = csv.reader(stack.enter_context(text))
                columns = _csv_header(reader)
                rows = _csv_rows(reader, columns)
        except (csv.Error, *UNREADABLE) as exc:
            raise JobFileError(f"{path}: cannot read: {exc}") from exc
        yield RawFile(kind, columns, _guarded(path, rows))


def _guarded(path: Path, rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """The rows; a file that turns out unreadable half-way (corrupt gzip) is a JobFileError."""
    try:
        yield from rows
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc


def _csv_header(reader: Iterator[list[str]]) -> tuple[str, ...]:
    """The header's names as csvrows reads them (trimmed, lower case; '' for a nameless one)."""
    for cells in reader:
        if any(cell.strip() for cell in cells):
            return tuple(cell.strip().lower() for cell in cells)
    raise csv.Error("no header row")


def _csv_rows(reader: Any, columns: tuple[str, ...]) -> Iterator[RawRow]:
    """Mirrors csvrows.csv_items' numbering: blank rows skipped, a CSV error still a row."""
    row, end = 0, reader.line_num
    while True:
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num
                if not "".join(cells).strip():
                    continue
                row += 1
                values: Values = {
                    name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name
                }
                yield RawRow(row, start, values)
            return
        except csv.Error:
            row += 1
            start, end = end + 1, reader.line_num
            yield RawRow(row, start, None)


def _jsonl_rows(raw: gzip.GzipFile | io.BufferedReader) -> Iterator[RawRow]:
    """Mirrors jsonlrows.jsonl_items' numbering: one row per non-blank physical line."""
    row, line = 0, 0
    while data := raw.readline(MAX_LINE_BYTES + 1):
        line += 1
        if line == 1:
            data = data.removeprefix(b"\xef\xbb\xbf")
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            while data and not data.endswith(b"\n"):  # the rest of a line too long to read
                data = raw.readline(MAX_LINE_BYTES)
            row += 1
            yield RawRow(row, line, None)
            continue
        if not data.strip():
            continue
        row += 1
        yield RawRow(row, line, _json_object(data))


def _json_object(data: bytes) -> Values | None:
    try:
        obj = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return obj if isinstance(obj, dict) else None


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
