"""State-aware runs end to end: drift repaired, plans, labels under faults, the org pin, the
delete guard and the pass history; the CLI and the simulator as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import (
    Pair,
    all_pairs,
    associations,
    call_api,
    cli_env,
    field_id,
    outcomes,
    results,
    run_cli,
    target_org,
    write_csv,
    writes_sent,
)
from tests.simproc import SimProcess, sim_process

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator

SOURCE_KEY = "api_source_key_1"


def plan_cli(
    job: Path, sim: SimProcess, *extra: str, api_key: str = "api_target_key_1"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", "plan", str(job), "--base-url", sim.base_url, *extra],
        env=cli_env(api_key),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assoc_path(sim: SimProcess, pair: Pair) -> str:
    """The association's URL path for a pair of the target org (lead, contact, opportunity)."""
    return (
        f"custom_field/shared/{field_id(sim.state(), pair.field)}/association/{pair.object_type}/"
    )


def test_drift_is_repaired_by_the_next_run_and_the_last_pass_is_kept(tmp_path: Path) -> None:
    """An ensure job run to the end, then drifted by hand (two associations removed, one
    changed): the same command starts pass 2, sends exactly the three repairing writes and
    records every other row unchanged with no request; pass 1 stays in history/."""
    with sim_process() as sim:
        pairs = [p for p in all_pairs(sim.state()) if not p.type_name][:20]
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "ensure", "false") for i, p in enumerate(pairs)]
        )
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out).returncode == 0
        assert call_api(sim.base_url, "DELETE", assoc_path(sim, pairs[3]))[0] == 204
        assert call_api(sim.base_url, "DELETE", assoc_path(sim, pairs[7]))[0] == 204
        assert (
            call_api(sim.base_url, "PUT", assoc_path(sim, pairs[11]), {"required": True})[0] == 200
        )
        before = writes_sent(sim.stats())
        again = run_cli(job, sim.base_url, out)
        assert again.returncode == 0, again.stderr
        after = writes_sent(sim.stats())
        sent = {g: n - before.get(g, 0) for g, n in after.items() if n != before.get(g, 0)}
        assert sent == {
            "POST custom_field/shared/{scf_id}/association/": 2,
            "PUT custom_field/shared/{scf_id}/association/{object_type}/": 1,
        }
        got = outcomes(out)
        assert (got["3"], got["7"], got["11"]) == (
            ("ok", "created"),
            ("ok", "created"),
            ("ok", "updated"),
        )
        unchanged = [r for r in results(out) if r["key"] not in ("3", "7", "11")]
        assert {(r["outcome"], r["requests"]) for r in unchanged} == {("unchanged", 0)}
        assert "pass      2 (the last pass had finished)" in again.stdout
        assert len((out / "history" / "pass-1" / "results.jsonl").read_text().splitlines()) == 20
        summary = json.loads((out / "summary.json").read_text())
        assert (summary["pass"], summary["org"]["name"]) == (2, "Acme Target")


