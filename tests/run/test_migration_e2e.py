"""The migration of the issue, end to end with real processes: export the simulator's source org,
validate and plan against the target, run, compare the two orgs by name (field order included),
rerun with no write."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e import results, run_cli
from tests.simproc import SimProcess, sim_process

SOURCE_KEY = "api_source_key_1"
TARGET_KEY = "api_target_key_1"
SNAPSHOT_READS = 5  # me/, role/, custom_activity/, custom_object_type/, custom_field/shared/
ORDERED_OBJECTS = 10  # the source's objects with two or more shared fields: one order line each
REORDERED = 9  # of them, those whose order the target lacks (one PUT each)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m scf_batch ARGS` with only the given keys in the environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLOSE_")}
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", *args],
        env={**base, **env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def by_name(org: dict[str, Any]) -> dict[str, Any]:
    """An org's fields and associations with every id replaced by its name."""
    roles = {r["id"]: r["name"] for r in org["roles"]}
    types = {t["id"]: t["name"] for t in org["custom_activity_types"] + org["custom_object_types"]}
    fields: dict[str, Any] = {}
    for field in org["shared_custom_fields"]:
        associations = sorted(
            (
                a["object_type"],
                types.get(a.get("custom_activity_type_id") or a.get("custom_object_type_id"), ""),
                a["required"],
                tuple(sorted(roles.get(r, r) for r in a["editable_with_roles"])),
            )
            for a in field["associations"]
        )
        fields[field["name"]] = {
            "type": field["type"],
            "choices": field["choices"],
            "accepts_multiple_values": field["accepts_multiple_values"],
            "description": field["description"],
            "references": types.get(field.get("referenced_custom_type_id") or ""),
            "associations": associations,
        }
    return fields


def schema_orders(org: dict[str, Any], *, shared: bool) -> dict[str, list[str]]:
    """Each object's shared (or regular) fields in display order, by name (custom types by name),
    for the objects that have any."""
    fields = {f["id"]: f["name"] for f in org["shared_custom_fields"]}
    types = {t["id"]: t["name"] for t in org["custom_activity_types"] + org["custom_object_types"]}
    orders: dict[str, list[str]] = {}
    for schema in org["custom_field_schemas"]:
        kind, _, type_id = schema["object_type"].partition("/")
        key = f"{kind}/{types.get(type_id, type_id)}" if type_id else kind
        names = [fields.get(i, i) for i in schema["fields"] if (i in fields) is shared]
        if names:
            orders[key] = names
    return orders


def org_named(sim: SimProcess, name: str) -> dict[str, Any]:
    return next(org for org in sim.state()["orgs"] if org["name"] == name)


def writes(sim: SimProcess) -> dict[str, int]:
    applied: dict[str, int] = sim.stats()["writes_applied"]
    return applied


def test_export_then_replay_makes_the_target_equal_the_source_and_a_rerun_writes_nothing(
    tmp_path: Path,
) -> None:
    """export (source key in its own env var) -> validate --online -> plan -> run on the target:
    the target's fields, associations and shared-field order equal the source's by name, its
    regular fields keep their order; a rerun sends no write."""
    job = tmp_path / "migration.jsonl"
    with sim_process("--rate-limit", "20") as sim:
        base = ["--base-url", sim.base_url]
        exported = cli(
            "export",
            "-o",
            str(job),
            "--api-key-env",
            "CLOSE_SOURCE_KEY",
            *base,
            env={"CLOSE_SOURCE_KEY": SOURCE_KEY},
        )
        assert exported.returncode == 0, exported.stderr
        assert "25 field definition(s) and 48 association(s)" in exported.stdout
        target_env = {"CLOSE_API_KEY": TARGET_KEY}
        validated = cli("validate", str(job), "--online", *base, env=target_env)
        assert validated.returncode == 0, validated.stdout + validated.stderr
        planned = cli("plan", str(job), *base, env=target_env)
        assert planned.returncode == 0, planned.stderr
        lines = planned.stdout.splitlines()
        assert lines[:5] == [
            '~ field "Industry": choices [SaaS, Manufacturing, Retail] → '
            "[SaaS, Manufacturing, Retail, Healthcare, Finance]",
            '~ field "Health Score": description Customer health score → '
            "Customer health from 0 to 100",
            '+ field "Churn Risk" (choices: Low, Medium, High)',
            '+ field "Parent Contract" (custom_object → "Contract")',
            '+ field "Onboarding Owner" (user)',
        ]
        assert sum(line.startswith("+ ensure") for line in lines) == 48
        regular_before = schema_orders(org_named(sim, "Acme Target"), shared=False)
        sim.reset()  # count the run's requests alone
        run = run_cli(job, sim.base_url, tmp_path / "run", "--rate", "20")
        assert run.returncode == 0, run.stderr
        assert writes(sim) == {
            "POST custom_field/shared/": 3,
            "PUT custom_field/shared/{scf_id}/": 2,
            "POST custom_field/shared/{scf_id}/association/": 48,
            "PUT custom_field_schema/{object_type}/": REORDERED,
        }
        # nothing but the snapshot, the writes, each order row's read, and the read back of a PUT
        assert sim.stats()["total"] == SNAPSHOT_READS + 53 + ORDERED_OBJECTS + 2 * REORDERED
        target, source = org_named(sim, "Acme Target"), org_named(sim, "Acme Source")
        assert by_name(target) == by_name(source)
        assert schema_orders(target, shared=True) == schema_orders(source, shared=True)
        assert schema_orders(target, shared=False) == regular_before
        rows = 73 + ORDERED_OBJECTS
        assert sorted(r["row"] for r in results(tmp_path / "run")) == list(range(1, rows + 1))
        sim.reset()
        first = run_cli(job, sim.base_url, tmp_path / "again")
        assert first.returncode == 0, first.stderr
        before = sim.stats()["total"]
        rerun = run_cli(job, sim.base_url, tmp_path / "again")
        assert rerun.returncode == 0, rerun.stderr
        # the snapshot, and each order row's read of its object's schema: no write
        assert sim.stats()["total"] - before == SNAPSHOT_READS + ORDERED_OBJECTS
        assert {r["outcome"] for r in results(tmp_path / "again")} == {"unchanged"}


def test_exported_file_names_everything_by_name(tmp_path: Path) -> None:
    """The exported job holds no id: fields, types and roles are names or built-in slugs."""
    job = tmp_path / "m.jsonl"
    with sim_process() as sim:
        done = cli(
            "export", "-o", str(job), "--base-url", sim.base_url, env={"CLOSE_API_KEY": SOURCE_KEY}
        )
    assert done.returncode == 0, done.stderr
    text = job.read_text(encoding="utf-8")
    assert re.findall(r"\b(?:cf|role|actitype|cotype|orga)_[0-9A-Za-z]{20,}", text) == []
    records = [json.loads(line) for line in text.splitlines()]
    assert [r.get("define") for r in records[:25]] == ["field"] * 25
    assert {r["action"] for r in records[25:73]} == {"ensure"}
    assert [r.get("define") for r in records[73:]] == ["order"] * ORDERED_OBJECTS
