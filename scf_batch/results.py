"""The single writer of results.jsonl and summary.json, and the tally they are built from."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scf_batch.models import RowResult, Status

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"


def result_to_dict(result: RowResult) -> dict[str, Any]:
    """The JSON object of one result line, in the contract's field order."""
    error: dict[str, Any] | None = None
    if result.error is not None or result.field_errors:
        error = {"message": result.error, "field_errors": dict(result.field_errors)}
    return {
        "row": result.row,
        "line": result.line,
        "key": result.key,
        "action": result.action,
        "scf_id": result.scf_id,
        "object_type": result.object_type,
        "target": result.target,
        "status": result.status.value,
        "outcome": result.outcome.value,
        "http_status": result.http_status,
        "attempts": result.attempts,
        "error": error,
        "duration_ms": result.duration_ms,
        "finished_at": result.finished_at,
    }


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
        self._file: IO[bytes] = path.open("ab")
        self._sync_interval_s = sync_interval_s
        self._last_sync = 0.0
        self.bytes_written = self._file.tell()

    def write(self, result: RowResult, *, now: float) -> None:
        line = json.dumps(result_to_dict(result), ensure_ascii=False, separators=(",", ":"))
        data = (line + "\n").encode()
        self._file.write(data)
        self._file.flush()
        self.bytes_written += len(data)
        if now - self._last_sync >= self._sync_interval_s:
            self.sync(now=now)

    def sync(self, *, now: float) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync = now

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def write_json_atomically(path: Path, document: object) -> None:
    """Replace `path` with `document` so a reader sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
