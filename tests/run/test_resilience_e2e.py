"""The runner under pressure: 429 storms, faults, kill -9 and SIGINT, each followed by a resume.

The simulator runs as a real subprocess; so does the CLI, so that signals and `kill -9` are
real. Every test checks the two things users rely on: exactly one result line per row, and the
org's final state exactly what the job asks.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e import (
    all_pairs,
    associations,
    cli_env,
    results,
    run_args,
    run_cli,
    write_csv,
)
from tests.simproc import sim_process

pytestmark = pytest.mark.slow


def expected_job(pairs_count: int, state: dict) -> tuple[list[dict[str, str]], dict]:  # type: ignore[type-arg]
    """`ensure` rows over the first pairs with varied settings, and the state they ask for."""
    pairs = all_pairs(state)[:pairs_count]
    rows, want = [], {}
    for i, pair in enumerate(pairs):
        required = i % 3 == 0
        roles = ["admin"] if i % 4 == 0 else []
        rows.append(pair.row(f"k{i}", "ensure", str(required).lower(), ";".join(roles) or "[]"))
        want[pair] = (required, roles)
    return rows, want


def assert_state(state: dict, want: dict) -> None:  # type: ignore[type-arg]
    got = {
        p: (a["required"], sorted(a["editable_with_roles"])) for p, a in associations(state).items()
    }
    assert want == got


def assert_one_line_per_row(out: Path, rows: int) -> None:
    lines = (out / "results.jsonl").read_bytes()
    assert lines.endswith(b"\n")
    assert sorted(r["row"] for r in results(out)) == list(range(1, rows + 1))


@pytest.mark.parametrize(
    ("header_style", "body_style", "max_429_share"),
    [
        ("comma", "legacy", 0.05),
        ("semicolon", "empty", 0.05),
        ("none", "text", 0.2),
        ("none", "empty", 0.2),
    ],
)
def test_429_storm_every_row_ok_and_pauses_keep_429s_rare(
    tmp_path: Path, header_style: str, body_style: str, max_429_share: float
) -> None:
    """Against a limit of 4/s with the runner allowed 50/s, every row ends ok and 429s stay a
    small share of the requests (without pauses they would be most of them): with a RateLimit
    header the pacer slows down before the window runs out; without one, each 429 pauses the
    endpoint group until Retry-After."""
    args = ("--rate-limit", "4", "--header-style", header_style, "--body-style", body_style)
    with sim_process(*args) as sim:
        rows, want = expected_job(24, sim.state())
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(job, sim.base_url, tmp_path / "run", "--rate", "50", "--concurrency", "8")
        assert done.returncode == 0, done.stderr
        assert_one_line_per_row(tmp_path / "run", len(rows))
        assert_state(sim.state(), want)
        stats = sim.stats()
        assert stats["rate_limited"] <= max_429_share * stats["total"], stats


@pytest.mark.timeout(90)  # 6-20 s alone; a fifth of requests failing makes its time vary widely
def test_faults_after_apply_every_row_ok_state_exact_no_duplicate_creates(tmp_path: Path) -> None:
    """At --fault-rate 0.2, some faults after the change landed, every row still ends ok, the
    state is exactly what the job asks, and no association was created twice."""
    with sim_process("--fault-rate", "0.2") as sim:
        rows, want = expected_job(80, sim.state())
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(job, sim.base_url, tmp_path / "run", "--max-retries", "10")
        assert done.returncode == 0, done.stderr
        assert_one_line_per_row(tmp_path / "run", len(rows))
        assert_state(sim.state(), want)
        stats = sim.stats()
        assert stats["faults"]["after_apply"] > 0, stats
        creates = stats["writes_applied"].get("POST custom_field/shared/{scf_id}/association/", 0)
        assert creates == len(want)
        assert {"ok"} == {r["status"] for r in results(tmp_path / "run")}


def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    """kill -9 at several random moments, each followed by a resume, ends with exactly one
    result line per row and the state exactly as the job asks."""
    rng = random.Random(20261127)
    with sim_process("--latency-ms", "30", "--jitter-ms", "30", "--fault-rate", "0.05") as sim:
        rows, want = expected_job(150, sim.state())
        job = write_csv(tmp_path / "job.csv", rows)
        out = tmp_path / "run"
        args = run_args(job, sim.base_url, out, "--concurrency", "8", "--rate", "200")
        kills = 0
        for _ in range(4):
            proc = subprocess.Popen(
                args, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.4, 1.6))  # a random moment, not a synchronization
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait(timeout=30)
        assert kills >= 1
        final = run_cli(job, sim.base_url, out)
        assert final.returncode == 0, final.stderr
        assert_one_line_per_row(out, len(rows))
        assert_state(sim.state(), want)
        creates = sim.stats()["writes_applied"].get(
            "POST custom_field/shared/{scf_id}/association/", 0
        )
        assert creates == len(want)


def test_sigint_exits_130_and_resume_finishes(tmp_path: Path) -> None:
    """SIGINT mid-run exits 130 with a checkpoint; the same command then finishes the job."""
    with sim_process("--latency-ms", "50") as sim:
        rows, want = expected_job(60, sim.state())
        job = write_csv(tmp_path / "job.csv", rows)
        out = tmp_path / "run"
        proc = subprocess.Popen(
            run_args(job, sim.base_url, out, "--concurrency", "2", "--rate", "100"),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not (out / "results.jsonl").exists() or not (out / "results.jsonl").stat().st_size:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr
        checkpoint = json.loads((out / "checkpoint.json").read_text())
        assert 0 < checkpoint["rows_done"] < len(rows)
        final = run_cli(job, sim.base_url, out)
        assert final.returncode == 0, final.stderr
        assert_one_line_per_row(out, len(rows))
        assert_state(sim.state(), want)
