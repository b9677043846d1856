"""`run --retry-failed`: reopen the last pass so that its failed rows run again, and only they.

The mechanism is the resume's own: a row with a line in results.jsonl is done, a row without
one runs. So reopening takes the failed rows' lines out of results.jsonl and marks the pass
unfinished; the run that follows continues the pass as after a crash, sends nothing for the
rows that kept their line, and appends one new line for each failed row: one line per row.

Crash safety, step by step (each step is atomic: a file replaced by rename, then fsync'd):
1. checkpoint.json says `complete: false`. A crash here leaves every line in place: rerunning
   continues a pass whose rows are all done, runs nothing and marks it complete again.
2. results.jsonl is replaced by a copy without the failed lines (durable.write_atomically).
   Before the rename the old file is whole; after it the pass is unfinished and the normal
   resume runs the missing rows.
The other order would be unsafe: lines gone from a pass still marked complete would be
archived as a finished pass that lacks rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import IO

from scf_batch.errors import UsageError
from scf_batch.models import Status
from scf_batch.runfolder.durable import write_atomically
from scf_batch.runfolder.folder import read_checkpoint, reopen_checkpoint
from scf_batch.runfolder.records import MAX_ROWS
from scf_batch.runfolder.results import RESULTS_FILE, complete_lines

REOPENED = Status.FAILED


def reopen_failed(folder: Path, *, fingerprint: str, restart: bool) -> int:
    """Reopen the run folder's pass for its failed rows; how many lines were taken out."""
    if restart:
        raise UsageError(
            "--retry-failed and --restart: found both; expected one (--restart starts a new "
            "pass with every row, --retry-failed reruns the failed rows of the last one)"
        )
    checkpoint = read_checkpoint(folder)
    if checkpoint is None:
        raise UsageError(
            f"{folder}: --retry-failed found no pass to retry; expected a run folder of an "
            "earlier run of this job (see --out)"
        )
    if checkpoint.fingerprint != fingerprint:
        raise UsageError(
            f"{checkpoint.input_path}: changed since pass {checkpoint.pass_number} ran it; "
            "--retry-failed reruns rows of the same file. Restore it, or write the rows to "
            "retry with `scf-batch retry` and run that file"
        )
    if checkpoint.complete:
        reopen_checkpoint(folder, checkpoint)
    return drop_lines(folder / RESULTS_FILE, status=REOPENED, rows_total=checkpoint.rows_total)


def drop_lines(path: Path, *, status: Status, rows_total: int = MAX_ROWS) -> int:
    """Replace `path` by a copy without the result lines of `status`; how many were dropped.

    The lines are read by results.py's reader (a damaged line or a repeated row is refused);
    a torn last line is copied as it is, for the resume to cut.
    """
    if not path.exists():
        return 0
    with path.open("rb") as source:
        dropped = sum(
            1
            for read in complete_lines(path, source, rows_total=rows_total)
            if read.result.status is status
        )
    if not dropped:
        return 0

    def copy(out: IO[bytes]) -> None:
        with path.open("rb") as source:
            good_end = 0
            for read in complete_lines(path, source, rows_total=rows_total):
                good_end += len(read.raw)
                if read.result.status is not status:
                    out.write(read.raw)
            source.seek(good_end)
            shutil.copyfileobj(source, out)  # the torn last line, if any

    write_atomically(path, copy)
    return dropped
