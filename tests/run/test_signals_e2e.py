"""SIGINT and SIGTERM from the first line of `main`, and the summary.json of a run that fails.

Outside the run loop (reading the operations file, the org's snapshot) a signal ends the command
with exit 130 and one line on stderr, never a traceback or death by the signal; during a run a
second signal cannot cut the checkpoint short. A run that ends by an error after its pass began
leaves a summary.json that says so; one refused before (a changed input) leaves the pass's as
it was. The CLI and the simulator are real subprocesses, so the signals are real.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import COLUMNS, all_pairs, cli_env, results, run_args, run_cli, write_csv
from tests.simproc import sim_process

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator

VALIDATION_ROWS = 400_000  # a few seconds of validation: the signal lands inside it
SIGNALS = [signal.SIGTERM, signal.SIGINT]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def has_open(pid: int, path: Path) -> bool:
    """Whether the process holds `path` open (Linux /proc): it is reading the file."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def assert_one_line_interrupted(proc: subprocess.Popen[str], stderr: str, sig: int) -> None:
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"scf-batch: interrupted by {signal.Signals(sig).name}"), stderr


def big_operations_file(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        row = ["", "ensure", "Industry", "lead", "", "", "true", "admin"]
        writer.writerows([f"k{i}", *row[1:]] for i in range(VALIDATION_ROWS))
    return path


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_during_validation_exits_130_with_one_line(tmp_path: Path, sig: int) -> None:
    """SIGTERM or SIGINT while `validate` reads the file: exit 130, one line, no traceback
    (SIGTERM used to kill the process silently, rc -15)."""
    ops = big_operations_file(tmp_path / "big.csv").resolve()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scf_batch", "validate", str(ops)],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: has_open(proc.pid, ops), "validate to open the file")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert_one_line_interrupted(proc, err, sig)
    assert "no problems" not in out  # it stopped before the end of the file


def small_job(tmp_path: Path, state: dict[str, Any], rows: int = 40) -> Path:
    pairs = all_pairs(state)[:rows]
    return write_csv(
        tmp_path / "job.csv",
        [p.row(f"k{i}", "ensure", "true", "admin") for i, p in enumerate(pairs)],
    )


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_during_snapshot_read_exits_130_and_summary_says_so(
    tmp_path: Path, sig: int
) -> None:
    """A signal while the org's snapshot is read (1 s per request): exit 130, one line, no
    traceback, nothing written to the org, and summary.json records the interruption."""
    with sim_process("--latency-ms", "1000") as sim:
        job, out = small_job(tmp_path, sim.state()), tmp_path / "run"
        proc = subprocess.Popen(
            run_args(job, sim.base_url, out),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for((out / ".lock").exists, "the run to lock its folder")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        assert_one_line_interrupted(proc, err, sig)
        assert sim.stats()["writes_applied"] == {}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["exit_code"], summary["rows_done"]) == (130, 0)
    assert "interrupted" in summary["reason"]


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGINT)],
    ids=["SIGINT-SIGINT", "SIGTERM-SIGINT"],
)
def test_two_signals_20ms_apart_mid_run_exit_130_with_a_checkpoint(
    tmp_path: Path, first: int, second: int
) -> None:
    """Two signals 20 ms apart mid-run: exit 130 (not -2), no traceback, and the checkpoint
    and summary agree with the result lines written."""
    with sim_process("--latency-ms", "40") as sim:
        job, out = small_job(tmp_path, sim.state(), rows=80), tmp_path / "run"
        proc = subprocess.Popen(
            run_args(job, sim.base_url, out, "--concurrency", "2"),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = out / "results.jsonl"
        wait_for(lambda: lines.exists() and lines.stat().st_size > 0, "a first result line")
        proc.send_signal(first)
        time.sleep(0.02)
        proc.send_signal(second)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "Traceback" not in err, err
    done = len(results(out))
    checkpoint = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    assert 0 < checkpoint["rows_done"] == done < 80
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["exit_code"], summary["rows_done"]) == (130, done)


def test_credentials_refused_in_a_continued_pass_leave_a_summary_with_exit_3(
    tmp_path: Path,
) -> None:
    """A run of an unfinished pass whose key is refused during the snapshot: summary.json now
    says exit 3 and why, with the pass's counts (not the earlier run's exit 4)."""
    with sim_process() as sim:
        job, out = small_job(tmp_path, sim.state(), rows=10), tmp_path / "run"
        assert run_cli(job, sim.base_url, out, "--limit", "3").returncode == 4
        refused = run_cli(job, sim.base_url, out, api_key="api_not_a_real_key_123")
    assert refused.returncode == 3, refused.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 3
    assert "refused the credentials" in summary["reason"]
    assert (summary["rows_total"], summary["rows_done"], summary["pass"]) == (10, 3, 1)


def test_invalid_rows_after_the_lock_leave_a_summary_with_exit_2(tmp_path: Path) -> None:
    """Rows the snapshot shows invalid (an unknown field) stop the run with exit 2 after it
    joined the pass: summary.json says exit 2 and how many rows were invalid."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        rows = [pairs[0].row("ok", "ensure", "true"), {**pairs[1].row("bad", "ensure")}]
        rows[1]["scf_name"] = "No Such Field Anywhere"
        job, out = write_csv(tmp_path / "job.csv", rows), tmp_path / "run"
        refused = run_cli(job, sim.base_url, out)
        assert sim.stats()["writes_applied"] == {}
    assert refused.returncode == 2, refused.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 2
    assert "1 invalid row(s)" in summary["reason"]


def test_a_run_refused_before_its_pass_began_keeps_the_pass_summary(tmp_path: Path) -> None:
    """A changed input is refused before the run joins the pass (exit 2): summary.json still
    describes the pass's last run, which is what the folder holds."""
    with sim_process() as sim:
        job, out = small_job(tmp_path, sim.state(), rows=10), tmp_path / "run"
        assert run_cli(job, sim.base_url, out, "--limit", "3").returncode == 4
        before = (out / "summary.json").read_bytes()
        with job.open("a", encoding="utf-8") as handle:
            handle.write("extra,ensure,Industry,contact,,,true,admin\n")
        refused = run_cli(job, sim.base_url, out)
    assert refused.returncode == 2, refused.stderr
    assert "changed since the pass" in refused.stderr
    assert (out / "summary.json").read_bytes() == before
