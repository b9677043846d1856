"""The record of a saved plan applied to the end in this run folder (`plan-applied.json`), so a
rerun of the same plan is "nothing to do" rather than a new pass: its one writer and reader."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from scf_batch.runfolder.durable import write_json_atomically

APPLIED_FILE = "plan-applied.json"
MAX_APPLIED_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class PlanApplied:
    """Which plan (its id: sha256 of its text, and its path as given), when its pass finished,
    which pass of which run folder, and the pass's exit code (rows may have failed)."""

    plan_id: str
    plan: str
    applied_at: str
    folder: str
    pass_number: int
    exit_code: int


def write_applied(folder: Path, record: PlanApplied) -> None:
    write_json_atomically(folder / APPLIED_FILE, asdict(record))


def read_applied(folder: Path) -> PlanApplied | None:
    """The folder's record; None when there is none or it is not in the shape written."""
    try:
        with (folder / APPLIED_FILE).open("rb") as handle:
            document = json.loads(handle.read(MAX_APPLIED_BYTES + 1))
        return PlanApplied(
            str(document["plan_id"]),
            str(document["plan"]),
            str(document["applied_at"]),
            str(document["folder"]),
            int(document["pass_number"]),
            int(document["exit_code"]),
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
