"""`run --retry-failed`: reopen the last pass so that its failed rows run again, and only they.

The mechanism is the resume's own: a row with a line in results.jsonl is done, a row without
one runs. So reopening takes the failed rows' lines out of results.jsonl and marks the pass
unfinished; the run that follows continues the pass as after a crash, sends nothing for the
rows that kept their line, and appends one new line for each failed row: one line per row.

Crash safety, step by step (each step is atomic: a file replaced by rename, then fsync'd):
1. checkpoint.json says `complete: false`. A crash here leaves every line in place: rerunning
   continues a pass whose rows are all done, runs nothing and marks it complete again.
2. results.jsonl is replaced by a copy without the failed lines (written to a temporary file,
   fsync'd, renamed over it). Before the rename the old file is whole; after it the pass is
   unfinished and the normal resume runs the missing rows.
The other order would be unsafe: lines gone from a pass still marked complete would be
archived as a finished pass that lacks rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scf_batch.errors import UsageError
from scf_batch.models import Status
from scf_batch.runfolder.folder import read_checkpoint, write_checkpoint
from scf_batch.runfolder.results import RESULTS_FILE, open_private, replace_durably

REOPENED = Status.FAILED.value


def reopen_failed(folder: Path, *, fingerprint: str, restart: bool) -> int:
    """Reopen the run folder's pass for its failed rows; how many lines were taken out."""
    if restart:
        raise UsageError(
            "--retry-failed and --restart: found both; expected one (--restart starts a new "
            "pass with every row, --retry-failed reruns the failed rows of the last one)"
        )
    document = read_checkpoint(folder)
    if document is None:
        raise UsageError(
            f"{folder}: --retry-failed found no pass to retry; expected a run folder of an "
            "earlier run of this job (see --out)"
        )
    if document["input"]["fingerprint"] != fingerprint:
        raise UsageError(
            f"{document['input'].get('path')}: changed since pass {document['pass']} ran it; "
            "--retry-failed reruns rows of the same file. Restore it, or write the rows to "
            "retry with `scf-batch retry` and run that file"
        )
    if document["complete"]:
        write_checkpoint(folder, {**document, "complete": False})
    return drop_lines(folder / RESULTS_FILE, status=REOPENED)


def drop_lines(path: Path, *, status: str) -> int:
    """Replace `path` by a copy without the result lines of `status`; how many were dropped.

    Any other line, a damaged or torn one included, is copied as it is (the resume judges it).
    """
    if not path.exists():
        return 0
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover of a crash, or a planted link: never written through
    dropped = 0
    with path.open("rb") as source, open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as copy:
        for raw in source:
            if _status_of(raw) == status:
                dropped += 1
            else:
                copy.write(raw)
        copy.flush()
        os.fsync(copy.fileno())
    if not dropped:
        tmp.unlink()
        return 0
    replace_durably(tmp, path)
    return dropped


def _status_of(raw: bytes) -> object:
    if not raw.endswith(b"\n"):
        return None  # a torn last line: not a result yet
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return record.get("status") if isinstance(record, dict) else None
