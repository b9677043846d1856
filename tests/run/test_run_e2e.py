"""`scf-batch run` end to end: the CLI as a subprocess against the simulator as a subprocess."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from tests.e2e import Pair, all_pairs, associations, outcomes, results, run_cli, write_csv
from tests.simproc import sim_process

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator

BAD_KEY = "api_not_a_real_key_123"


def test_every_action_outcome_and_exit_code_1(tmp_path: Path) -> None:
    """One job meets every outcome of every action; failed rows make the exit code 1."""
    with sim_process() as sim:
        p = all_pairs(sim.state())
        missing = Pair("No Such Field Anywhere", "lead")
        rows = [
            p[0].row("created", "associate", "true", "admin"),
            p[1].row("seed-1", "associate", "false"),
            p[2].row("seed-2", "associate", "true"),
            p[3].row("seed-3", "associate", "false"),
            p[4].row("seed-4", "associate", "false"),
            p[8].row("seed-8", "associate", "true"),
        ]
        job = write_csv(tmp_path / "seed.csv", rows)
        first = run_cli(job, sim.base_url, tmp_path / "seed-run")
        assert first.returncode == 0, first.stderr
        rows = [
            p[1].row("already", "associate", "false"),
            p[2].row("conflict", "associate", "false"),
            p[3].row("updated", "update", "true", "admin"),
            p[5].row("update-missing", "update", "true"),
            p[4].row("deleted", "disassociate"),
            p[6].row("delete-absent", "disassociate"),
            p[7].row("ensure-new", "ensure", "true"),
            p[1].row("ensure-same", "ensure", "false"),
            p[8].row("ensure-diff", "ensure", "false", "admin"),
        ]
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(job, sim.base_url, tmp_path / "run", "--allow-delete")
        assert done.returncode == 1, done.stderr
        assert {
            "already": ("ok", "already_associated"),
            "conflict": ("failed", "conflict"),
            "updated": ("ok", "updated"),
            "update-missing": ("failed", "not_associated"),
            "deleted": ("ok", "deleted"),
            "delete-absent": ("ok", "not_associated"),
            "ensure-new": ("ok", "created"),
            "ensure-same": ("ok", "unchanged"),
            "ensure-diff": ("ok", "updated"),
        } == outcomes(tmp_path / "run")
        state = associations(sim.state())
        assert (True, ["admin"]) == (state[p[3]]["required"], state[p[3]]["editable_with_roles"])
        assert (False, ["admin"]) == (state[p[8]]["required"], state[p[8]]["editable_with_roles"])
        assert p[4] not in state
        missing_job = write_csv(tmp_path / "missing.csv", [missing.row("m", "associate")])
        refused = run_cli(missing_job, sim.base_url, tmp_path / "missing")
        assert refused.returncode == 2
        assert "No Such Field Anywhere" in refused.stderr


def test_rows_of_one_pair_run_in_input_order(tmp_path: Path) -> None:
    """associate → update → disassociate → associate on one pair, with many workers, end in
    input order; other pairs run alongside."""
    with sim_process("--latency-ms", "20", "--jitter-ms", "20") as sim:
        pairs = all_pairs(sim.state())
        chain = pairs[0]
        rows = [chain.row("c1", "associate", "false")]
        rows += [p.row(f"x{i}", "associate") for i, p in enumerate(pairs[1:30])]
        rows += [chain.row("c2", "update", "true")]
        rows += [chain.row("c3", "disassociate")]
        rows += [chain.row("c4", "associate", "true", "admin")]
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(job, sim.base_url, tmp_path / "run", "--concurrency", "16", "--allow-delete")
        assert done.returncode == 0, done.stderr
        got = outcomes(tmp_path / "run")
        assert [got[k][1] for k in ("c1", "c2", "c3", "c4")] == [
            "created",
            "updated",
            "deleted",
            "created",
        ]
        finished = {r["key"]: i for i, r in enumerate(results(tmp_path / "run"))}
        assert finished["c1"] < finished["c2"] < finished["c3"] < finished["c4"]
        final = associations(sim.state())[chain]
        assert (True, ["admin"]) == (final["required"], final["editable_with_roles"])


def test_bad_api_key_exits_3_after_at_most_concurrency_requests(tmp_path: Path) -> None:
    """A key Close refuses stops the run with exit 3; at most --concurrency requests reach it."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "associate") for i, p in enumerate(pairs[:50])]
        )
        done = run_cli(job, sim.base_url, tmp_path / "run", "--concurrency", "4", api_key=BAD_KEY)
        assert done.returncode == 3, done.stderr
        assert sim.stats()["total"] <= 4
        assert associations(sim.state()) == {}


