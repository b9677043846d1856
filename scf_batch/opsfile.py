"""The operations file -> stream of Operation | RowError, in input order, memory flat as it grows.

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
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from scf_batch.conflicts import ConflictTracker
from scf_batch.csvrows import csv_header, csv_items
from scf_batch.definitions import FieldDefinition
from scf_batch.errors import JobFileError
from scf_batch.jsonlrows import jsonl_items
from scf_batch.models import Operation, RowError
from scf_batch.rowrules import conflict_error

T = TypeVar("T")
Item = Operation | RowError | FieldDefinition
SUFFIXES = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
}
UNREADABLE = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def file_format(path: Path) -> str:
    """`csv` or `jsonl` from the file's suffix; JobFileError for anything else."""
    name = path.name.lower()
    for suffix, kind in SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise JobFileError(f"{path}: unknown kind of operations file; expected " + ", ".join(SUFFIXES))


def read_items(path: Path) -> Iterator[Item]:
    """Stream the operations file: one Operation, FieldDefinition (JSONL `define` lines) or
    RowError per data row, in input order.

    Missing files, unknown suffixes and unusable CSV headers raise JobFileError at once; a file
    that turns out unreadable half-way (corrupt gzip) raises it while iterating. A valid row
    that contradicts an earlier one (conflicts.py) becomes a RowError.
    """
    kind = _readable_kind(path)
    return _checked(str(path), _rows(path, kind))


def read_operations(path: Path) -> Iterator[Operation | RowError]:
    """`read_items` without the field definitions: the association rows and the row errors."""
    return (item for item in read_items(path) if not isinstance(item, FieldDefinition))


def _checked(where: str, rows: Iterator[Item]) -> Iterator[Item]:
    tracker = ConflictTracker()
    for item in rows:
        if isinstance(item, Operation):
            clash = tracker.see(item)
            yield item if clash is None else conflict_error(where, item, clash)
        else:
            yield item


def _readable_kind(path: Path) -> str:
    """The file's format, once its first bytes (a CSV: its header) are known to be usable."""
    kind = file_format(path)
    if kind == "csv":
        with _text(_open_binary(path)) as stream:
            _guard(path, lambda: csv_header(str(path), csv.reader(stream)))
    else:
        with _open_binary(path) as raw:
            _guard(path, lambda: raw.read(1))
    return kind


def _rows(path: Path, kind: str) -> Iterator[Item]:
    with _open_binary(path) as raw:
        try:
            if kind == "csv":
                with _text(raw) as stream:
                    yield from csv_items(str(path), stream)
            else:
                yield from jsonl_items(str(path), raw)
        except UNREADABLE as exc:
            raise JobFileError(f"{path}: cannot read: {exc}") from exc


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
    """Run a read; what makes the file unreadable becomes a JobFileError naming it."""
    try:
        return read()
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc
