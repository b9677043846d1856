"""The run folder: done rows, torn and damaged lines, the lock, passes and their history."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scf_batch.errors import LockHeldError, UsageError
from scf_batch.models import Outcome, RowResult, Status
from scf_batch.runfolder import folder as runfolder
from scf_batch.runfolder.durable import write_json_atomically
from scf_batch.runfolder.lock import RunLock, run_holding
from scf_batch.runfolder.recorder import PassRecord, PassRecorder
from scf_batch.runfolder.reopen import drop_lines
from scf_batch.runfolder.results import ResultsWriter, read_results, result_to_dict

NOW = "2026-11-30T12:00:00.000+00:00"


def result(row: int, status: Status = Status.OK, outcome: Outcome = Outcome.CREATED) -> RowResult:
    return RowResult(row, row + 1, None, "associate", status, outcome, scf_id="cf_x")


def write_results(path: Path, *results: RowResult) -> None:
    writer = ResultsWriter(path)
    for one in results:
        writer.write(one)
    writer.close()


def checkpoint(folder: Path, **changes: Any) -> None:
    record = PassRecord("job", 1, NOW, Path("ops.csv"), "a" * 64, {}, None, 3)
    document = record.document(rows_done=0, complete=False, now=NOW).to_json()
    write_json_atomically(folder / runfolder.CHECKPOINT_FILE, {**document, **changes})


def test_done_rows_is_a_set_of_row_numbers() -> None:
    """DoneRows remembers rows, says False on a second add, and counts them once."""
    done = runfolder.DoneRows()
    assert [done.add(5), done.add(5), done.add(1_000_000)] == [True, False, True]
    assert (5 in done, 6 in done, 1_000_000 in done, -3 in done, done.count) == (
        True,
        False,
        True,
        False,
        2,
    )


def test_scan_results_cuts_a_torn_last_line(tmp_path: Path) -> None:
    """A half-written last line (kill -9 mid-write) is cut off; its row is not counted done."""
    path = tmp_path / "results.jsonl"
    write_results(path, result(1), result(2, Status.FAILED, Outcome.CONFLICT))
    whole = path.read_bytes()
    torn = json.dumps(result_to_dict(result(3))).encode()[:40]
    path.write_bytes(whole + torn)
    resume = runfolder.scan_results(path, rows_total=3)
    assert (resume.done.count, 3 in resume.done, resume.truncated_bytes) == (2, False, len(torn))
    assert path.read_bytes() == whole
    assert dict(resume.tally.by_outcome) == {"ok/created": 1, "failed/conflict": 1}


@pytest.mark.parametrize(
    "damage",
    [
        b'{"row": 1, "status": "ok"\n',  # cut in the middle, then a newline
        b'{"row": 0, "status": "ok", "outcome": "created"}\n',
        b'{"row": -5, "status": "ok", "outcome": "created"}\n',
        b'{"row": 1000000000000, "status": "ok", "outcome": "created"}\n',
        b'{"row": 99999999999999999999, "status": "ok", "outcome": "created"}\n',
        b'{"row": true, "status": "ok", "outcome": "created"}\n',
        b"[" * 100_000 + b"\n",
    ],
)
def test_a_damaged_line_in_the_middle_is_refused_naming_it(tmp_path: Path, damage: bytes) -> None:
    """Only a last line without its newline is a torn write: any other bad line stops the
    resume (exit 2) naming its line, and nothing is cut."""
    path = tmp_path / "results.jsonl"
    write_results(path, result(1))
    good = json.dumps(result_to_dict(result(2))).encode() + b"\n"
    path.write_bytes(path.read_bytes() + damage + good)
    before = path.read_bytes()
    with pytest.raises(UsageError, match=r"results\.jsonl:2: found a damaged line"):
        runfolder.scan_results(path, rows_total=3)
    assert path.read_bytes() == before


def test_scan_results_of_a_missing_file_is_a_fresh_start(tmp_path: Path) -> None:
    """No results file: nothing done."""
    assert runfolder.scan_results(tmp_path / "results.jsonl", rows_total=5).done.count == 0


def test_lock_is_exclusive(tmp_path: Path) -> None:
    """A second lock on the same folder fails at once with LockHeldError; release frees it."""
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(LockHeldError):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_a_fresh_folder_starts_pass_1(tmp_path: Path) -> None:
    """No checkpoint, no results: the first pass."""
    start = runfolder.begin_pass(
        tmp_path, fingerprint="a" * 64, operations=Path("ops.csv"), restart=False, now=NOW
    )
    assert (start.number, start.continuing, start.archived) == (1, False, None)


def test_an_unfinished_pass_continues_and_a_changed_input_is_refused(tmp_path: Path) -> None:
    """An unfinished pass is continued with its row count; another input is refused."""
    checkpoint(tmp_path)
    start = runfolder.begin_pass(
        tmp_path, fingerprint="a" * 64, operations=Path("ops.csv"), restart=False, now=NOW
    )
    assert (start.number, start.continuing, start.rows_total) == (1, True, 3)
    with pytest.raises(UsageError, match="--restart"):
        runfolder.begin_pass(
            tmp_path, fingerprint="b" * 64, operations=Path("ops.csv"), restart=False, now=NOW
        )


def test_after_a_finished_pass_the_next_starts_and_the_last_is_kept(tmp_path: Path) -> None:
    """A complete pass moves to history/pass-1/ and pass 2 starts, even on another input."""
    checkpoint(tmp_path, complete=True)
    write_results(tmp_path / "results.jsonl", result(1))
    start = runfolder.begin_pass(
        tmp_path, fingerprint="b" * 64, operations=Path("ops.csv"), restart=False, now=NOW
    )
    assert (start.number, start.continuing) == (2, False)
    assert start.archived == tmp_path / "history" / "pass-1"
    assert sorted(p.name for p in start.archived.iterdir()) == ["checkpoint.json", "results.jsonl"]
    assert list(runfolder.passes(tmp_path)) == [start.archived]


def test_restart_archives_an_unfinished_pass_instead_of_deleting_it(tmp_path: Path) -> None:
    """--restart moves the unfinished pass to history/ and starts the next."""
    checkpoint(tmp_path)
    start = runfolder.begin_pass(
        tmp_path, fingerprint="b" * 64, operations=Path("ops.csv"), restart=True, now=NOW
    )
    assert (start.number, start.why) == (2, "--restart")
    assert (tmp_path / "history" / "pass-1" / "checkpoint.json").exists()


def test_a_new_pass_after_history_is_never_called_the_first(tmp_path: Path) -> None:
    """A run that archived the pass before it and ended before its own first checkpoint leaves
    history/pass-1 and no checkpoint: the next run begins pass 2, and does not call it "the
    first pass"."""
    (tmp_path / "history" / "pass-1").mkdir(parents=True)
    start = runfolder.begin_pass(
        tmp_path, fingerprint="b" * 64, operations=Path("ops.csv"), restart=False, now=NOW
    )
    assert (start.number, start.continuing) == (2, False)
    assert "first" not in start.why


