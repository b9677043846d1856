"""`undo` end to end on the simulator: a mixed pass undone brings the org back to the pass's
snapshot by name; a pair changed since the pass is left alone and reported."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import call_api, cli_env, field_id, run_cli, target_org
from tests.simproc import SimProcess, sim_process

SETUP: list[dict[str, Any]] = [
    {"action": "associate", "scf_name": "Industry", "object_type": "lead"},
    {
        "action": "associate",
        "scf_name": "Plan",
        "object_type": "contact",
        "required": True,
        "editable_with_roles": ["Sales Manager"],
    },
    {
        "action": "associate",
        "scf_name": "Seats",
        "object_type": "opportunity",
        "required": True,
        "editable_with_roles": ["admin"],
    },
    {
        "action": "associate",
        "scf_name": "Health Score",
        "object_type": "custom_object_type",
        "custom_object_type_name": "Subscription",
    },
]
MIXED: list[dict[str, Any]] = [
    {"define": "field", "scf_name": "Renewal Risk", "type": "choices", "choices": ["Low", "High"]},
    {
        "define": "field",
        "scf_name": "Industry",
        "type": "choices",
        "choices": ["SaaS", "Manufacturing", "Retail", "Finance"],
        "description": "Changed by the pass",
    },
    {"action": "associate", "scf_name": "Renewal Risk", "object_type": "lead", "required": True},
    {
        "action": "associate",
        "scf_name": "Decision Maker",
        "object_type": "contact",
        "editable_with_roles": ["admin"],
    },
    {
        "action": "update",
        "scf_name": "Industry",
        "object_type": "lead",
        "required": True,
        "editable_with_roles": ["Support"],
    },
    {"action": "update", "scf_name": "Plan", "object_type": "contact", "required": False},
    {"action": "disassociate", "scf_name": "Seats", "object_type": "opportunity"},
    {
        "action": "disassociate",
        "scf_name": "Health Score",
        "object_type": "custom_object_type",
        "custom_object_type_name": "Subscription",
    },
    {"action": "disassociate", "scf_name": "Seats", "object_type": "lead"},
]


@pytest.fixture
def sim() -> Iterator[SimProcess]:
    """A simulator of the default seed for each test (both write)."""
    with sim_process() as process:
        yield process


def write_job(path: Path, records: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def scf_batch(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process, with the target org's key."""
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def by_name(org: Mapping[str, Any], fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fields by name: type, description, choices, and each association's settings by name."""
    roles = {r["id"]: r["name"] for r in org["roles"]}
    types = {t["id"]: t["name"] for t in org["custom_activity_types"]}
    types |= {t["id"]: t["name"] for t in org["custom_object_types"]}
    view = {}
    for scf in fields:
        pairs = {}
        for assoc in scf.get("associations") or ():
            type_id = assoc.get("custom_activity_type_id") or assoc.get("custom_object_type_id")
            target = assoc["object_type"] + (f" {types[type_id]}" if type_id else "")
            shown = sorted(roles.get(r, r) for r in assoc.get("editable_with_roles") or ())
            pairs[target] = (bool(assoc.get("required")), shown)
        choices = list(scf.get("choices") or ())
        view[scf["name"]] = (scf["type"], scf.get("description") or "", choices, pairs)
    return view


def undo_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_undo_of_a_mixed_pass_brings_the_org_back_to_the_pass_snapshot(
    sim: SimProcess, tmp_path: Path
) -> None:
    """Creates, updates, deletes, a field created and one updated: the undo job, run with
    --allow-delete, leaves every field and association as the pass's snapshot holds them (by
    name); the two re-associations are the lines labelled irreversible (their values are gone)."""
    setup = run_cli(write_job(tmp_path / "setup.jsonl", SETUP), sim.base_url, tmp_path / "setup")
    assert 0 == setup.returncode, setup.stderr
    out = tmp_path / "out"
    job = write_job(tmp_path / "mixed.jsonl", MIXED)
    assert 0 == run_cli(job, sim.base_url, out, "--allow-delete").returncode
    snapshot = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    undo = tmp_path / "undo.jsonl"

    written = scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url)
    plan = scf_batch("plan", str(undo), "--base-url", sim.base_url)
    again = run_cli(undo, sim.base_url, tmp_path / "undone", "--allow-delete")

    assert (0, 0) == (written.returncode, again.returncode), written.stderr + again.stderr
    labels = {(r.get("scf_name"), r.get("object_type")): r["undo"] for r in undo_lines(undo)}
    assert {
        ("Renewal Risk", None): "lossy",
        ("Industry", None): "reversible",
        ("Decision Maker", "contact"): "lossy",
        ("Industry", "lead"): "reversible",
        ("Plan", "contact"): "reversible",
        ("Seats", "opportunity"): "irreversible",
        ("Health Score", "custom_object_type"): "irreversible",
    } == labels
    assert '- field "Renewal Risk"   DELETES the field and every value stored in it' in plan.stdout
    assert "[irreversible: the values the pass deleted are gone]" in plan.stdout
    org = target_org(sim.state())
    assert by_name(org, snapshot["fields"]) == by_name(org, org["shared_custom_fields"])


