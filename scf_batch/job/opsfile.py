"""The operations file -> stream of Operation | RowError, in input order, memory flat as it grows.

CSV (with a header) or JSONL, each optionally gzip-compressed; the format comes from the suffix.
A file that cannot be read at all raises JobFileError (a CSV header no row can be read with:
JobHeaderError, listing each column at fault once); everything else is a per-row RowError.
Blank lines (and CSV rows whose cells are all empty) are skipped and not counted as rows.

Bounded whatever the file holds: lines and rows are capped by their readers (csvrows,
jsonlrows), as are lines without a row, and a gzip stream's inflated size (files.py).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from scf_batch.errors import JobFileError
from scf_batch.job.conflicts import ConflictTracker
from scf_batch.job.csvrows import csv_header, csv_items, csv_reader
from scf_batch.job.definitions import is_definition, parse_definition
from scf_batch.job.files import (
    UNREADABLE,
    file_format,
    fingerprint,
    guard,
    open_binary,
    text_stream,
)
from scf_batch.job.jsonlrows import BinaryStream, json_object, jsonl_lines, jsonl_row
from scf_batch.job.order import is_order, parse_order
from scf_batch.job.rowrules import RowProblems, conflict_error
from scf_batch.models import FieldDefinition, FieldOrder, Operation, RowError
from scf_batch.options import ENCODINGS

Item = Operation | RowError | FieldDefinition | FieldOrder


def read_items(path: Path, *, encoding: str = "utf-8") -> Generator[Item, None, None]:
    """Stream the operations file: one Operation, FieldDefinition or FieldOrder (JSONL `define`
    lines) or RowError per data row, in input order.

    Missing files, unknown suffixes and unusable CSV headers raise JobFileError at once; a file
    that turns out unreadable half-way (corrupt gzip, past a cap) raises it while iterating. A
    valid row that contradicts an earlier one (conflicts.py) becomes a RowError. `encoding`
    (one of ENCODINGS) decodes the text; the fingerprint stays on the bytes.
    """
    if encoding not in ENCODINGS:
        raise JobFileError(f"encoding: found {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    kind = _readable_kind(path, encoding)
    return _checked(str(path), _rows(path, kind, encoding))


@dataclass(frozen=True, slots=True)
class OperationsFile:
    """A job's operations file: where its rows come from, streamed once per call of `items`."""

    path: Path
    encoding: str = "utf-8"

    @property
    def where(self) -> str:
        """How problems name the file."""
        return str(self.path)

    def fingerprint(self) -> str:
        """The file's identity: sha256 of its bytes as stored (files.fingerprint)."""
        return fingerprint(self.path)

    def items(self) -> Iterator[Item]:
        """Every row in input order (`read_items`), the file opened when the first is asked
        for, so a reader's errors reach whoever iterates (the preparation pass reports them)."""
        yield from read_items(self.path, encoding=self.encoding)


def check_operations(
    path: Path, *, encoding: str = "utf-8", allow_empty: bool = False
) -> OperationsFile:
    """Refuse, before anything is sent, a file that cannot be read or holds no row; the file
    to stream, once checked (the check runs once: the passes over the file do not repeat it).

    Reads up to the first row only (JobFileError/JobHeaderError as read_operations raises them);
    a file without a row raises JobFileError unless `allow_empty`: an empty export is more
    often a broken upstream job than an empty job.
    """
    rows = read_items(path, encoding=encoding)
    try:
        empty = next(rows, None) is None
    finally:
        rows.close()  # the file is closed now, not when the generator is collected
    if empty and not allow_empty:
        raise JobFileError(
            f"{path}: no rows (an empty file, or a header only); expected at least one row. "
            "If an empty job is fine, give --allow-empty (allow_empty = true in a job spec)"
        )
    return OperationsFile(path, encoding)


def read_operations(path: Path, *, encoding: str = "utf-8") -> Iterator[Operation | RowError]:
    """`read_items` without the field definitions and orders: the association rows and the row
    errors."""
    items = read_items(path, encoding=encoding)
    return (item for item in items if isinstance(item, Operation | RowError))


def _checked(where: str, rows: Iterator[Item]) -> Generator[Item, None, None]:
    tracker = ConflictTracker()
    for item in rows:
        if isinstance(item, Operation):
            clash = tracker.see(item)
            yield item if clash is None else conflict_error(where, item, clash)
        else:
            yield item


def _readable_kind(path: Path, encoding: str) -> str:
    """The file's format, once its first bytes (a CSV: its header) are known to be usable."""
    kind = file_format(path)
    if kind == "csv":
        with text_stream(open_binary(path), encoding) as stream:
            guard(path, lambda: csv_header(str(path), *csv_reader(str(path), stream)))
    else:
        with open_binary(path) as raw:
            guard(path, lambda: raw.read(1))
    return kind


def _rows(path: Path, kind: str, encoding: str) -> Iterator[Item]:
    with open_binary(path) as raw:
        try:
            if kind == "csv":
                with text_stream(raw, encoding) as stream:
                    yield from csv_items(str(path), stream, encoding=encoding)
            else:
                yield from jsonl_items(str(path), raw, encoding=encoding)
        except UNREADABLE as exc:
            raise JobFileError(f"{path}: cannot read: {exc}") from exc


def jsonl_items(where: str, raw: BinaryStream, *, encoding: str = "utf-8") -> Iterator[Item]:
    """Every non-blank line of a JSONL stream as a row, in order, by its kind: a field
    definition (`"define": "field"`), a field order (`"define": "order"`) or an operation;
    `where` names the file."""
    for row, line, data in jsonl_lines(where, raw):
        bad = RowProblems(where, line)
        obj = json_object(data, bad, encoding)
        if obj is None:
            yield RowError(row, line, tuple(bad.problems))
        elif is_order(obj):  # a `define` line of its own kind, before the field definitions
            yield parse_order(row, obj, bad)
        elif is_definition(obj):
            yield parse_definition(row, obj, bad)
        else:
            yield jsonl_row(row, obj, bad)