def test_results_without_a_checkpoint_are_refused(tmp_path: Path) -> None:
    """A deleted checkpoint leaves results nothing ties to an input: refused, not resumed."""
    write_results(tmp_path / "results.jsonl", result(1))
    with pytest.raises(UsageError, match=r"without checkpoint\.json"):
        runfolder.begin_pass(
            tmp_path, fingerprint="a" * 64, operations=Path("ops.csv"), restart=False, now=NOW
        )


@pytest.mark.parametrize(
    "document",
    [{"input": None}, "x", 5, [], {"version": 2, "pass": 1}, {"version": 1}],
)
def test_a_checkpoint_of_another_shape_is_a_usage_error(tmp_path: Path, document: Any) -> None:
    """A checkpoint that is not what this version writes is refused with a message."""
    (tmp_path / "checkpoint.json").write_text(json.dumps(document))
    with pytest.raises(UsageError, match=r"checkpoint.json: found .*; expected a checkpoint"):
        runfolder.read_checkpoint(tmp_path)


def test_run_folder_files_are_owner_only_and_never_follow_a_link(tmp_path: Path) -> None:
    """Files are created 0600; a symbolic link planted where one goes is refused, and the file
    it points at is left alone."""
    write_results(tmp_path / "results.jsonl", result(1))
    assert (tmp_path / "results.jsonl").stat().st_mode & 0o777 == 0o600
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (tmp_path / "run").mkdir()
    os.symlink(outside, tmp_path / "run" / "results.jsonl")
    with pytest.raises(OSError, match="symbolic link"):
        ResultsWriter(tmp_path / "run" / "results.jsonl")
    os.symlink(outside, tmp_path / "run" / "summary.json.tmp")
    write_json_atomically(tmp_path / "run" / "summary.json", {"a": 1})
    os.symlink(outside, tmp_path / "run" / ".lock")
    with pytest.raises(OSError, match="symbolic link"):
        RunLock(tmp_path / "run").acquire()
    assert outside.read_text() == "precious"
    assert (tmp_path / "run" / "summary.json").stat().st_mode & 0o777 == 0o600