def test_the_undo_of_an_undo_brings_back_what_the_pass_had_made(
    sim: SimProcess, tmp_path: Path
) -> None:
    """Undoing the undo pass (a field deleted, pairs deleted, created and updated) leaves the
    org as the mixed pass left it, by name: the deleted field is made again with its pair."""
    assert (
        0
        == run_cli(write_job(tmp_path / "s.jsonl", SETUP), sim.base_url, tmp_path / "s").returncode
    )
    out = tmp_path / "out"
    mixed = write_job(tmp_path / "m.jsonl", MIXED)
    assert 0 == run_cli(mixed, sim.base_url, out, "--allow-delete").returncode
    org = target_org(sim.state())
    after_pass = by_name(org, org["shared_custom_fields"])
    undo, redo = tmp_path / "undo.jsonl", tmp_path / "redo.jsonl"
    assert 0 == scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url).returncode
    undone = tmp_path / "undone"
    assert 0 == run_cli(undo, sim.base_url, undone, "--allow-delete").returncode

    written = scf_batch("undo", str(undone), "-o", str(redo), "--base-url", sim.base_url)
    again = run_cli(redo, sim.base_url, tmp_path / "redone", "--allow-delete")

    assert (0, 0) == (written.returncode, again.returncode), written.stderr + again.stderr
    recreated = [r for r in undo_lines(redo) if r.get("scf_name") == "Renewal Risk"]
    assert [("field", "irreversible"), ("lead", "irreversible")] == [
        (r.get("object_type", "field"), r["undo"]) for r in recreated
    ]
    org = target_org(sim.state())
    assert after_pass == by_name(org, org["shared_custom_fields"])


def test_an_undo_leaves_a_pair_changed_since_the_pass_and_says_so(
    sim: SimProcess, tmp_path: Path
) -> None:
    """A pair someone set `required` on after the pass is reported on stderr and not written;
    the pair no one touched is undone."""
    out = tmp_path / "out"
    job = write_job(tmp_path / "job.jsonl", SETUP[:2])
    assert 0 == run_cli(job, sim.base_url, out).returncode
    plan_id = field_id(sim.state(), "Plan")
    path = f"custom_field/shared/{plan_id}/association/contact/"
    assert 200 == call_api(sim.base_url, "PUT", path, {"required": False})[0]
    undo = tmp_path / "undo.jsonl"

    written = scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url)

    assert 0 == written.returncode, written.stderr
    assert (
        'left alone: "Plan" → contact: required is now false, the pass left true' in written.stderr
    )
    assert [("disassociate", "Industry", "lead", "lossy")] == [
        (r["action"], r["scf_name"], r["object_type"], r["undo"]) for r in undo_lines(undo)
    ]
    assert "(0 reversible, 1 lossy, 0 irreversible); 1 left alone" in written.stdout


