"""Operations file -> stream of Operation | RowError, in input order; memory does not grow with it.

CSV (with a header) or JSONL, each optionally gzip-compressed; the format comes from the suffix.
A file that cannot be read at all raises JobFileError (a CSV header no row can be read with:
JobHeaderError, listing each column at fault once); everything else is a per-row RowError.
Blank lines (and CSV rows whose cells are all empty) are skipped and not counted as rows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from scf_batch.cells import (
    COLUMNS,
    MAX_VALUE_CHARS,
    TEXT_COLUMNS,
    RowProblems,
    assemble,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
    role_problem,
    show,
)
from scf_batch.conflicts import ConflictTracker
from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.models import Operation, Problem, RowError

Item = Operation | RowError
T = TypeVar("T")
SUFFIXES = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
}
MAX_LINE_BYTES = 1 << 20  # a JSONL line longer than this is reported, not loaded
UNREADABLE = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def file_format(path: Path) -> str:
    """`csv` or `jsonl` from the file's suffix; JobFileError for anything else."""
    name = path.name.lower()
    for suffix, kind in SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise JobFileError(f"{path}: unknown kind of operations file; expected " + ", ".join(SUFFIXES))


def read_operations(path: Path) -> Iterator[Item]:
    """Stream the operations file: one Operation or RowError per data row, in input order.

    Missing files, unknown suffixes and unusable CSV headers raise JobFileError at once; a file
    that turns out unreadable half-way (corrupt gzip) raises it while iterating.
    """
    kind = file_format(path)
    if kind == "csv":
        with _text(_open_binary(path)) as stream:
            _guard(path, lambda: _csv_header(path, csv.reader(stream)))
        return _csv_items(path)
    with _open_binary(path) as raw:
        _guard(path, lambda: raw.read(1))
    return _jsonl_items(path)


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (as stored, compressed or not), read in chunks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise JobFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.GzipFile(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise JobFileError(f"{path}: cannot open: {exc.strerror or exc}") from exc


def _text(raw: gzip.GzipFile | io.BufferedReader) -> io.TextIOWrapper:
    """Decoded lines; undecodable bytes become lone surrogates so the row can report them."""
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _guard(path: Path, read: Callable[[], T]) -> T:
    try:
        return read()
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc


# --- CSV ---------------------------------------------------------------------------------------


def _csv_header(path: Path, reader: Any) -> list[str | None]:
    """The column of each position (None: a column without a name); JobHeaderError if unusable."""
    header = None
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                header = cells
                break
    except csv.Error as exc:
        raise JobFileError(f"{path}: the header is not valid CSV: {exc}") from exc
    if header is None:
        raise JobFileError(f"{path}: no header row; expected a first line naming the columns")
    where, line = str(path), reader.line_num
    names = [cell.strip().lower() or None for cell in header]
    problems = []
    for position, name in enumerate(names):
        if name is None:
            continue
        if name not in COLUMNS or not is_unicode(name):
            names[position] = None
            problems.append(Problem(where, line, show(name), "an unknown column", _one_of()))
        elif names.index(name) < position:
            problems.append(Problem(where, line, name, "the column twice", "each column once"))
    if "object_type" not in names:
        problems.append(
            Problem(where, line, "object_type", "no such column", "an object_type column")
        )
    if "scf_id" not in names and "scf_name" not in names:
        problems.append(Problem(where, line, "scf_id", "no such column", "scf_id or scf_name"))
    if problems:
        raise JobHeaderError(f"{path}: the header cannot be used", tuple(problems))
    return names


def _one_of() -> str:
    return "one of " + ", ".join(COLUMNS)


def _csv_items(path: Path) -> Iterator[Item]:
    where = str(path)
    with _text(_open_binary(path)) as stream:
        reader = csv.reader(stream)
        names = _guard(path, lambda: _csv_header(path, reader))
        width = len(names)
        tracker = ConflictTracker()
        row = 0
        end = reader.line_num
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                row += 1
                bad = RowProblems(where, end + 1)
                bad.add("row", f"CSV that does not parse ({exc})", "well-formed CSV")
                end = reader.line_num
                yield RowError(row, bad.line, tuple(bad.problems))
                continue
            except UNREADABLE as exc:
                raise JobFileError(f"{path}: cannot read: {exc}") from exc
            if cells is None:
                return
            start, end = end + 1, reader.line_num
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            row += 1
            yield _csv_row(CsvRow(where, row, start, names, width), cells, tracker)


class CsvRow(NamedTuple):
    """Where a CSV row is and the header it is read with."""

    where: str
    row: int
    line: int
    names: list[str | None]
    width: int


def _csv_row(at: CsvRow, cells: list[str], tracker: ConflictTracker) -> Item:
    names, width = at.names, at.width
    bad = RowProblems(at.where, at.line)
    if not "".join(cells).isascii():
        _undecodable(names, cells, bad)
    if len(cells) < width:
        cells.extend([""] * (width - len(cells)))
    texts: dict[str, str | None] = {}
    for position, cell in enumerate(cells):
        name = names[position] if position < width else None
        if name is None:
            if cell:
                bad.add(f"column {position + 1}", show(cell), "nothing in a column without a name")
            continue
        if len(cell) > MAX_VALUE_CHARS:
            bad.add(name, f"a value of {len(cell)} characters", f"at most {MAX_VALUE_CHARS}")
            texts[name] = None
        else:
            texts[name] = cell or None
    required = _csv_required(texts.pop("required", None), bad)
    roles = _csv_roles(texts.pop("editable_with_roles", None), bad)
    return _finish(assemble(at.row, texts, required, roles, bad), tracker, bad)


def _undecodable(names: list[str | None], cells: list[str], bad: RowProblems) -> None:
    """Report each cell holding bytes that are not UTF-8, on its own physical line; blank it."""
    line = bad.line
    for position, cell in enumerate(cells):
        if not is_unicode(cell):
            first = next(i for i, char in enumerate(cell) if "\udc80" <= char <= "\udcff")
            column = names[position] if position < len(names) else None
            bad.add(
                column or f"column {position + 1}",
                "bytes that are not UTF-8",
                "UTF-8 text",
                line=line + cell.count("\n", 0, first),
            )
            cells[position] = ""
        line += cell.count("\n")


def _csv_required(text: str | None, bad: RowProblems) -> bool | None:
    if text is None:
        return None
    value = parse_csv_bool(text)
    if value is None:
        bad.add("required", show(text), "true or false (also yes/no, 1/0), or empty")
    return value


def _csv_roles(text: str | None, bad: RowProblems) -> tuple[str, ...] | None:
    if text is None:
        return None
    roles = parse_csv_roles(text)
    if isinstance(roles, str):
        bad.add("editable_with_roles", roles, 'a ;-separated list or a JSON array like ["admin"]')
        return None
    return _checked_roles(roles, bad)


def _checked_roles(roles: tuple[str, ...], bad: RowProblems) -> tuple[str, ...] | None:
    wrong = role_problem(roles)
    if wrong is not None:
        bad.add("editable_with_roles", *wrong)
        return None
    return roles


def _finish(item: Item, tracker: ConflictTracker, bad: RowProblems) -> Item:
    """Valid rows go through the conflict check; a conflicting row becomes a RowError."""
    if isinstance(item, RowError):
        return item
    clash = tracker.see(item)
    if clash is None:
        return item
    bad.add("action", *clash)
    return RowError(item.row, item.line, tuple(bad.problems), item.key)


# --- JSONL -------------------------------------------------------------------------------------


def _jsonl_items(path: Path) -> Iterator[Item]:
    where = str(path)
    tracker = ConflictTracker()
    row = 0
    with _open_binary(path) as raw:
        for line, data in enumerate(_jsonl_lines(path, raw), 1):
            if data is not None and not data.strip():
                continue
            row += 1
            bad = RowProblems(where, line)
            obj = _json_object(data, line, bad)
            if obj is None:
                yield RowError(row, line, tuple(bad.problems))
                continue
            yield _finish(_jsonl_row(row, obj, bad), tracker, bad)


def _jsonl_lines(path: Path, raw: gzip.GzipFile | io.BufferedReader) -> Iterator[bytes | None]:
    """Each physical line's bytes, BOM removed; None for a line over MAX_LINE_BYTES."""
    first = True
    while data := _guard(path, lambda: raw.readline(MAX_LINE_BYTES + 1)):
        if first:
            data = data.removeprefix(b"\xef\xbb\xbf")
            first = False
        if len(data) <= MAX_LINE_BYTES or data.endswith(b"\n"):
            yield data
            continue
        while data and not data.endswith(b"\n"):  # skip the rest of the long line
            data = _guard(path, lambda: raw.readline(MAX_LINE_BYTES))
        yield None


def _json_object(data: bytes | None, line: int, bad: RowProblems) -> dict[str, Any] | None:
    if data is None:
        bad.add("row", f"a line over {MAX_LINE_BYTES} bytes", "one short JSON object per line")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad.add("row", f"bytes that are not UTF-8 (at byte {exc.start + 1})", "UTF-8 text")
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too deeply nested"
        bad.add("row", f"JSON that does not parse ({reason})", "one JSON object per line")
        return None
    if not isinstance(obj, dict):
        bad.add("row", f"a JSON {_json_kind(obj)}", "one JSON object per line")
        return None
    return obj


def _jsonl_row(row: int, obj: dict[str, Any], bad: RowProblems) -> Item:
    texts: dict[str, str | None] = {}
    required: bool | None = None
    roles: tuple[str, ...] | None = None
    for name, value in obj.items():
        if name in TEXT_COLUMNS:
            texts[name] = _json_text(name, value, bad)
        elif name == "required":
            if value is not None and not isinstance(value, bool):
                bad.add(name, f"a JSON {_json_kind(value)}", "true, false or null")
            else:
                required = value
        elif name == "editable_with_roles":
            roles = _json_roles(value, bad)
        else:
            bad.add(show(name), "an unknown key", _one_of())
    return assemble(row, texts, required, roles, bad)


def _json_text(name: str, value: object, bad: RowProblems) -> str | None:
    if name == "key" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        return None
    if not isinstance(value, str):
        bad.add(name, f"a JSON {_json_kind(value)}", "a string" + (" or integer" * (name == "key")))
        return None
    value = value.strip()
    if len(value) > MAX_VALUE_CHARS:
        bad.add(name, f"a value of {len(value)} characters", f"at most {MAX_VALUE_CHARS}")
        return None
    if not is_unicode(value):
        bad.add(name, show(value), "valid Unicode text (no lone surrogates)")
        return None
    return value or None


def _json_roles(value: object, bad: RowProblems) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        kind = "array holding non-strings" if isinstance(value, list) else _json_kind(value)
        bad.add("editable_with_roles", f"a JSON {kind}", "an array of strings or null")
        return None
    return _checked_roles(tuple(entry.strip() for entry in value), bad)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
