"""The single writer of results.jsonl, the tally of results, and atomic JSON files.

Files are created owner-only (0600) and never opened through a symbolic link, so a link
planted in the run folder cannot make a run overwrite a file elsewhere.
"""

from __future__ import annotations

import errno
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scf_batch.models import RowResult, Status

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
# One encoder for every result line (json.dumps with options builds a new one per call).
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def result_to_dict(result: RowResult) -> dict[str, Any]:
    """The JSON object of one result line, in the contract's field order."""
    error: dict[str, Any] | None = None
    if result.error is not None or result.field_errors:
        error = {"message": result.error, "field_errors": dict(result.field_errors)}
    note = {"note": result.note} if result.note is not None else {}
    return {
        "row": result.row,
        "line": result.line,
        "key": result.key,
        "action": result.action,
        "scf_id": result.scf_id,
        "scf_name": result.scf_name,
        "object_type": result.object_type,
        "target": result.target,
        "target_name": result.target_name,
        "org": result.org,
        "status": result.status.value,
        "outcome": result.outcome.value,
        "http_status": result.http_status,
        "requests": result.requests,
        "retries": result.retries,
        "error": error,
        "duration_ms": result.duration_ms,
        "finished_at": result.finished_at,
        **note,
    }


def open_private(path: Path, flags: int) -> IO[bytes]:
    """Open `path` in binary mode, created 0600, refusing a symbolic link in its place."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(
                exc.errno, "is a symbolic link; refusing to follow it", str(path)
            ) from exc
        raise
    mode = "r+b" if flags & os.O_RDWR else "ab" if flags & os.O_APPEND else "wb"
    return os.fdopen(fd, mode)


@dataclass
class Tally:
    """Counts of finished rows by status and by (status, outcome)."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, outcome: str) -> None:
        self.by_status[status] += 1
        self.by_outcome[f"{status}/{outcome}"] += 1

    @property
    def done(self) -> int:
        return sum(self.by_status.values())

    @property
    def failed(self) -> int:
        return self.by_status[Status.FAILED.value]

    @property
    def not_ok(self) -> int:
        return self.done - self.by_status[Status.OK.value]


class ResultsWriter:
    """Appends result lines; each line is flushed to the OS at once (survives kill -9) and
    fsync'd at most every `sync_interval_s` and on close (survives a power cut up to then)."""

    def __init__(self, path: Path, *, sync_interval_s: float = 1.0) -> None:
        self._path = path
        self._file = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._sync_interval_s = sync_interval_s
        self._last_sync = 0.0

    def write(self, result: RowResult, *, now: float) -> None:
        line = _LINE_ENCODER.encode(result_to_dict(result))
        data = (line + "\n").encode()
        with naming(self._path):
            self._file.write(data)
            self._file.flush()
        if now - self._last_sync >= self._sync_interval_s:
            self.sync(now=now)

    def sync(self, *, now: float) -> None:
        with naming(self._path):
            self._file.flush()
            os.fsync(self._file.fileno())
        self._last_sync = now

    def close(self) -> None:
        if not self._file.closed:
            with naming(self._path):
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError raised on an open file (a full disk at write or fsync) names the file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def write_json_atomically(path: Path, document: object) -> None:
    """Replace `path` with `document` so a reader sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a crash, or a planted link: never written through
    with open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as handle, naming(tmp):
        text = io.TextIOWrapper(handle, encoding="utf-8")
        json.dump(document, text, indent=2)  # streamed: a large snapshot is never one string
        text.write("\n")
        text.flush()
        text.detach()
        handle.flush()
        os.fsync(handle.fileno())
    replace_durably(tmp, path)


def replace_durably(tmp: Path, path: Path) -> None:
    """Rename a written and fsync'd `tmp` over `path`, and make the rename itself durable."""
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