def test_lock_held_exits_75_and_changes_nothing(tmp_path: Path) -> None:
    """A second run on a folder whose lock is held exits 75 at once."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(tmp_path / "job.csv", [pairs[0].row("a", "associate")])
        out = tmp_path / "run"
        out.mkdir()
        with (out / ".lock").open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            done = run_cli(job, sim.base_url, out)
        assert done.returncode == 75
        assert sim.stats()["total"] == 0
        assert not (out / "results.jsonl").exists()


def test_changed_input_of_an_unfinished_pass_is_refused_unless_restart(tmp_path: Path) -> None:
    """Continuing an unfinished pass on a changed file exits 2 and sends nothing; --restart
    keeps the unfinished pass in history/ and starts a new one."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv", [pairs[0].row("a", "associate"), pairs[2].row("c", "associate")]
        )
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out, "--limit", "1").returncode == 4
        write_csv(job, [pairs[0].row("a", "associate"), pairs[1].row("b", "associate")])
        sent = sim.stats()["total"]
        refused = run_cli(job, sim.base_url, out)
        assert refused.returncode == 2
        assert "--restart" in refused.stderr
        assert sim.stats()["total"] == sent
        again = run_cli(job, sim.base_url, out, "--restart")
        assert again.returncode == 0, again.stderr
        assert {"a": ("ok", "already_associated"), "b": ("ok", "created")} == outcomes(out)
        assert (out / "history" / "pass-1" / "results.jsonl").exists()


def test_rerun_of_a_finished_job_sends_nothing(tmp_path: Path) -> None:
    """Running the same command again after it finished sends no request and exits 0."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "ensure") for i, p in enumerate(pairs[:20])]
        )
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out).returncode == 0
        before = sim.stats()["by_group"]
        writes_before = {g: c for g, c in before.items() if not g.startswith("GET")}
        again = run_cli(job, sim.base_url, out)
        assert again.returncode == 0, again.stderr
        after = sim.stats()["by_group"]
        assert writes_before == {g: c for g, c in after.items() if not g.startswith("GET")}
        assert len(results(out)) == 20


def test_limit_stops_early_with_exit_4_then_resume_finishes(tmp_path: Path) -> None:
    """--limit 5 runs five rows that write and exits 4, its summary saying what it counted; the
    same command without it finishes the rest."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "associate") for i, p in enumerate(pairs[:12])]
        )
        out = tmp_path / "run"
        canary = run_cli(job, sim.base_url, out, "--limit", "5")
        assert canary.returncode == 4, canary.stderr
        assert "--limit 5 reached: 5 row(s) that write" in canary.stdout + canary.stderr
        assert len(results(out)) == 5
        rest = run_cli(job, sim.base_url, out)
        assert rest.returncode == 0, rest.stderr
        assert sorted(r["row"] for r in results(out)) == list(range(1, 13))
        assert {"created"} == {r["outcome"] for r in results(out)}