def test_a_pass_without_its_snapshot_or_a_pass_not_kept_is_exit_2_naming_it(
    sim: SimProcess, tmp_path: Path
) -> None:
    """No snapshot.json: exit 2 naming that file; --pass of a pass the folder lacks: exit 2
    listing the kept ones. Nothing is written either way."""
    out = tmp_path / "out"
    assert 0 == run_cli(write_job(tmp_path / "job.jsonl", SETUP[:1]), sim.base_url, out).returncode
    undo = tmp_path / "undo.jsonl"
    missing = scf_batch(
        "undo", str(out), "--pass", "2", "-o", str(undo), "--base-url", sim.base_url
    )
    (out / "snapshot.json").unlink()
    bare = scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url)
    assert (2, 2, False) == (missing.returncode, bare.returncode, undo.exists())
    assert "--pass 2: found no such pass" in missing.stderr
    assert f"{out / 'snapshot.json'}: not found" in bare.stderr


def test_a_protected_pair_survives_an_undo(sim: SimProcess, tmp_path: Path) -> None:
    """A pass associates "Industry" → lead; its undo asks to disassociate it; run under a spec
    whose `protect` names the pair (even with allow_delete) that row fails `protected`, nothing
    is sent for it and the pair stays; the undo's other rows run."""
    job = write_job(
        tmp_path / "pass.jsonl",
        [
            {"action": "associate", "scf_name": "Industry", "object_type": "lead"},
            {"action": "associate", "scf_name": "Plan", "object_type": "contact"},
        ],
    )
    out = tmp_path / "pass"
    assert 0 == run_cli(job, sim.base_url, out).returncode
    undo = tmp_path / "undo.jsonl"
    made = scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url)
    assert made.returncode == 0, made.stderr
    spec = tmp_path / "undo.toml"
    spec.write_text(
        'operations = "undo.jsonl"\nallow_delete = true\nprotect = ["Industry → lead"]\n',
        encoding="utf-8",
    )
    undone = tmp_path / "undone"
    ran = run_cli(spec, sim.base_url, undone)
    assert ran.returncode == 1, ran.stderr
    results = {
        (line["scf_name"], line["object_type"]): (line["status"], line["outcome"])
        for line in map(json.loads, (undone / "results.jsonl").read_text().splitlines())
    }
    assert results == {
        ("Industry", "lead"): ("failed", "protected"),
        ("Plan", "contact"): ("ok", "deleted"),
    }
    fields = {f["name"]: f for f in target_org(sim.state())["shared_custom_fields"]}
    assert [a["object_type"] for a in fields["Industry"]["associations"]] == ["lead"]
    assert fields["Plan"]["associations"] == []


def test_the_undo_of_a_two_file_spec_pass_reads_both_files(sim: SimProcess, tmp_path: Path) -> None:
    """A pass of a spec naming a definitions file (as `export --format csv` writes): its undo
    finds the field the definitions file created (its deletion takes its association along)
    and the pair the CSV associated to a field the org had, by the job's row numbers across
    both files, and running it leaves the org as the pass found it."""
    out = tmp_path / "out"
    (tmp_path / "defs.jsonl").write_text(
        json.dumps({"define": "field", "scf_name": "Renewal Risk", "type": "text"}) + "\n"
    )
    (tmp_path / "ops.csv").write_text(
        "key,action,scf_name,object_type\n"
        "risk,associate,Renewal Risk,lead\n"
        "dm,associate,Decision Maker,contact\n"
    )
    spec = tmp_path / "job.toml"
    spec.write_text('operations = "ops.csv"\ndefinitions = "defs.jsonl"\n')
    assert 0 == run_cli(spec, sim.base_url, out).returncode
    snapshot = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    undo = tmp_path / "undo.jsonl"
    written = scf_batch("undo", str(out), "-o", str(undo), "--base-url", sim.base_url)
    assert written.returncode == 0, written.stderr
    lines = {(r.get("define"), r.get("scf_name"), r.get("object_type")) for r in undo_lines(undo)}
    assert lines == {("field", "Renewal Risk", None), (None, "Decision Maker", "contact")}
    again = run_cli(undo, sim.base_url, tmp_path / "undone", "--allow-delete")
    assert again.returncode == 0, again.stderr
    org = target_org(sim.state())
    assert by_name(org, snapshot["fields"]) == by_name(org, org["shared_custom_fields"])