def test_a_checkpoint_promising_more_rows_than_a_job_has_is_refused(tmp_path: Path) -> None:
    """rows_total bounds what a resume may hold: a checkpoint promising 10^15 rows is refused."""
    checkpoint(tmp_path, rows_total=10**15)
    with pytest.raises(UsageError, match="no row count up to 10"):
        runfolder.read_checkpoint(tmp_path)


def test_a_huge_results_line_is_damage_read_in_bounded_memory(tmp_path: Path) -> None:
    """A results line past the cap is refused as damage without being read whole."""
    path = tmp_path / "results.jsonl"
    write_results(path, result(1))
    huge = b'{"row": 2, "status": "ok", "outcome": "created", "pad": "' + b"x" * (3 << 20) + b'"}\n'
    path.write_bytes(path.read_bytes() + huge)
    with pytest.raises(UsageError, match=r"results\.jsonl:2: found a damaged line"):
        runfolder.scan_results(path, rows_total=3)


def test_a_pass_after_one_that_ended_before_its_checkpoint_keeps_counting(tmp_path: Path) -> None:
    """history/pass-1 kept and no checkpoint (the run that archived it failed early): the next
    pass is 2, not 1 again."""
    (tmp_path / "history" / "pass-1").mkdir(parents=True)
    start = runfolder.begin_pass(
        tmp_path, fingerprint="a" * 64, operations=Path("ops.csv"), restart=False, now=NOW
    )
    assert (start.number, start.continuing) == (2, False)


def test_an_os_error_on_an_open_results_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at fsync (an OSError without a file name) is reported with the file's path."""
    writer = ResultsWriter(tmp_path / "results.jsonl")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", full_disk)
        with pytest.raises(OSError, match=r"No space left on device: .*results\.jsonl"):
            writer.sync()
    writer.close()


