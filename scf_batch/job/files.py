"""Opening a job's files: the operations file's format from its suffix, its bytes (a .gz
inflated, up to MAX_INFLATED_BYTES), its decoded text, its fingerprint; only regular files.

A gzip stream may inflate to MAX_INFLATED_BYTES at most. An absolute cap, not a ratio: real
exports of repeated ids compress hundreds of times, so a ratio would refuse good files, while no
real job comes near the cap (a row is ~100-300 bytes and an org holds thousands of field
associations, not millions); it holds each pass over a hostile 10 MB "zip bomb" to seconds. A
larger job can still be given uncompressed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from scf_batch.errors import JobFileError

T = TypeVar("T")
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
    kind = suffix_format(path)
    if kind is None:
        expected = ", ".join(SUFFIXES)
        raise JobFileError(f"{path}: unknown kind of operations file; expected {expected}")
    return kind


def suffix_format(path: Path) -> str | None:
    """`csv` or `jsonl` from the file's suffix; None for any other suffix."""
    name = path.name.lower()
    return next((kind for suffix, kind in SUFFIXES.items() if name.endswith(suffix)), None)


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


def guard(path: Path, read: Callable[[], T]) -> T:
    """Run a read; what makes the file unreadable becomes a JobFileError naming it."""
    try:
        return read()
    except UNREADABLE as exc:
        raise JobFileError(f"{path}: cannot read: {exc}") from exc
