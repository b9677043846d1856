"""Saved plans end to end: plan -o, review, run PLAN.json; refused when stale, sent once, shown
from the file; the CLI and the simulator as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from scf_batch.redact import secret_forms
from tests.e2e import (
    TARGET_KEY,
    Pair,
    all_pairs,
    associations,
    call_api,
    cli_env,
    field_id,
    run_cli,
    write_csv,
    writes_sent,
)
from tests.simproc import SimProcess, sim_process
from tests.test_redact import forms_of

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator

SOURCE_KEY = "api_source_key_1"
CREATE = "POST custom_field/shared/{scf_id}/association/"
UPDATE = "PUT custom_field/shared/{scf_id}/association/{object_type}/"
DELETE = "DELETE custom_field/shared/{scf_id}/association/{object_type}/"


def cli(sim: SimProcess, *args: str, api_key: str = TARGET_KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", *args, "--base-url", sim.base_url],
        env=cli_env(api_key),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assoc_path(sim: SimProcess, pair: Pair) -> str:
    return (
        f"custom_field/shared/{field_id(sim.state(), pair.field)}/association/{pair.object_type}/"
    )


def builtin_pairs(sim: SimProcess) -> list[Pair]:
    """Pairs of the target org on lead, contact, opportunity: the first 3 associated already
    (seeded by a run), the rest not."""
    return [p for p in all_pairs(sim.state()) if not p.type_name]


def seeded(sim: SimProcess, tmp_path: Path, pairs: list[Pair]) -> None:
    seed = write_csv(
        tmp_path / "seed.csv", [p.row(f"s{i}", "associate") for i, p in enumerate(pairs)]
    )
    assert run_cli(seed, sim.base_url, tmp_path / "seed").returncode == 0


def sent_since(sim: SimProcess, before: dict[str, int]) -> dict[str, int]:
    after = writes_sent(sim.stats())
    return {g: n - before.get(g, 0) for g, n in after.items() if n != before.get(g, 0)}


def planned(sim: SimProcess, tmp_path: Path, job: Path) -> Path:
    plan = tmp_path / "change.json"
    made = cli(sim, "plan", str(job), "-o", str(plan))
    assert made.returncode == 0, made.stderr
    return plan


def apply(
    sim: SimProcess, plan: Path, out: Path, *extra: str, api_key: str = TARGET_KEY
) -> subprocess.CompletedProcess[str]:
    return run_cli(plan, sim.base_url, out, *extra, api_key=api_key)


def test_plan_review_apply_round_trip_sends_exactly_the_plans_steps(tmp_path: Path) -> None:
    """A job of creates, an update, a delete and rows with nothing to do: `plan PLAN.json`
    shows what `plan` printed, `run PLAN.json --allow-delete` sends one write per step of the
    plan (counted by the simulator), a rerun says it was applied and sends nothing, and the
    file holds no form of the key."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        seeded(sim, tmp_path, pairs[:3])
        rows = [
            pairs[0].row("same", "ensure", "false"),
            pairs[1].row("upd", "ensure", "true"),
            pairs[2].row("del", "disassociate"),
            *(p.row(f"new{i}", "ensure", "true") for i, p in enumerate(pairs[3:7])),
        ]
        job = write_csv(tmp_path / "job.csv", rows)
        printed = cli(sim, "plan", str(job))
        plan = planned(sim, tmp_path, job)
        document = json.loads(plan.read_text())
        kinds = sorted(step["kind"] for step in document["steps"])
        assert kinds == ["create"] * 4 + ["delete", "update"]
        shown = cli(sim, "plan", str(plan))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.splitlines()[1:] == printed.stdout.splitlines()
        text = plan.read_text()
        forms = {*forms_of(TARGET_KEY), *secret_forms(TARGET_KEY)}
        assert [form for form in forms if form in text] == []

        before = writes_sent(sim.stats())
        out = tmp_path / "run"
        done = apply(sim, plan, out, "--allow-delete")
        assert done.returncode == 0, done.stderr
        groups = {"create": CREATE, "update": UPDATE, "delete": DELETE}
        steps = Counter(groups[step["kind"]] for step in document["steps"])
        assert sent_since(sim, before) == steps
        again = apply(sim, plan, out, "--allow-delete")
        assert again.returncode == 0, again.stderr
        assert "applied already" in again.stdout
        assert str(out) in again.stdout
        assert sent_since(sim, before) == steps
        assert len(list((out / "history").glob("pass-*"))) == 0  # no second pass


