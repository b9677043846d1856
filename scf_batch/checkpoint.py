"""Crash-safe record of what a run has done, and how a rerun picks it up.

`results.jsonl` is the source of truth: a row with a complete line there is done and is never
sent again. `checkpoint.json` (replaced atomically) pins the input's fingerprint and the
settings so that a rerun on a changed file is refused. A torn last line, left by `kill -9` or a
power cut in the middle of a write, is cut off on resume; that row simply runs again, with its
outcome confirmed by reading state.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scf_batch.errors import LockHeldError, UsageError
from scf_batch.results import RESULTS_FILE, SUMMARY_FILE, Tally, write_json_atomically

CHECKPOINT_FILE = "checkpoint.json"
LOCK_FILE = ".lock"
CHECKPOINT_VERSION = 1


class DoneRows:
    """A growable bitmap of 1-based row numbers: 1M rows cost 125 kB."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self.count = 0

    def add(self, row: int) -> bool:
        """Mark `row` done; False if it already was."""
        index, bit = divmod(row, 8)
        if index >= len(self._bits):
            self._bits.extend(bytes(index - len(self._bits) + 1024))
        if self._bits[index] & (1 << bit):
            return False
        self._bits[index] |= 1 << bit
        self.count += 1
        return True

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int):
            return False
        index, bit = divmod(row, 8)
        return index < len(self._bits) and bool(self._bits[index] & (1 << bit))


@dataclass
class Resume:
    """What an earlier run of this folder left: the rows done and their tally."""

    done: DoneRows = field(default_factory=DoneRows)
    tally: Tally = field(default_factory=Tally)
    truncated_bytes: int = 0
    duplicate_rows: int = 0
    resumed: bool = False


class RunLock:
    """An exclusive, non-blocking lock on the run folder, released when the process dies."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = self._path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LockHeldError(f"{self._path.parent}: another run holds {self._path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def scan_results(path: Path) -> Resume:
    """Read results.jsonl once, cut a torn tail, and collect the rows it holds."""
    resume = Resume(resumed=path.exists())
    if not path.exists():
        return resume
    good_end = 0
    with path.open("rb") as handle:
        for raw in handle:
            record = _parse_line(raw)
            if record is None:
                break
            good_end += len(raw)
            row, status, outcome = record
            if resume.done.add(row):
                resume.tally.add(status, outcome)
            else:
                resume.duplicate_rows += 1
    size = path.stat().st_size
    if good_end < size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
        resume.truncated_bytes = size - good_end
    return resume


def _parse_line(raw: bytes) -> tuple[int, str, str] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        record = json.loads(raw)
        row, status, outcome = record["row"], record["status"], record["outcome"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(row, int) or not isinstance(status, str) or not isinstance(outcome, str):
        return None
    return row, status, outcome


def read_checkpoint(folder: Path) -> dict[str, Any] | None:
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable checkpoint ({exc}); rerun with --restart") from exc
    if not isinstance(document, dict):
        raise UsageError(f"{path}: unreadable checkpoint; rerun with --restart")
    return document


def check_same_input(folder: Path, fingerprint: str, operations: Path) -> None:
    """Refuse to resume a run folder that was started on other input."""
    document = read_checkpoint(folder)
    if document is None:
        return
    previous = document.get("input", {}).get("fingerprint")
    if previous != fingerprint:
        raise UsageError(
            f"{operations}: changed since the run in {folder} started "
            f"(fingerprint {str(previous)[:12]}…, now {fingerprint[:12]}…); "
            "rerun with --restart to start over, or restore the original file"
        )


def discard_previous(folder: Path, *, now: datetime) -> Path | None:
    """--restart: move an earlier run's files into `previous/<time>/` (never delete results)."""
    names = [n for n in (RESULTS_FILE, CHECKPOINT_FILE, SUMMARY_FILE) if (folder / n).exists()]
    if not names:
        return None
    archive = folder / "previous" / now.strftime("%Y%m%dT%H%M%S.%fZ")
    archive.mkdir(parents=True)
    for name in names:
        shutil.move(folder / name, archive / name)
    return archive


def write_checkpoint(folder: Path, document: dict[str, Any]) -> None:
    write_json_atomically(folder / CHECKPOINT_FILE, document)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
