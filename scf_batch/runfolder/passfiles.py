"""A finished (or current) pass of a run folder, read back: which pass, its input, its results.

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
from scf_batch.job.files import fingerprint
from scf_batch.options import ENCODINGS
from scf_batch.runfolder.folder import (
    CHECKPOINT_FILE,
    MAX_RESULT_LINE_BYTES,
    MAX_ROWS,
    bounded_lines,
    passes,
)
from scf_batch.runfolder.results import RESULTS_FILE


@dataclass(frozen=True, slots=True)
class PassFiles:
    """One pass's folder (the run folder itself for the current pass) and its checkpoint."""

    folder: Path
    number: int
    checkpoint: dict[str, Any]

    @property
    def results(self) -> Path:
        return self.folder / RESULTS_FILE

    @property
    def complete(self) -> bool:
        return self.checkpoint.get("complete") is True


def find_pass(run: Path, number: int | None = None) -> PassFiles:
    """Pass `number` of the run folder, or its latest one (the current pass when there is one)."""
    found = [_pass_files(folder) for folder in passes(run)]
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


def _pass_files(folder: Path) -> PassFiles:
    path = folder / CHECKPOINT_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        document = {}
    if not isinstance(document, dict):
        document = {}
    number = document.get("pass")
    if not isinstance(number, int):
        digits = folder.name.removeprefix("pass-").partition(".")[0]
        number = int(digits) if digits.isdigit() else 0
    return PassFiles(folder, number, document)


def input_file(files: PassFiles, given: Path | None = None) -> Path:
    """The pass's operations file (`given` overrides the recorded path), checked unchanged."""
    source = files.checkpoint.get("input")
    recorded = source.get("path") if isinstance(source, dict) else None
    wanted = source.get("fingerprint") if isinstance(source, dict) else None
    path = given if given is not None else Path(recorded) if isinstance(recorded, str) else None
    if path is None or not path.exists():
        raise UsageError(
            f"{files.folder / CHECKPOINT_FILE}: found the operations file {recorded!r} "
            "missing; expected it where the run read it, or give it with --input FILE"
        )
    if isinstance(wanted, str) and fingerprint(path) != wanted:
        raise UsageError(
            f"{path}: changed since pass {files.number} read it (fingerprint "
            f"{wanted[:12]}…); expected the file the pass ran. Restore it, or give the "
            "original with --input FILE"
        )
    return path


def input_encoding(files: PassFiles) -> str:
    """The encoding the pass read its operations file with (utf-8 unless it said otherwise)."""
    settings = files.checkpoint.get("settings")
    encoding = settings.get("encoding") if isinstance(settings, dict) else None
    return encoding if isinstance(encoding, str) and encoding in ENCODINGS else "utf-8"


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete line of results.jsonl; a damaged one is refused with its line number."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(bounded_lines(handle), 1):
            if not raw.endswith(b"\n") and len(raw) <= MAX_RESULT_LINE_BYTES:
                return  # a torn last line: the run writing it had not finished it
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                record = None
            row = record.get("row") if isinstance(record, dict) else None
            if not isinstance(row, int) or isinstance(row, bool) or not 1 <= row <= MAX_ROWS:
                raise UsageError(
                    f"{path}:{number}: found a damaged line; expected one JSON result per line"
                )
            yield record