def test_a_pair_changed_after_the_plan_refuses_it_with_nothing_written(tmp_path: Path) -> None:
    """A pair the plan updates, changed by hand after the plan: exit 2 naming the pair, no
    write sent."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        seeded(sim, tmp_path, pairs[:1])
        job = write_csv(
            tmp_path / "job.csv",
            [pairs[0].row("a", "ensure", "true"), pairs[5].row("b", "ensure", "true")],
        )
        plan = planned(sim, tmp_path, job)
        assert (
            call_api(sim.base_url, "PUT", assoc_path(sim, pairs[0]), {"required": True})[0] == 200
        )
        before = writes_sent(sim.stats())
        refused = apply(sim, plan, tmp_path / "run")
        assert refused.returncode == 2
        said = json.loads(refused.stderr.splitlines()[-1])["error"]
        assert "the plan is stale" in said
        assert f'"{pairs[0].field}" → {pairs[0].object_type}: planned from' in said
        assert f'"{pairs[5].field}"' not in said
        assert sent_since(sim, before) == {}


def test_a_change_to_a_pair_the_job_does_not_name_leaves_the_plan_fresh(tmp_path: Path) -> None:
    """Another pair (no row names it) associated by hand after the plan: the plan applies."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        job = write_csv(tmp_path / "job.csv", [pairs[0].row("a", "ensure", "true")])
        plan = planned(sim, tmp_path, job)
        other = pairs[8]
        body = {"object_type": other.object_type, "required": False}
        path = f"custom_field/shared/{field_id(sim.state(), other.field)}/association/"
        assert call_api(sim.base_url, "POST", path, body)[0] in (200, 201)
        before = writes_sent(sim.stats())
        done = apply(sim, plan, tmp_path / "run")
        assert done.returncode == 0, done.stderr
        assert sent_since(sim, before) == {CREATE: 1}
        assert pairs[0] in associations(sim.state())


def test_the_job_file_edited_after_the_plan_refuses_it(tmp_path: Path) -> None:
    """The operations file changed since the plan (one more row): exit 2, nothing sent."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        job = write_csv(tmp_path / "job.csv", [pairs[0].row("a", "ensure", "true")])
        plan = planned(sim, tmp_path, job)
        write_csv(job, [pairs[0].row("a", "ensure", "true"), pairs[1].row("b", "ensure")])
        refused = apply(sim, plan, tmp_path / "run")
        assert refused.returncode == 2
        assert "the operations file changed since the plan" in refused.stderr
        assert writes_sent(sim.stats()) == {}


def test_the_delete_guard_and_the_plans_org_apply_as_in_a_run(tmp_path: Path) -> None:
    """A plan that deletes refuses without --allow-delete; a key of another org than the
    plan's refuses too; nothing is sent by either."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        seeded(sim, tmp_path, pairs[:1])
        job = write_csv(tmp_path / "job.csv", [pairs[0].row("a", "disassociate")])
        plan = planned(sim, tmp_path, job)
        before = writes_sent(sim.stats())
        refused = apply(sim, plan, tmp_path / "run")
        assert refused.returncode == 2
        assert "the plan deletes 1 association(s) or field(s)" in refused.stderr
        other = apply(sim, plan, tmp_path / "other", "--allow-delete", api_key=SOURCE_KEY)
        assert other.returncode == 2
        assert "the plan was made for the org" in other.stderr
        assert sent_since(sim, before) == {}


def test_a_plan_stopped_part_way_continues_from_where_it_was_planned(tmp_path: Path) -> None:
    """A plan's run stopped after 2 writes (--limit, exit 4) is not stale by its own writes:
    the rerun continues the pass from the state the plan was made from, sends the other 3
    steps, and then the plan is applied."""
    with sim_process() as sim:
        pairs = builtin_pairs(sim)
        job = write_csv(
            tmp_path / "job.csv",
            [p.row(f"n{i}", "ensure", "true") for i, p in enumerate(pairs[:5])],
        )
        plan = planned(sim, tmp_path, job)
        out = tmp_path / "run"
        stopped = apply(sim, plan, out, "--limit", "2", "--concurrency", "1")
        assert stopped.returncode == 4, stopped.stderr
        assert "applied" not in stopped.stdout
        assert writes_sent(sim.stats()) == {CREATE: 2}
        rest = apply(sim, plan, out)
        assert rest.returncode == 0, rest.stderr
        assert writes_sent(sim.stats()) == {CREATE: 5}
        again = apply(sim, plan, out)
        assert (again.returncode, "applied already" in again.stdout) == (0, True)


def test_a_plan_with_field_definitions_applies_one_write_per_step(tmp_path: Path) -> None:
    """The shipped migration (fields created and updated, associations on them and on the
    fields it creates): one write per step of the plan, by kind, and nothing more."""
    job = Path(__file__).resolve().parents[2] / "data" / "examples" / "migration.jsonl"
    with sim_process() as sim:
        plan = planned(sim, tmp_path, job)
        steps = json.loads(plan.read_text())["steps"]
        fields = Counter(s["kind"] for s in steps if s["action"] == "define field")
        pairs = Counter(s["kind"] for s in steps if s["action"] != "define field")
        assert (fields["create"], fields["update"]) == (3, 2)
        done = apply(sim, plan, tmp_path / "run")
        assert done.returncode == 0, done.stderr
        assert writes_sent(sim.stats()) == {
            "POST custom_field/shared/": fields["create"],
            "PUT custom_field/shared/{scf_id}/": fields["update"],
            CREATE: pairs["create"],
        }
        assert sum(pairs.values()) == pairs["create"] > 0