def test_max_errors_stops_with_exit_5(tmp_path: Path) -> None:
    """--max-errors 2 stops a run of failing rows with exit 5 (not 3: the key is fine)."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        rows = [p.row(str(i), "update", "true") for i, p in enumerate(pairs[:30])]
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(
            job, sim.base_url, tmp_path / "run", "--max-errors", "2", "--concurrency", "1"
        )
        assert done.returncode == 5, done.stderr
        assert 2 <= len(results(tmp_path / "run")) < 30


def test_skip_invalid_records_invalid_rows_and_runs_the_rest(tmp_path: Path) -> None:
    """With --skip-invalid, bad rows get status invalid and good rows run; exit 1."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        rows = [
            pairs[0].row("good", "associate"),
            {**pairs[1].row("bad", "associate"), "object_type": "leed"},
        ]
        job = write_csv(tmp_path / "job.csv", rows)
        refused = run_cli(job, sim.base_url, tmp_path / "refused")
        assert refused.returncode == 2
        assert "object_type" in refused.stderr
        assert not [g for g in sim.stats()["by_group"] if not g.startswith("GET")]
        done = run_cli(job, sim.base_url, tmp_path / "run", "--skip-invalid")
        assert done.returncode == 1, done.stderr
        assert {"good": ("ok", "created"), "bad": ("invalid", "invalid")} == outcomes(
            tmp_path / "run"
        )


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    """--dry-run prints the plan (a `+` line per row to create) and sends no write."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "ensure") for i, p in enumerate(pairs[:3])]
        )
        done = run_cli(job, sim.base_url, tmp_path / "run", "--dry-run")
        assert done.returncode == 0, done.stderr
        assert [line[:10] for line in done.stdout.splitlines() if line.startswith("+")] == [
            '+ ensure "'
        ] * 3
        assert "3 to create" in done.stdout
        assert not [g for g in sim.stats()["by_group"] if not g.startswith("GET")]
        assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("key", ["api_target_key_1"])
def test_api_key_never_appears_in_output_or_files(tmp_path: Path, key: str) -> None:
    """Neither stdout, stderr nor any file of the run folder contains the API key."""
    with sim_process("--fault-rate", "0.2", "--rate-limit", "5") as sim:
        pairs = all_pairs(sim.state())
        job = write_csv(
            tmp_path / "job.csv",
            [p.row(str(i), "ensure", "true") for i, p in enumerate(pairs[:30])],
        )
        out = tmp_path / "run"
        done = run_cli(job, sim.base_url, out, "--log-format", "json", api_key=key)
        assert done.returncode == 0, done.stderr
        bad = run_cli(job, sim.base_url, tmp_path / "bad", api_key=BAD_KEY)
        texts = [done.stdout, done.stderr, bad.stdout, bad.stderr]
        texts += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
        assert [t for t in texts if key in t or BAD_KEY in t] == []


def test_max_duration_stops_with_exit_4_and_resume_finishes(tmp_path: Path) -> None:
    """--max-duration ends a slow run early with exit 4 (rows in flight finish and are
    recorded); rerunning finishes the job with one line per row."""
    with sim_process("--latency-ms", "100") as sim:
        pairs = all_pairs(sim.state())
        rows = [p.row(str(i), "associate") for i, p in enumerate(pairs[:40])]
        job = write_csv(tmp_path / "job.csv", rows)
        out = tmp_path / "run"
        window = run_cli(job, sim.base_url, out, "--max-duration", "1", "--concurrency", "2")
        assert window.returncode == 4, window.stderr
        assert 0 < len(results(out)) < 40
        rest = run_cli(job, sim.base_url, out)
        assert rest.returncode == 0, rest.stderr
        assert sorted(r["row"] for r in results(out)) == list(range(1, 41))


@pytest.mark.parametrize("example", ["onboarding.toml", "migration.jsonl"])
def test_shipped_examples_run_cleanly_against_the_simulators_target_org(
    tmp_path: Path, example: str
) -> None:
    """The README's example jobs resolve and run on the simulator's target org, every row ok."""
    job = Path(__file__).resolve().parents[2] / "data" / "examples" / example
    with sim_process() as sim:
        done = run_cli(job, sim.base_url, tmp_path / "run")
        assert done.returncode == 0, done.stderr
        assert {"ok"} == {r["status"] for r in results(tmp_path / "run")}