def test_a_row_written_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """Two complete lines for one row are damage (exit 2) for the resume, the report's reader
    and --retry-failed alike, naming both lines; nothing is cut."""
    path = tmp_path / "results.jsonl"
    write_results(path, result(1), result(2), result(1, Status.FAILED, Outcome.CONFLICT))
    before = path.read_bytes()
    refusal = r"results\.jsonl:3: found a second result of row 1 \(the first is on line 1\)"
    with pytest.raises(UsageError, match=refusal):
        runfolder.scan_results(path, rows_total=3)
    with pytest.raises(UsageError, match=refusal):
        list(read_results(path))
    with pytest.raises(UsageError, match=refusal):
        drop_lines(path, status=Status.FAILED)
    assert path.read_bytes() == before


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk during an atomic write (summary.json) raises, keeps the old file whole and
    removes summary.json.tmp."""
    path = tmp_path / "summary.json"
    write_json_atomically(path, {"old": True})

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", full_disk)
        with pytest.raises(OSError, match=r"No space left on device: .*summary\.json\.tmp"):
            write_json_atomically(path, {"new": True})
    assert ({"old": True}, ["summary.json"]) == (
        json.loads(path.read_text()),
        sorted(p.name for p in tmp_path.iterdir()),
    )


def test_the_lock_names_its_holder_and_a_lock_file_left_behind_is_harmless(
    tmp_path: Path,
) -> None:
    """While a run holds the folder, run_holding gives its pid and a second lock is refused
    naming it; the .lock file a finished (or killed) run leaves is no lock: the next run takes
    it."""
    assert run_holding(tmp_path) is None  # no lock file yet
    first = RunLock(tmp_path)
    first.acquire()
    assert os.getpid() == run_holding(tmp_path)
    with pytest.raises(LockHeldError, match=rf"another run \(pid {os.getpid()}\) holds"):
        RunLock(tmp_path).acquire()
    first.release()
    assert (tmp_path / ".lock").exists()
    assert run_holding(tmp_path) is None
    again = RunLock(tmp_path)
    again.acquire()
    again.release()


def test_prune_history_keeps_the_newest_passes(tmp_path: Path) -> None:
    """Passes beyond `keep` go, oldest first (by number, then by the .N of a pass kept twice)."""
    names = ["pass-1", "pass-2", "pass-2.2", "pass-3", "pass-10"]
    for name in names:
        (tmp_path / "history" / name).mkdir(parents=True)
        (tmp_path / "history" / name / "results.jsonl").write_text("")
    removed = runfolder.prune_history(tmp_path, keep=2)
    assert ["pass-1", "pass-2", "pass-2.2"] == [p.name for p in removed]
    assert ["pass-10", "pass-3"] == sorted(p.name for p in (tmp_path / "history").iterdir())
    assert [] == runfolder.prune_history(tmp_path, keep=2)
    assert 2 == len(runfolder.prune_history(tmp_path, keep=0))


def test_rows_per_second_count_from_the_runs_first_request(tmp_path: Path) -> None:
    """Given the run's first request as origin, rows are counted in the same seconds as the
    requests (the timeline lines them up); without one, from the first row written."""
    record = PassRecord("job", 1, NOW, Path("ops.csv"), "a" * 64, {}, None, 3)
    aligned = PassRecorder(tmp_path, record, rows_done=0, utc_now=lambda: NOW, started=100)
    aligned.write(result(1), now=103.5)
    aligned.close(complete=False, now=103.5)
    alone = PassRecorder(tmp_path, record, rows_done=1, utc_now=lambda: NOW)
    alone.write(result(2), now=103.5)
    alone.write(result(3), now=105.0)
    alone.close(complete=True, now=105.0)
    assert ({3: 1}, {0: 1, 1: 1}) == (dict(aligned.rows_by_second), dict(alone.rows_by_second))
    checkpoint = runfolder.read_checkpoint(tmp_path)
    assert checkpoint is not None
    assert (3, True) == (checkpoint.rows_done, checkpoint.complete)


def test_during_a_pass_fsync_and_checkpoint_run_off_the_callers_thread_lines_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic fsync and checkpoint of a pass run on the recorder's thread, not the
    caller's (the event loop that paces requests); each checkpoint follows an fsync that saw
    every line it claims; the last checkpoint is written on the caller's thread, complete."""
    import threading  # noqa: PLC0415

    from scf_batch.runfolder import recorder as recorder_module  # noqa: PLC0415

    events: list[tuple[str, str, int]] = []
    results = tmp_path / "results.jsonl"
    real_fsync, real_checkpoint = os.fsync, runfolder.write_checkpoint

    def fsync(fd: int) -> None:
        lines = len(results.read_bytes().splitlines()) if results.exists() else 0
        events.append(("fsync", threading.current_thread().name, lines))
        real_fsync(fd)

    def write_checkpoint(folder: Path, document: Any) -> None:
        events.append(("checkpoint", threading.current_thread().name, document.rows_done))
        real_checkpoint(folder, document)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(recorder_module, "write_checkpoint", write_checkpoint)  # the one it calls
    record = PassRecord("job", 1, NOW, Path("ops.csv"), "a" * 64, {}, None, 40)
    recorder = PassRecorder(tmp_path, record, rows_done=0, utc_now=lambda: NOW)
    for row in range(1, 41):
        recorder.write(result(row), now=row * 0.25)  # 10 s of rows, 4 a second
    caller = threading.current_thread().name
    before_close = [e for e in events if e[1] == caller]
    recorder.close(complete=True, now=10.25)
    assert before_close == [], "the caller's thread waited on the disk before the last checkpoint"
    background = [e for e in events if e[1] != caller]
    assert {kind for kind, _, _ in background} == {"fsync", "checkpoint"}
    assert ("checkpoint", caller, 40) in events
    synced = 0
    for kind, _, count in background:
        if kind == "fsync":
            synced = count
        else:
            assert count <= synced, "a checkpoint claimed a line no fsync had seen"
    checkpoint = runfolder.read_checkpoint(tmp_path)
    assert checkpoint is not None
    assert (checkpoint.rows_done, checkpoint.complete) == (40, True)


def test_a_background_fsync_error_is_raised_to_the_pass_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk met by the recorder's thread is not lost: the pass's next call (here its
    last checkpoint, whose own fsync would succeed) raises it, with the results file's path."""
    import threading  # noqa: PLC0415

    record = PassRecord("job", 1, NOW, Path("ops.csv"), "a" * 64, {}, None, 3)
    recorder = PassRecorder(tmp_path, record, rows_done=0, utc_now=lambda: NOW)
    caller, real_fsync = threading.current_thread(), os.fsync

    def full_disk_off_the_caller(fd: int) -> None:
        if threading.current_thread() is not caller:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk_off_the_caller)
    recorder.write(result(1), now=5.0)  # a sync is due: it fails on the recorder's thread
    with pytest.raises(OSError, match=r"No space left on device: .*results\.jsonl"):
        recorder.close(complete=False, now=5.0)
    recorder.close(complete=False, now=6.0)  # the error was raised once; the pass can end
    checkpoint = runfolder.read_checkpoint(tmp_path)
    assert checkpoint is not None
    assert checkpoint.rows_done == 1
