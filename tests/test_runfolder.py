"""The crash-safe record: done rows, torn lines, the lock, input fingerprints, --restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scf_batch import checkpoint
from scf_batch.errors import LockHeldError, UsageError
from scf_batch.models import Outcome, RowResult, Status
from scf_batch.results import ResultsWriter, result_to_dict


def result(row: int, status: Status = Status.OK, outcome: Outcome = Outcome.CREATED) -> RowResult:
    return RowResult(row, row + 1, None, "associate", "cf_x", "lead", "lead", status, outcome)


def test_done_rows_is_a_set_of_row_numbers() -> None:
    """DoneRows remembers rows, says False on a second add, and counts them once."""
    done = checkpoint.DoneRows()
    assert [done.add(5), done.add(5), done.add(1_000_000)] == [True, False, True]
    assert (5 in done, 6 in done, 1_000_000 in done, done.count) == (True, False, True, 2)


def test_scan_results_cuts_a_torn_last_line(tmp_path: Path) -> None:
    """A half-written last line (kill -9 mid-write) is cut off; its row is not counted done."""
    path = tmp_path / "results.jsonl"
    writer = ResultsWriter(path)
    writer.write(result(1), now=0.0)
    writer.write(result(2, Status.FAILED, Outcome.CONFLICT), now=0.0)
    writer.close()
    whole = path.read_bytes()
    torn = json.dumps(result_to_dict(result(3))).encode()[:40]
    path.write_bytes(whole + torn)
    resume = checkpoint.scan_results(path)
    assert (resume.done.count, 3 in resume.done, resume.truncated_bytes) == (2, False, len(torn))
    assert path.read_bytes() == whole
    assert dict(resume.tally.by_outcome) == {"ok/created": 1, "failed/conflict": 1}


def test_scan_results_of_a_missing_file_is_a_fresh_start(tmp_path: Path) -> None:
    """No results file: nothing done, not a resume."""
    resume = checkpoint.scan_results(tmp_path / "results.jsonl")
    assert (resume.done.count, resume.resumed) == (0, False)


def test_lock_is_exclusive(tmp_path: Path) -> None:
    """A second lock on the same folder fails at once with LockHeldError; release frees it."""
    first, second = checkpoint.RunLock(tmp_path), checkpoint.RunLock(tmp_path)
    first.acquire()
    with pytest.raises(LockHeldError):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_changed_input_is_refused(tmp_path: Path) -> None:
    """A checkpoint with another fingerprint refuses the resume and names --restart."""
    checkpoint.write_checkpoint(tmp_path, {"input": {"fingerprint": "a" * 64}})
    checkpoint.check_same_input(tmp_path, "a" * 64, Path("ops.csv"))
    with pytest.raises(UsageError, match="--restart"):
        checkpoint.check_same_input(tmp_path, "b" * 64, Path("ops.csv"))


def test_restart_archives_instead_of_deleting(tmp_path: Path) -> None:
    """--restart moves results, checkpoint and summary into previous/<time>/."""
    for name in ("results.jsonl", "checkpoint.json", "summary.json"):
        (tmp_path / name).write_text(name)
    archive = checkpoint.discard_previous(tmp_path, now=datetime(2026, 1, 2, tzinfo=UTC))
    assert archive is not None
    assert sorted(p.name for p in archive.iterdir()) == [
        "checkpoint.json",
        "results.jsonl",
        "summary.json",
    ]
    assert not (tmp_path / "results.jsonl").exists()
