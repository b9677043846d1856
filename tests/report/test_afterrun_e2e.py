"""After a run, end to end: `retry`, `run --retry-failed` and `report` (with --csv) as real
subprocesses against the simulator as a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import Pair, all_pairs, cli_env, outcomes, results, run_cli, write_csv
from tests.simproc import SimProcess, sim_process

pytestmark = pytest.mark.slow  # real subprocesses: the CLI and the simulator

PUT = "PUT custom_field/shared/{scf_id}/association/{object_type}/"
POST = "POST custom_field/shared/{scf_id}/association/"


def scf_batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def job_with_two_failures(tmp_path: Path, pairs: list[Pair]) -> Path:
    """Three creates and two updates of pairs not associated yet (failed, not_associated); one
    of the failing rows has no key."""
    rows = [
        pairs[0].row("a", "associate"),
        pairs[1].row("", "update", "true"),
        pairs[2].row("c", "associate", "false", "admin"),
        pairs[3].row("d", "update", "true", "admin"),
        pairs[4].row("e", "associate"),
    ]
    return write_csv(tmp_path / "job.csv", rows)


def fix_the_cause(sim: SimProcess, tmp_path: Path, pairs: list[Pair]) -> None:
    """Associate the pairs the updates need, from another run folder."""
    fix = write_csv(
        tmp_path / "fix.csv", [pairs[1].row("f1", "associate"), pairs[3].row("f3", "associate")]
    )
    assert run_cli(fix, sim.base_url, tmp_path / "fix").returncode == 0


def writes(sim: SimProcess) -> dict[str, int]:
    return {g: sum(s.values()) for g, s in sim.stats()["by_group"].items() if g.startswith("P")}


def test_retry_file_round_trips_through_validate_and_run(tmp_path: Path) -> None:
    """`retry` writes the failed rows (keys kept, `line-N` for the one without), in CSV and in
    JSONL; `validate` accepts both and `run` of one turns the rows ok once the cause is fixed."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        out = tmp_path / "run"
        assert run_cli(job_with_two_failures(tmp_path, pairs), sim.base_url, out).returncode == 1
        for name in ("retry.csv", "retry.jsonl"):
            made = scf_batch("retry", str(out), "-o", str(tmp_path / name))
            assert made.returncode == 0, made.stderr
            assert "2 row(s) of pass 1" in made.stdout
            checked = scf_batch("validate", str(tmp_path / name))
            assert checked.returncode == 0, checked.stdout + checked.stderr
        with (tmp_path / "retry.csv").open(newline="", encoding="utf-8") as handle:
            table = list(csv.DictReader(handle))
        assert [("line-3", "update", "true", ""), ("d", "update", "true", "admin")] == [
            (r["key"], r["action"], r["required"], r["editable_with_roles"]) for r in table
        ]
        jsonl = [json.loads(line) for line in (tmp_path / "retry.jsonl").read_text().splitlines()]
        assert [("line-3", True), ("d", True)] == [(r["key"], r["required"]) for r in jsonl]
        fix_the_cause(sim, tmp_path, pairs)
        again = run_cli(tmp_path / "retry.jsonl", sim.base_url, tmp_path / "retry-run")
        assert again.returncode == 0, again.stderr
        assert {"line-3": ("ok", "updated"), "d": ("ok", "updated")} == outcomes(
            tmp_path / "retry-run"
        )