def test_rerunning_a_finished_job_sends_no_write_when_nothing_drifted(tmp_path: Path) -> None:
    """The guarantee: rerunning a finished job sends no write unless the org drifted."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())[:15]
        job = write_csv(
            tmp_path / "job.csv", [p.row(str(i), "ensure", "true") for i, p in enumerate(pairs)]
        )
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out).returncode == 0
        before = writes_sent(sim.stats())
        for _ in range(2):
            assert run_cli(job, sim.base_url, out).returncode == 0
        assert writes_sent(sim.stats()) == before
        assert {r["outcome"] for r in results(out)} == {"unchanged"}


def test_plan_shows_what_would_change_and_exit_code_says_whether(tmp_path: Path) -> None:
    """plan of the shipped migration on the target org: the 3 fields it lacks to create and
    2 to bring in line come first, then a `+` line per association; exit 1 with --exit-code;
    after the run the same plan changes nothing and exits 0."""
    job = Path(__file__).resolve().parents[2] / "data" / "examples" / "migration.jsonl"
    rows = len(job.read_text().splitlines())
    ensures = job.read_text().count('"action": "ensure"')
    with sim_process() as sim:
        planned = plan_cli(job, sim, "--exit-code")
        assert planned.returncode == 1, planned.stderr
        signs = [line.split('"')[0] for line in planned.stdout.splitlines()[:-1]]
        first_ensure = signs.index("+ ensure ")
        assert sorted(signs[:first_ensure]) == ["+ field "] * 3 + ["~ field "] * 2
        assert signs[first_ensure:] == ["+ ensure "] * ensures
        assert f"{3 + ensures} to create, 2 to update, 0 to delete" in planned.stdout
        assert writes_sent(sim.stats()) == {}
        assert run_cli(job, sim.base_url, tmp_path / "run").returncode == 0
        after = plan_cli(job, sim, "--exit-code", "--format", "json")
        assert after.returncode == 0, after.stderr
        last = json.loads(after.stdout.splitlines()[-1])
        assert last["summary"]["by_step"]["nothing"] == rows
        assert last["summary"]["changes"] == 0


def test_plan_of_the_shipped_onboarding_example(tmp_path: Path) -> None:
    """The onboarding example on the fresh target org: a `+` line per associate row, and its
    update row planned against what the earlier rows leave (`~`)."""
    job = Path(__file__).resolve().parents[2] / "data" / "examples" / "onboarding.toml"
    with sim_process() as sim:
        planned = plan_cli(job, sim)
        assert planned.returncode == 0, planned.stderr
        lines = planned.stdout.splitlines()
        assert [line[0] for line in lines[:-1]] == ["+"] * 12 + ["~"]
        assert lines[12].startswith('~ update "Account Owner" → lead: editable_with_roles')
        assert lines[-1].startswith('plan on "Acme Target"')


def test_pairs_that_existed_before_the_run_are_never_reported_created_under_faults(
    tmp_path: Path,
) -> None:
    """With a third of requests failing (some after applying), rows whose pair existed before
    the run end unchanged or updated, never created; new pairs end created, none twice."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())[:40]
        seed = write_csv(
            tmp_path / "seed.csv", [p.row(str(i), "associate") for i, p in enumerate(pairs[:20])]
        )
        assert run_cli(seed, sim.base_url, tmp_path / "seed").returncode == 0
        sim.configure(fault_rate=0.3)
        rows = [
            p.row(f"old-{i}", "ensure", "true" if i % 2 else "false")
            for i, p in enumerate(pairs[:20])
        ]
        rows += [p.row(f"new-{i}", "ensure", "true") for i, p in enumerate(pairs[20:])]
        job = write_csv(tmp_path / "job.csv", rows)
        done = run_cli(job, sim.base_url, tmp_path / "run", "--max-retries", "10")
        assert done.returncode == 0, done.stderr
        got = outcomes(tmp_path / "run")
        old = {got[f"old-{i}"][1] for i in range(20)}
        assert old <= {"unchanged", "updated"}, old
        assert {got[f"new-{i}"][1] for i in range(20)} == {"created"}
        assert len(associations(sim.state())) == 40


def test_a_job_pinned_to_one_org_refuses_a_key_of_another_with_nothing_sent(
    tmp_path: Path,
) -> None:
    """organization_id in the spec and the source org's key: exit 2 naming the key's org."""
    with sim_process() as sim:
        org_id = target_org(sim.state())["id"]
        pairs = all_pairs(sim.state())
        write_csv(tmp_path / "job.csv", [pairs[0].row("a", "associate")])
        spec = tmp_path / "job.toml"
        spec.write_text(f'operations = "job.csv"\norganization_id = "{org_id}"\n')
        refused = run_cli(spec, sim.base_url, tmp_path / "run", api_key=SOURCE_KEY)
        assert refused.returncode == 2
        said = json.loads(refused.stderr.splitlines()[-1])["error"]  # off a terminal: the summary
        assert '"Acme Source"' in said
        assert org_id in said
        assert writes_sent(sim.stats()) == {}
        assert run_cli(spec, sim.base_url, tmp_path / "run").returncode == 0


def test_deletes_are_refused_without_allow_delete_and_nothing_is_sent(tmp_path: Path) -> None:
    """A plan that deletes refuses to start (exit 2) listing the delete; --allow-delete runs
    it; a disassociate that finds nothing to delete needs no permission."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        seed = write_csv(tmp_path / "seed.csv", [pairs[0].row("s", "associate")])
        assert run_cli(seed, sim.base_url, tmp_path / "seed").returncode == 0
        job = write_csv(
            tmp_path / "job.csv",
            [pairs[0].row("d", "disassociate"), pairs[1].row("absent", "disassociate")],
        )
        before = writes_sent(sim.stats())
        refused = run_cli(job, sim.base_url, tmp_path / "run")
        assert refused.returncode == 2
        assert f'- disassociate "{pairs[0].field}" → lead' in refused.stderr
        assert "--allow-delete" in refused.stderr
        assert writes_sent(sim.stats()) == before
        done = run_cli(job, sim.base_url, tmp_path / "run", "--allow-delete")
        assert done.returncode == 0, done.stderr
        assert outcomes(tmp_path / "run") == {
            "d": ("ok", "deleted"),
            "absent": ("ok", "not_associated"),
        }
        nothing = write_csv(tmp_path / "none.csv", [pairs[2].row("n", "disassociate")])
        assert run_cli(nothing, sim.base_url, tmp_path / "none").returncode == 0
