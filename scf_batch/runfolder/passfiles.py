"""A finished (or current) pass of a run folder, read back: which pass, its input, its records.

Read-only: `retry` and `report` use it after the run, and take no lock (a run that holds the
folder only appends whole lines and replaces files atomically; a torn last line is skipped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.job.opsfile import OperationsFile
from scf_batch.options import ENCODINGS
from scf_batch.runfolder import results
from scf_batch.runfolder.durable import write_json_atomically
from scf_batch.runfolder.folder import (
    CHECKPOINT_FILE,
    MAX_SNAPSHOT_BYTES,
    SNAPSHOT_FILE,
    passes,
    read_checkpoint,
)
from scf_batch.runfolder.lock import run_holding
from scf_batch.runfolder.records import MAX_ROWS, Checkpoint, ResultLine, Summary
from scf_batch.runfolder.results import RESULTS_FILE, SUMMARY_FILE

MAX_SUMMARY_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class PassFiles:
    """One pass's folder (the run folder itself for the current pass) and its checkpoint (None
    when it is missing or damaged: a kept pass is still shown from its results)."""

    folder: Path
    number: int
    checkpoint: Checkpoint | None
    current: bool = False  # the run folder's own pass, not one of history/

    @property
    def complete(self) -> bool:
        return self.checkpoint is not None and self.checkpoint.complete

    def results(self) -> Iterator[ResultLine]:
        """The pass's result lines, by the one reader (damage and a repeated row refused)."""
        rows_total = self.checkpoint.rows_total if self.checkpoint is not None else MAX_ROWS
        return results.read_results(self.folder / RESULTS_FILE, rows_total=rows_total)

    def summary(self) -> Summary | None:
        """The pass's summary.json; None when there is none or it is not in the shape written."""
        try:
            with (self.folder / SUMMARY_FILE).open("rb") as handle:
                return Summary.from_json(json.loads(handle.read(MAX_SUMMARY_BYTES + 1)))
        except (OSError, ValueError, RecursionError):
            return None

    def snapshot_document(self) -> dict[str, Any]:
        """The pass's snapshot.json (the org before its first write), as the one JSON object
        it holds; UsageError naming the file when it is missing, unreadable or not a snapshot."""
        path = self.folder / SNAPSHOT_FILE
        try:
            with path.open("rb") as handle:
                document = json.loads(handle.read(MAX_SNAPSHOT_BYTES + 1))
        except FileNotFoundError:
            raise UsageError(
                f"{path}: not found; expected the snapshot pass {self.number} kept of the org "
                "before its first write (a pass that ended before it read the org wrote none)"
            ) from None
        except (OSError, ValueError, RecursionError) as exc:
            raise UsageError(f"{path}: unreadable ({exc}); expected a snapshot") from None
        if not isinstance(document, dict) or not isinstance(document.get("fields"), list):
            raise UsageError(f"{path}: found no list of fields; expected a snapshot")
        return document

    def holder(self) -> int | None:
        """The pid of a run that holds the run folder now (0: unknown pid); None when none."""
        return run_holding(self.folder) if self.current else None


def find_pass(run: Path, number: int | None = None) -> PassFiles:
    """Pass `number` of the run folder, or its latest one (the current pass when there is one)."""
    found = [_pass_files(folder, current=folder == run) for folder in passes(run)]
    if not found:
        raise UsageError(
            f"{run}: found no pass ({CHECKPOINT_FILE} here or under history/); "
            "expected a run folder that `scf-batch run` wrote (see --out)"
        )
    if number is None:
        return found[-1]
    matching = [files for files in found if files.number == number]
    if not matching:
        kept = ", ".join(str(files.number) for files in found)
        raise UsageError(f"--pass {number}: found no such pass in {run}; expected one of {kept}")
    return matching[-1]


def _pass_files(folder: Path, *, current: bool) -> PassFiles:
    try:
        checkpoint = read_checkpoint(folder)
    except UsageError:
        checkpoint = None
    if checkpoint is not None:
        return PassFiles(folder, checkpoint.pass_number, checkpoint, current)
    digits = folder.name.removeprefix("pass-").partition(".")[0]
    return PassFiles(folder, int(digits) if digits.isdigit() else 0, None, current)


def input_file(files: PassFiles, given: Path | None = None) -> Path:
    """The pass's operations file (`given` overrides the recorded path), checked unchanged."""
    return input_job(files, given).path


def input_job(files: PassFiles, given: Path | None = None) -> OperationsFile:
    """The pass's job: its operations file (`given` overrides the recorded path) and the
    definitions file its spec named, with the encoding the pass read them with, checked
    unchanged (one fingerprint over both)."""
    checkpoint = files.checkpoint
    recorded = checkpoint.input_path if checkpoint is not None else None
    path = given if given is not None else Path(recorded) if recorded else None
    if path is None or not path.exists():
        raise UsageError(
            f"{files.folder / CHECKPOINT_FILE}: found the operations file {recorded!r} "
            "missing; expected it where the run read it, or give it with --input FILE"
        )
    definitions = checkpoint.definitions_path if checkpoint is not None else None
    if definitions is not None and not Path(definitions).exists():
        raise UsageError(
            f"{files.folder / CHECKPOINT_FILE}: found the definitions file {definitions!r} "
            "missing; expected it where the run read it (the job spec's definitions)"
        )
    job = OperationsFile(
        path, input_encoding(files), None if definitions is None else Path(definitions)
    )
    wanted = checkpoint.fingerprint if checkpoint is not None else None
    if wanted is not None and job.fingerprint() != wanted:
        raise UsageError(
            f"{job.shown}: changed since pass {files.number} read it (fingerprint "
            f"{wanted[:12]}…); expected the file the pass ran. Restore it, or give the "
            "original with --input FILE"
        )
    return job


def input_encoding(files: PassFiles) -> str:
    """The encoding the pass read its operations file with (utf-8 unless it said otherwise)."""
    encoding = files.checkpoint.encoding if files.checkpoint is not None else None
    return encoding if encoding is not None and encoding in ENCODINGS else "utf-8"


def write_summary(folder: Path, summary: Summary) -> None:
    """summary.json of the pass in `folder`, replaced atomically."""
    write_json_atomically(folder / SUMMARY_FILE, summary.to_json())


def read_summary(folder: Path, *, pass_number: int) -> Summary | None:
    """The summary.json of pass `pass_number` in `folder`, if it is that pass's."""
    summary = PassFiles(folder, pass_number, None).summary()
    return summary if summary is not None and summary.pass_number == pass_number else None
