"""The operations file -> stream of Operation | RowError, in input order, memory flat as it grows.

CSV (with a header) or JSONL, each optionally gzip-compressed; the format comes from the suffix.
A file that cannot be read at all raises JobFileError (a CSV header no row can be read with:
JobHeaderError, listing each column at fault once); everything else is a per-row RowError.
Blank lines (and CSV rows whose cells are all empty) are skipped and not counted as rows.

Bounded whatever the file holds: lines and rows are capped by their readers (csvrows,
jsonlrows), as are lines without a row, and a gzip stream's inflated size (files.py).

A job spec's `definitions` file (JSONL define lines) is read before the operations file, as
one job: OperationsFile is where every command reads a job, one file or two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
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
from scf_batch.models import FieldDefinition, FieldOrder, Operation, Problem, RowError
from scf_batch.options import ENCODINGS

Item = Operation | RowError | FieldDefinition | FieldOrder


def read_items(
    path: Path, *, encoding: str = "utf-8", role_name: Callable[[str], str] = str
) -> Generator[Item, None, None]:
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
    return _checked(str(path), _rows(path, kind, encoding), ConflictTracker(role_name))


@dataclass(frozen=True, slots=True)
class OperationsFile:
    """A job's rows: its operations file and, when its spec names one, the definitions file
    read before it, as one job (one fingerprint, rows numbered on across both, one conflict
    check); streamed once per call of `items`.

    Each file holds its own kind of line: the definitions file `define` lines (field
    definitions and orders), the operations file association rows. A line of the other kind is
    a row error naming the file it belongs in. The definitions file is JSON Lines, so UTF-8
    whatever `encoding` (which a spreadsheet's operations file may need) says.
    """

    path: Path
    encoding: str = "utf-8"
    definitions: Path | None = None

    @property
    def where(self) -> str:
        """How problems of association rows name their file."""
        return str(self.path)

    @property
    def defines_where(self) -> str:
        """How problems of field definitions and orders name their file."""
        return str(self.definitions if self.definitions is not None else self.path)

    @property
    def shown(self) -> str:
        """The job's files as a summary names them: `defs.jsonl + ops.csv`, or the one file."""
        if self.definitions is None:
            return self.where
        return f"{self.definitions} + {self.path}"

    @property
    def files(self) -> tuple[Path, ...]:
        """The job's files, in the order they are read."""
        return (self.path,) if self.definitions is None else (self.definitions, self.path)

    def fingerprint(self) -> str:
        """The job's identity: sha256 of the operations file's bytes as stored
        (files.fingerprint); with a definitions file, sha256 of both files' fingerprints, so a
        change to either is a changed job."""
        found = fingerprint(self.path)
        if self.definitions is None:
            return found
        both = f"definitions {fingerprint(self.definitions)}\noperations {found}\n"
        return hashlib.sha256(both.encode("ascii")).hexdigest()

    def items(self, *, role_name: Callable[[str], str] = str) -> Iterator[Item]:
        """Every row in input order (`read_items`; the definitions file's rows first), a file
        opened when its first row is asked for, so a reader's errors reach whoever iterates
        (the preparation pass reports them). `role_name` shows a role in a conflict's message
        (by the org's name for it)."""
        if self.definitions is None:
            yield from read_items(self.path, encoding=self.encoding, role_name=role_name)
            return
        defines = _kept(self.definitions, self.path, _defines_only)
        tracker = ConflictTracker(role_name)
        last_row = 0
        for item in _checked(self.defines_where, defines, tracker):
            last_row = item.row
            yield item
        rows = _kept(self.path, self.definitions, _rows_only, encoding=self.encoding)
        for item in _checked(self.where, rows, tracker, first_row=last_row):
            yield item


def _kept(
    path: Path,
    other: Path,
    belongs: Callable[[Item, Path, Path], Item],
    *,
    encoding: str = "utf-8",
) -> Iterator[Item]:
    """The rows of one of a job's two files, each line of the other file's kind refused."""
    kind = _readable_kind(path, encoding)
    return (belongs(item, path, other) for item in _rows(path, kind, encoding))


def _defines_only(item: Item, path: Path, operations: Path) -> Item:
    if not isinstance(item, Operation):
        return item
    found = "an association row in the definitions file"
    expected = f"define lines only (field definitions and orders); put the row in {operations}"
    problem = Problem(str(path), item.line, "define", found, expected)
    return RowError(item.row, item.line, (problem,), item.key)


def _rows_only(item: Item, path: Path, definitions: Path) -> Item:
    if not isinstance(item, FieldDefinition | FieldOrder):
        return item
    found = "a define line in the operations file"
    expected = f"association rows only (the spec names {definitions} for define lines): move it"
    problem = Problem(str(path), item.line, "define", found, expected)
    return RowError(item.row, item.line, (problem,), item.key)


def check_operations(
    path: Path,
    *,
    encoding: str = "utf-8",
    allow_empty: bool = False,
    definitions: Path | None = None,
) -> OperationsFile:
    """Refuse, before anything is sent, a job whose files cannot be read or hold no row; the
    job to stream, once checked (the check runs once: the passes over the files do not repeat
    it).

    Reads up to the first row of each file only (JobFileError/JobHeaderError as
    read_operations raises them); a job without a row raises JobFileError unless
    `allow_empty`: an empty export is more often a broken upstream job than an empty job.
    """
    empty = _first_row_missing(path, encoding)
    if definitions is not None:
        empty = _first_row_missing(definitions, "utf-8") and empty
    if empty and not allow_empty:
        where = path if definitions is None else f"{definitions} and {path}"
        raise JobFileError(
            f"{where}: no rows (an empty file, or a header only); expected at least one row. "
            "If an empty job is fine, give --allow-empty (allow_empty = true in a job spec)"
        )
    return OperationsFile(path, encoding, definitions)


def _first_row_missing(path: Path, encoding: str) -> bool:
    rows = read_items(path, encoding=encoding)
    try:
        return next(rows, None) is None
    finally:
        rows.close()  # the file is closed now, not when the generator is collected


def read_operations(path: Path, *, encoding: str = "utf-8") -> Iterator[Operation | RowError]:
    """`read_items` without the field definitions and orders: the association rows and the row
    errors."""
    items = read_items(path, encoding=encoding)
    return (item for item in items if isinstance(item, Operation | RowError))


def _checked(
    where: str, rows: Iterator[Item], tracker: ConflictTracker, *, first_row: int = 0
) -> Generator[Item, None, None]:
    """The rows numbered on from `first_row` (the rows of a job's file read before), each
    operation that contradicts an earlier one of the job a RowError."""
    for read in rows:
        item = replace(read, row=read.row + first_row) if first_row else read
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