def test_retry_failed_reruns_only_the_failed_rows_in_the_same_pass(tmp_path: Path) -> None:
    """After the cause is fixed, `run --retry-failed` turns the failed rows ok, sends nothing
    for the others (their lines stay as they were), and keeps one line per row in pass 1; the
    pass's summary adds up both runs' requests and time."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = job_with_two_failures(tmp_path, pairs)
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out).returncode == 1
        first = json.loads((out / "summary.json").read_text())
        assert (first["requests"], first["runs"]) == (sim.stats()["total"], 1)
        kept = {r["row"]: r for r in results(out) if r["status"] == "ok"}
        fix_the_cause(sim, tmp_path, pairs)
        before, sent_before = writes(sim), sim.stats()["total"]
        again = run_cli(job, sim.base_url, out, "--retry-failed")
        sent = sim.stats()["total"] - sent_before
        summary = json.loads((out / "summary.json").read_text())
        assert (first["requests"] + sent, 2) == (summary["requests"], summary["runs"])
        assert summary["elapsed_s"] >= first["elapsed_s"]
        assert sum(s["requests"] for s in summary["timeline"]) == summary["requests"]
        assert again.returncode == 0, again.stderr
        assert "(3 before this run)" in again.stdout
        after = writes(sim)
        assert (before[POST], before.get(PUT, 0) + 2) == (after[POST], after[PUT])
        lines = results(out)
        assert [1, 2, 3, 4, 5] == sorted(r["row"] for r in lines)
        assert kept == {r["row"]: r for r in lines if r["row"] in kept}
        assert {2: ("ok", "updated"), 4: ("ok", "updated")} == {
            r["row"]: (r["status"], r["outcome"]) for r in lines if r["row"] not in kept
        }
        checkpoint = json.loads((out / "checkpoint.json").read_text())
        assert (1, True) == (checkpoint["pass"], checkpoint["complete"])
        assert not (out / "history").exists()


def test_report_of_an_old_pass_lists_its_failed_rows_and_writes_the_results_csv(
    tmp_path: Path,
) -> None:
    """After a second pass, `report --pass 1` shows pass 1 with its failed rows, and `--csv`
    echoes the input's columns with each row's verdict, in input order; `report` alone shows
    the last pass."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = job_with_two_failures(tmp_path, pairs)
        out = tmp_path / "run"
        assert run_cli(job, sim.base_url, out).returncode == 1
        assert run_cli(job, sim.base_url, out).returncode == 1  # pass 2: same failures
        old = scf_batch("report", str(out), "--pass", "1", "--csv", str(tmp_path / "r.csv"))
        assert old.returncode == 0, old.stderr
        assert "  pass      1, started " in old.stdout
        assert "    line 3: failed not_associated: " in old.stdout
        assert "    line 5 key d: failed not_associated: " in old.stdout
        assert str(out / "history" / "pass-1" / "results.jsonl") in old.stdout
        with (tmp_path / "r.csv").open(newline="", encoding="utf-8") as handle:
            table: list[dict[str, Any]] = list(csv.DictReader(handle))
        with job.open(newline="", encoding="utf-8") as handle:
            source = list(csv.DictReader(handle))
        assert source == [{k: v for k, v in r.items() if k in source[0]} for r in table]
        assert ["created", "not_associated", "created", "not_associated", "created"] == [
            r["outcome"] for r in table
        ]
        assert "nothing to update" in table[1]["error"]
        last = scf_batch("report", str(out))
        assert "  pass      2, started " in last.stdout


def test_results_csv_of_a_jsonl_input_has_the_operations_columns(tmp_path: Path) -> None:
    """A JSONL input's results CSV has every operations column, filled from each object."""
    with sim_process() as sim:
        pairs = all_pairs(sim.state())
        job = tmp_path / "job.jsonl"
        job.write_text(
            json.dumps(
                {
                    "key": "a",
                    "scf_name": pairs[0].field,
                    "object_type": "lead",
                    "required": True,
                    "editable_with_roles": ["admin"],
                }
            )
            + "\n"
        )
        assert run_cli(job, sim.base_url, tmp_path / "run").returncode == 0
        made = scf_batch("report", str(tmp_path / "run"), "--csv", str(tmp_path / "r.csv"))
        assert made.returncode == 0, made.stderr
        with (tmp_path / "r.csv").open(newline="", encoding="utf-8") as handle:
            (row,) = list(csv.DictReader(handle))
        assert ("a", "lead", "true", '["admin"]', "ok", "created", "") == (
            row["key"],
            row["object_type"],
            row["required"],
            row["editable_with_roles"],
            row["status"],
            row["outcome"],
            row["error"],
        )
        assert "custom_object_type_name" in row
