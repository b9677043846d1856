"""The run folder: its lock, its passes and their history, and how a rerun picks a pass up.

`results.jsonl` is the source of truth: a row with a complete line there is done and is never
sent again. `checkpoint.json` (replaced atomically) pins the pass number, the input's
fingerprint and the settings, so that a rerun on a changed file is refused. A torn last line,
left by `kill -9` or a power cut in the middle of a write, is cut off on resume; that row runs
again, its outcome confirmed by reading state. A damaged line anywhere else is refused.

A finished pass moves to `history/pass-N/` when the next one starts; `--restart` moves an
unfinished one there too. Files are created owner-only and never through a symbolic link.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scf_batch.errors import LockHeldError, UsageError
from scf_batch.models import RowResult, Status
from scf_batch.runfolder.results import (
    RESULTS_FILE,
    SUMMARY_FILE,
    ResultsWriter,
    Tally,
    open_private,
    write_json_atomically,
)

CHECKPOINT_FILE = "checkpoint.json"
SNAPSHOT_FILE = "snapshot.json"
LOCK_FILE = ".lock"
HISTORY_DIR = "history"
CHECKPOINT_VERSION = 2
# Bounds on what the run folder's own files may hold (they may be damaged or planted): a job of
# more rows than this is not an org's configuration, and the done-rows bitmap stays ≤ 12.5 MB.
MAX_ROWS = 100_000_000
MAX_RESULT_LINE_BYTES = 1 << 20
MAX_CHECKPOINT_BYTES = 1 << 20
PASS_FILES = (RESULTS_FILE, CHECKPOINT_FILE, SUMMARY_FILE, SNAPSHOT_FILE)


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
        return 0 <= index < len(self._bits) and bool(self._bits[index] & (1 << bit))


@dataclass
class Resume:
    """What earlier runs of this pass left: the rows done and their tally."""

    done: DoneRows = field(default_factory=DoneRows)
    tally: Tally = field(default_factory=Tally)
    truncated_bytes: int = 0


RESTART_WHY = "--restart"  # PassStart.why of a pass that --restart began before its last finished


@dataclass(frozen=True, slots=True)
class PassStart:
    """Which pass a run works on: a new one, or the unfinished one it continues."""

    number: int
    started_at: str
    continuing: bool
    archived: Path | None = None  # where the pass before it went, when one was moved
    rows_total: int = 0  # of the pass being continued, as its first run counted them
    why: str = "the first pass"


class RunLock:
    """An exclusive, non-blocking lock on the run folder, released when the process dies."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / LOCK_FILE
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        handle = open_private(self._path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LockHeldError(f"{self._path.parent}: another run holds {self._path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def begin_pass(
    folder: Path, *, fingerprint: str, operations: Path, restart: bool, now: str
) -> PassStart:
    """Continue the unfinished pass, or start the next one (after a finished pass, or --restart).

    Refused (UsageError): a changed input for an unfinished pass, and results without a
    checkpoint (nothing would say which input they belong to).
    """
    document = read_checkpoint(folder)
    if document is None:
        if _has_results(folder) and not restart:
            raise UsageError(
                f"{folder / RESULTS_FILE}: results without {CHECKPOINT_FILE}, so nothing says "
                "which input they belong to; rerun with --restart to start over (they are kept "
                f"under {HISTORY_DIR}/)"
            )
        # a run that ended before its first checkpoint may have archived the pass before it
        number = _last_archived(folder) + 1
        archived = archive_pass(folder, number - 1) if restart and _has_results(folder) else None
        return PassStart(number, now, continuing=False, archived=archived)
    number = document["pass"]
    if document["complete"] or restart:
        why = RESTART_WHY if restart and not document["complete"] else "the last pass had finished"
        archived = archive_pass(folder, number)
        return PassStart(number + 1, now, continuing=False, archived=archived, why=why)
    previous = document["input"]["fingerprint"]
    if previous != fingerprint:
        raise UsageError(
            f"{operations}: changed since the pass in {folder} started "
            f"(fingerprint {previous[:12]}…, now {fingerprint[:12]}…); "
            "rerun with --restart to start over, or restore the original file"
        )
    return PassStart(
        number,
        document["started_at"],
        continuing=True,
        rows_total=document["rows_total"],
        why="continuing it",
    )


def _has_results(folder: Path) -> bool:
    path = folder / RESULTS_FILE
    return path.exists() and path.stat().st_size > 0


def archive_pass(folder: Path, number: int) -> Path | None:
    """Move a pass's files to `history/pass-N/` (never delete results); None when there are none."""
    names = [name for name in PASS_FILES if (folder / name).exists()]
    if not names:
        return None
    archive = folder / HISTORY_DIR / f"pass-{number}"
    suffix = 1
    while archive.exists():  # a pass archived before (e.g. by a crash mid-move): keep both
        suffix += 1
        archive = folder / HISTORY_DIR / f"pass-{number}.{suffix}"
    archive.mkdir(parents=True, mode=0o700)
    for name in names:
        shutil.move(folder / name, archive / name)
    return archive


def _last_archived(folder: Path) -> int:
    """The highest pass number kept in history/ (0 when there is none)."""
    return max((_pass_order(path)[0] for path in _history(folder)), default=0)


def _history(folder: Path) -> list[Path]:
    history = folder / HISTORY_DIR
    if not history.is_dir():
        return []
    return [p for p in history.iterdir() if p.is_dir() and p.name.startswith("pass-")]


def passes(folder: Path) -> Iterator[Path]:
    """The folders of every pass kept: the history's in order, then the current one."""
    yield from sorted(_history(folder), key=_pass_order)
    if (folder / CHECKPOINT_FILE).exists():
        yield folder


def _pass_order(path: Path) -> tuple[int, int]:
    number, _, again = path.name.removeprefix("pass-").partition(".")
    return (int(number) if number.isdigit() else 0, int(again) if again.isdigit() else 0)


def scan_results(path: Path, *, rows_total: int) -> Resume:
    """Read results.jsonl once, cut a torn tail, and collect the rows it holds.

    Only a last line without its newline is a torn write; any other line that is not a result
    of a row from 1 to `rows_total` is damage, refused with the line's number.
    """
    resume = Resume()
    if not path.exists():
        return resume
    good_end = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(bounded_lines(handle), 1):
            if not raw.endswith(b"\n") and len(raw) <= MAX_RESULT_LINE_BYTES:
                break  # the torn last line
            record = _parse_line(raw)
            if record is None or not 1 <= record[0] <= rows_total:
                raise UsageError(
                    f"{path}:{number}: found a damaged line (not a result of a row 1 to "
                    f"{rows_total}); expected one JSON result per line. Restore the file, "
                    "or rerun with --restart to start the pass over"
                )
            good_end += len(raw)
            row, status, outcome = record
            if resume.done.add(row):
                resume.tally.add(status, outcome)
    size = path.stat().st_size
    if good_end < size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
        resume.truncated_bytes = size - good_end
    return resume


def bounded_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, each read up to the cap (a longer one comes back cut, as damage)."""
    while raw := handle.readline(MAX_RESULT_LINE_BYTES + 1):
        yield raw


def _parse_line(raw: bytes) -> tuple[int, str, str] | None:
    try:
        record = json.loads(raw)
        row, status, outcome = record["row"], record["status"], record["outcome"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if isinstance(row, bool) or not isinstance(row, int):
        return None
    if not isinstance(status, str) or not isinstance(outcome, str):
        return None
    return row, status, outcome


def read_checkpoint(folder: Path) -> dict[str, Any] | None:
    """The checkpoint, checked for the shape this version writes; None when there is none."""
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(MAX_CHECKPOINT_BYTES + 1))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: unreadable checkpoint ({exc}); rerun with --restart") from exc
    problem = _checkpoint_problem(document)
    if problem is not None:
        raise UsageError(
            f"{path}: found {problem}; expected a checkpoint written by this version of "
            "scf-batch. Rerun with --restart to start the pass over (the results are kept)"
        )
    result: dict[str, Any] = document
    return result


def _checkpoint_problem(document: object) -> str | None:
    """What is wrong with a checkpoint's shape, or None."""
    if not isinstance(document, dict):
        return "no JSON object"
    source = document.get("input")
    checks = (
        (document.get("version") == CHECKPOINT_VERSION, f"version {document.get('version')!r}"),
        (_count(document.get("pass"), low=1), "no pass number"),
        (isinstance(document.get("complete"), bool), "no `complete` flag"),
        (isinstance(source, dict) and isinstance(source.get("fingerprint"), str), "no input"),
        (isinstance(document.get("started_at"), str), "no start time"),
        (_count(document.get("rows_total"), low=0, high=MAX_ROWS), "no row count up to 10^8"),
    )
    return next((problem for fine, problem in checks if not fine), None)


def _count(value: object, *, low: int, high: int | None = None) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return value >= low and (high is None or value <= high)


def write_checkpoint(folder: Path, document: dict[str, Any]) -> None:
    write_json_atomically(folder / CHECKPOINT_FILE, document)


def write_snapshot(folder: Path, document: dict[str, Any]) -> None:
    write_json_atomically(folder / SNAPSHOT_FILE, document)


def read_snapshot_document(folder: Path) -> dict[str, Any] | None:
    """The pass's snapshot.json, or None when it is missing or unreadable (then not used)."""
    path = folder / SNAPSHOT_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


@dataclass
class PassRecord:
    """What the checkpoint says of a pass, besides its progress."""

    job: str
    number: int
    started_at: str
    operations: Path
    fingerprint: str
    settings: dict[str, Any]
    org: dict[str, str] | None
    rows_total: int

    def document(self, *, rows_done: int, complete: bool, now: str) -> dict[str, Any]:
        """checkpoint.json."""
        return {
            "version": CHECKPOINT_VERSION,
            "job": self.job,
            "pass": self.number,
            "started_at": self.started_at,
            "input": {"path": str(self.operations), "fingerprint": self.fingerprint},
            "settings": self.settings,
            "org": self.org,
            "rows_total": self.rows_total,
            "rows_done": rows_done,
            "complete": complete,
            "updated_at": now,
        }


class PassRecorder:
    """The runner's result sink: result lines, a checkpoint every few seconds, and what the
    summary needs (rows per second, the first rows that did not end ok)."""

    def __init__(
        self,
        folder: Path,
        record: PassRecord,
        *,
        rows_done: int,
        utc_now: Callable[[], str],
        checkpoint_interval_s: float = 2.0,
        shown_failures: int = 20,
    ) -> None:
        self.folder = folder
        self.record = record
        self.rows_done = rows_done
        self.rows_by_second: Counter[int] = Counter()
        self.failed: list[RowResult] = []
        self._utc_now = utc_now
        self._interval_s = checkpoint_interval_s
        self._shown_failures = shown_failures
        self._writer = ResultsWriter(folder / RESULTS_FILE)
        self._started: float | None = None
        self._last_checkpoint = -math.inf

    def write(self, result: RowResult, *, now: float) -> None:
        self._writer.write(result, now=now)
        self.rows_done += 1
        if self._started is None:
            self._started = now
        self.rows_by_second[int(now - self._started)] += 1
        if result.status is not Status.OK and len(self.failed) < self._shown_failures:
            self.failed.append(result)
        if now - self._last_checkpoint >= self._interval_s:
            self.checkpoint(complete=False, now=now)

    def checkpoint(self, *, complete: bool, now: float) -> None:
        self._writer.sync(now=now)
        self._last_checkpoint = now
        document = self.record.document(
            rows_done=self.rows_done, complete=complete, now=self._utc_now()
        )
        write_checkpoint(self.folder, document)

    def close(self, *, complete: bool, now: float) -> None:
        self.checkpoint(complete=complete, now=now)
        self._writer.close()
