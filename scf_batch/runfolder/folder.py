"""The run folder: its passes and their history, and how a rerun picks a pass up.

`results.jsonl` is the source of truth: a row with a complete line there is done and is never
sent again. `checkpoint.json` (replaced atomically) pins the pass number, the input's
fingerprint and the settings, so that a rerun on a changed file is refused. A torn last line,
left by `kill -9` or a power cut in the middle of a write, is cut off on resume; that row runs
again, its outcome confirmed by reading state. A damaged line anywhere else is refused.

A finished pass moves to `history/pass-N/` when the next one starts; `--restart` moves an
unfinished one there too. Files are created owner-only and never through a symbolic link.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.runfolder.durable import sync_folder, write_json_atomically
from scf_batch.runfolder.records import Checkpoint
from scf_batch.runfolder.results import (
    RESULTS_FILE,
    SUMMARY_FILE,
    Tally,
    complete_lines,
)

CHECKPOINT_FILE = "checkpoint.json"
SNAPSHOT_FILE = "snapshot.json"
HISTORY_DIR = "history"
# Bounds on what the run folder's own JSON files may hold (they may be damaged or planted).
MAX_CHECKPOINT_BYTES = 1 << 20
MAX_SNAPSHOT_BYTES = 1 << 30
PASS_FILES = (RESULTS_FILE, CHECKPOINT_FILE, SUMMARY_FILE, SNAPSHOT_FILE)


class DoneRows:
    """The 1-based numbers of the rows done: a set, sized by the job."""

    def __init__(self) -> None:
        self._rows: set[int] = set()

    @property
    def count(self) -> int:
        return len(self._rows)

    def add(self, row: int) -> bool:
        """Mark `row` done; False if it already was."""
        if row in self._rows:
            return False
        self._rows.add(row)
        return True

    def __contains__(self, row: object) -> bool:
        return row in self._rows


@dataclass
class Resume:
    """What earlier runs of this pass left: the rows done and their tally."""

    done: DoneRows = field(default_factory=DoneRows)
    tally: Tally = field(default_factory=Tally)
    truncated_bytes: int = 0


RESTART_WHY = "--restart"  # PassStart.why of a pass that --restart began before its last finished
# PassStart.why of a new pass whose first run ended before its first checkpoint
NEXT_WHY = "a new pass; the one before it is kept under history/"


@dataclass(frozen=True, slots=True)
class PassStart:
    """Which pass a run works on: a new one, or the unfinished one it continues."""

    number: int
    started_at: str
    continuing: bool
    archived: Path | None = None  # where the pass before it went, when one was moved
    rows_total: int = 0  # of the pass being continued, as its first run counted them
    why: str = "the first pass"


def begin_pass(
    folder: Path, *, fingerprint: str, operations: Path | str, restart: bool, now: str
) -> PassStart:
    """Continue the unfinished pass, or start the next one (after a finished pass, or --restart).

    Refused (UsageError): a changed input for an unfinished pass, and results without a
    checkpoint (nothing would say which input they belong to).
    """
    checkpoint = read_checkpoint(folder)
    if checkpoint is None:
        if _has_results(folder) and not restart:
            raise UsageError(
                f"{folder / RESULTS_FILE}: results without {CHECKPOINT_FILE}, so nothing says "
                "which input they belong to; rerun with --restart to start over (they are kept "
                f"under {HISTORY_DIR}/)"
            )
        # a run that ended before its first checkpoint may have archived the pass before it
        number = _last_archived(folder) + 1
        archived = archive_pass(folder, number - 1) if restart and _has_results(folder) else None
        why = "the first pass" if number == 1 else RESTART_WHY if restart else NEXT_WHY
        return PassStart(number, now, continuing=False, archived=archived, why=why)
    number = checkpoint.pass_number
    if checkpoint.complete or restart:
        why = RESTART_WHY if restart and not checkpoint.complete else "the last pass had finished"
        archived = archive_pass(folder, number)
        return PassStart(number + 1, now, continuing=False, archived=archived, why=why)
    previous = checkpoint.fingerprint
    if previous != fingerprint:
        raise UsageError(
            f"{operations}: changed since the pass in {folder} started "
            f"(fingerprint {previous[:12]}…, now {fingerprint[:12]}…); "
            "rerun with --restart to start over, or restore the original file"
        )
    return PassStart(
        number,
        checkpoint.started_at,
        continuing=True,
        rows_total=checkpoint.rows_total,
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


def prune_history(folder: Path, *, keep: int) -> list[Path]:
    """Remove the oldest passes of history/ beyond the newest `keep`; the folders removed."""
    kept = sorted(_history(folder), key=_pass_order)
    removed = kept[: max(len(kept) - keep, 0)]
    for path in removed:
        shutil.rmtree(path)
    if removed:
        sync_folder(folder / HISTORY_DIR)
    return removed


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
    """Read results.jsonl once (results.py's reader and its policy), cut a torn tail, and
    collect the rows it holds and their tally."""
    resume = Resume()
    if not path.exists():
        return resume
    good_end = 0
    with path.open("rb") as handle:
        for read in complete_lines(path, handle, rows_total=rows_total):
            good_end += len(read.raw)
            resume.done.add(read.result.row)
            resume.tally.count(read.result)
    size = path.stat().st_size
    if good_end < size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
        resume.truncated_bytes = size - good_end
    return resume


def resume_pass(folder: Path, *, rows_total: int) -> Resume:
    """What earlier runs of the folder's current pass left (scan_results of its results)."""
    return scan_results(folder / RESULTS_FILE, rows_total=rows_total)


def read_checkpoint(folder: Path) -> Checkpoint | None:
    """The checkpoint, checked for the shape this version writes; None when there is none."""
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(MAX_CHECKPOINT_BYTES + 1))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: unreadable checkpoint ({exc}); rerun with --restart") from exc
    try:
        return Checkpoint.from_json(document)
    except ValueError as problem:
        raise UsageError(
            f"{path}: found {problem}; expected a checkpoint written by this version of "
            "scf-batch. Rerun with --restart to start the pass over (the results are kept)"
        ) from None


def write_checkpoint(folder: Path, checkpoint: Checkpoint) -> None:
    write_json_atomically(folder / CHECKPOINT_FILE, checkpoint.to_json())


def reopen_checkpoint(folder: Path, checkpoint: Checkpoint) -> None:
    """Mark the pass unfinished (for --retry-failed)."""
    write_checkpoint(folder, replace(checkpoint, complete=False))


def write_snapshot(folder: Path, document: dict[str, Any]) -> None:
    write_json_atomically(folder / SNAPSHOT_FILE, document)


def read_snapshot_document(folder: Path) -> dict[str, Any] | None:
    """The pass's snapshot.json, or None when it is missing or unreadable (then not used)."""
    path = folder / SNAPSHOT_FILE
    try:
        with path.open("rb") as handle:
            document = json.loads(handle.read(MAX_SNAPSHOT_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
