"""The operations file -> stream of Operation | RowError, in input order, memory flat as it grows.

CSV (with a header) or JSONL, each optionally gzip-compressed; the format comes from the suffix.
A file that cannot be read at all raises JobFileError (a CSV header no row can be read with:
JobHeaderError, listing each column at fault once); everything else is a per-row RowError.
Blank lines (and CSV rows whose cells are all empty) are skipped and not counted as rows.

Bounded whatever the file holds: lines and rows are capped by their readers (csvrows,
jsonlrows), as are lines without a row, and a gzip stream may inflate to MAX_INFLATED_BYTES at
most. An absolute cap, not a ratio: real exports of repeated ids compress hundreds of times, so
a ratio would refuse good files, while no real job comes near the cap (a row is ~100-300 bytes
and an org holds thousands of field associations, not millions); it holds each pass over a
hostile 10 MB "zip bomb" to seconds. A larger job can still be given uncompressed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scf_batch.errors import JobFileError
from scf_batch.job.conflicts import ConflictTracker
from scf_batch.job.csvrows import csv_header, csv_items, csv_reader
from scf_batch.job.definitions import FieldDefinition
from scf_batch.job.jsonlrows import jsonl_items
from scf_batch.job.rowrules import conflict_error
from scf_batch.models import Operation, RowError
from scf_batch.options import ENCODINGS

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
MAX_INFLATED_BYTES = 256 << 20  # what a .gz may inflate to (see above)


def file_format(path: Path) -> str:
    """`csv` or `jsonl` from the file's suffix; JobFileError for anything else."""
    name = path.name.lower()
    for suffix, kind in SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise JobFileError(f"{path}: unknown kind of operations file; expected " + ", ".join(SUFFIXES))


def read_items(path: Path, *, encoding: str = "utf-8") -> Generator[Item, None, None]:
    """Stream the operations file: one Operation, FieldDefinition (JSONL `define` lines) or
    RowError per data row, in input order.

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
    """`read_items` without the field definitions: the association rows and the row errors."""
    items = read_items(path, encoding=encoding)
    return (item for item in items if not isinstance(item, FieldDefinition))


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
            _guard(path, lambda: csv_header(str(path), *csv_reader(str(path), stream)))
    else:
        with open_binary(path) as raw:
            _guard(path, lambda: raw.read(1))
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


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (as stored, compressed or not), read in chunks."""
    digest = hashlib.sha256()
    require_regular(path)
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise JobFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def require_regular(path: Path, what: str = "operations file") -> None:
    """JobFileError unless `path` is a regular file (or a symlink to one), checked before it is
    opened: a FIFO, a device (`/dev/zero`) or a directory would hang or never end a read."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: opening it says so, in the caller's words
    if not stat.S_ISREG(mode):
        raise JobFileError(
            f"{path}: found {_file_kind(mode)}; expected the {what} as a regular file "
            "(or a symlink to one)"
        )


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def open_binary(path: Path) -> io.BufferedReader:
    """The file's bytes; a .gz inflated, up to MAX_INFLATED_BYTES."""
    require_regular(path)
    try:
        if path.name.lower().endswith(".gz"):
            return io.BufferedReader(_Inflated(path, gzip.GzipFile(path, "rb")), 1 << 16)
        return path.open("rb")
    except OSError as exc:
        raise JobFileError(f"{path}: cannot open: {exc.strerror or exc}") from exc


class _Inflated(io.RawIOBase):
    """A gzip stream that raises JobFileError once it has inflated past MAX_INFLATED_BYTES."""

    def __init__(self, path: Path, inner: gzip.GzipFile) -> None:
        super().__init__()
        self.path = path
        self.inner = inner
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.inner.readinto(buffer)
        self.total += count
        if self.total > MAX_INFLATED_BYTES:
            raise JobFileError(
                f"{self.path}: found a gzip stream that inflates past {MAX_INFLATED_BYTES >> 20} "
                "MiB; expected a real operations file (a larger job can be given uncompressed)"
            )
        return count

    def close(self) -> None:
        self.inner.close()
        super().close()


def text_stream(raw: io.BufferedReader, encoding: str) -> io.TextIOWrapper:
    """Decoded lines; undecodable bytes become lone surrogates so the row can report them."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    return io.TextIOWrapper(raw, encoding=codec, errors="surrogateescape", newline="")


def _guard(path: Path, read: Callable[[], T]) -> T:
    """Run a read; what makes the file unreadable becomes a JobFileError naming it."""
    try:
        return read()
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc
