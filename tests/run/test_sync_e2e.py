"""Protected fields and exact sync (prune) end to end, on the simulator as a real subprocess:
what a run sends and leaves, read back from the simulator's own state and request counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from scf_batch.cli.main import main
from scf_batch.exitcodes import ExitCode
from tests.e2e import (
    TARGET_KEY,
    TARGET_ORG,
    Pair,
    associations,
    by_key,
    call_api,
    field_id,
    results,
    run_cli,
    write_csv,
    writes_sent,
)
from tests.simproc import SimProcess, sim_process

INDUSTRY_LEAD = Pair("Industry", "lead")
INDUSTRY_CONTACT = Pair("Industry", "contact")
LOST_REASON_LEAD = Pair("Lost Reason", "lead")
LOST_REASON_OPPORTUNITY = Pair("Lost Reason", "opportunity")
SOURCE_KEY = "api_source_key_1"
SOURCE_ORG = "Acme Source"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    with sim_process() as running:
        yield running


@pytest.fixture
def target_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The target org's key in CLOSE_API_KEY, for commands run in this process."""
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    monkeypatch.delenv("CLOSE_OAUTH_TOKEN", raising=False)


def associate(sim: SimProcess, *pairs: Pair) -> None:
    """Associate the target org's pairs behind any run's back (lead/contact/opportunity)."""
    state = sim.state()
    for pair in pairs:
        path = f"custom_field/shared/{field_id(state, pair.field)}/association/"
        status, _ = call_api(sim.base_url, "POST", path, {"object_type": pair.object_type})
        assert status in (200, 201)


def job(tmp_path: Path, rows: Sequence[dict[str, str]], **spec: object) -> Path:
    """A job spec beside its operations file; `spec`'s values written as TOML."""
    write_csv(tmp_path / "ops.csv", rows)
    lines = ['operations = "ops.csv"']
    for key, value in spec.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(_toml(v) for v in value)}]")
    path = tmp_path / "job.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_a_row_that_disassociates_a_protected_pair_fails_protected_and_sends_nothing(
    tmp_path: Path, sim: SimProcess
) -> None:
    """With allow_delete, a disassociate of a pair the spec protects ends failed `protected` and
    no write is sent; the other protected target of a protected field too (field-wide entry)."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, INDUSTRY_CONTACT)
    before = writes_sent(sim.stats())
    rows = [INDUSTRY_LEAD.row("a", "disassociate"), INDUSTRY_CONTACT.row("b", "disassociate")]
    spec = job(tmp_path, rows, allow_delete=True, protect=["Industry → lead", "Industry"])
    ran = run_cli(spec, sim.base_url, tmp_path / "out")
    lines = by_key(tmp_path / "out")
    assert ran.returncode == ExitCode.ROWS_FAILED, ran.stderr
    assert {k: (r["status"], r["outcome"]) for k, r in lines.items()} == {
        "a": ("failed", "protected"),
        "b": ("failed", "protected"),
    }
    assert writes_sent(sim.stats()) == before
    assert {INDUSTRY_LEAD, INDUSTRY_CONTACT} <= set(associations(sim.state()))


def test_protection_names_the_pair_so_the_fields_other_targets_may_go(
    tmp_path: Path, sim: SimProcess
) -> None:
    """`Industry -> lead` protects that pair only: Industry → contact is disassociated."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, INDUSTRY_CONTACT)
    rows = [INDUSTRY_LEAD.row("a", "disassociate"), INDUSTRY_CONTACT.row("b", "disassociate")]
    spec = job(tmp_path, rows, allow_delete=True, protect=["Industry -> lead"])
    run_cli(spec, sim.base_url, tmp_path / "out")
    outcomes = {k: r["outcome"] for k, r in by_key(tmp_path / "out").items()}
    assert outcomes == {"a": "protected", "b": "deleted"}
    found = set(associations(sim.state()))
    assert (INDUSTRY_LEAD in found, INDUSTRY_CONTACT in found) == (True, False)


def plan_output(
    spec: Path, sim: SimProcess, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    """`plan` of the job as the target org's key sees it: its exit code and what it printed."""
    capsys.readouterr()
    code = main(["plan", str(spec), "--base-url", sim.base_url, *extra])
    return code, capsys.readouterr().out


def test_plan_shows_the_protected_row_failing_and_warns_of_a_name_the_org_lacks(
    tmp_path: Path, sim: SimProcess, capsys: pytest.CaptureFixture[str], target_key: None
) -> None:
    """The plan lists the refused disassociate with its reason, and a protected name the org
    does not have is a warning with the closest name, not an error (exit 0)."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD)
    rows = [INDUSTRY_LEAD.row("a", "disassociate")]
    spec = job(tmp_path, rows, protect=["Industry → lead", "Industy"])
    code, out = plan_output(spec, sim, capsys)
    assert code == ExitCode.OK
    assert '! line 2: disassociate "Industry" → lead: protected by the job spec\'s protect' in out
    warning = (
        'warning: protect[1]: found "Industy", the name of no shared custom field of the org; '
        'expected a shared custom field of the org: did you mean "Industry"?'
    )
    assert warning in out


def test_prune_removes_an_association_not_in_the_job_only_with_allow_delete(
    tmp_path: Path, sim: SimProcess
) -> None:
    """Without allow_delete the run refuses (exit 2) listing the prune row, nothing sent; with
    it the extra pair is deleted as row prune-1 after the file's rows, the named pair stays,
    and a second run (a new pass) sends nothing."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, LOST_REASON_LEAD)
    before = writes_sent(sim.stats())
    spec = job(tmp_path, [INDUSTRY_LEAD.row("a", "ensure")], prune=True)
    refused = run_cli(spec, sim.base_url, tmp_path / "refused")
    assert refused.returncode == ExitCode.USAGE
    assert 'prune-1: - disassociate "Lost Reason" → lead (not in the job)' in refused.stderr
    assert writes_sent(sim.stats()) == before
    ran = run_cli(spec, sim.base_url, tmp_path / "out", "--allow-delete")
    assert ran.returncode == ExitCode.OK, ran.stderr
    lines = by_key(tmp_path / "out")
    pruned = lines["prune-1"]
    assert (pruned["row"], pruned["line"], pruned["action"], pruned["outcome"]) == (
        2,
        0,
        "disassociate",
        "deleted",
    )
    assert set(associations(sim.state())) == {INDUSTRY_LEAD}
    sent = writes_sent(sim.stats())
    again = run_cli(spec, sim.base_url, tmp_path / "out", "--allow-delete")
    assert (again.returncode, writes_sent(sim.stats())) == (ExitCode.OK, sent)


def test_prune_keeps_to_its_scope(tmp_path: Path, sim: SimProcess) -> None:
    """prune_fields = [Industry] removes Industry's extra target and leaves another field's
    association the job does not name either."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, INDUSTRY_CONTACT, LOST_REASON_LEAD)
    rows = [INDUSTRY_LEAD.row("a", "ensure")]
    spec = job(tmp_path, rows, prune=True, allow_delete=True, prune_fields=["Industry"])
    ran = run_cli(spec, sim.base_url, tmp_path / "out")
    assert ran.returncode == ExitCode.OK, ran.stderr
    assert set(associations(sim.state())) == {INDUSTRY_LEAD, LOST_REASON_LEAD}


def test_prune_by_object_type_leaves_the_other_targets(tmp_path: Path, sim: SimProcess) -> None:
    """prune_object_types = [contact] removes Industry → contact only."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, INDUSTRY_CONTACT, LOST_REASON_LEAD)
    spec = job(tmp_path, [], prune=True, allow_delete=True, prune_object_types=["contact"])
    ran = run_cli(spec, sim.base_url, tmp_path / "out", "--allow-empty")
    assert ran.returncode == ExitCode.OK, ran.stderr
    assert set(associations(sim.state())) == {INDUSTRY_LEAD, LOST_REASON_LEAD}


def test_a_protected_pair_survives_a_prune_and_the_plan_says_it_was_kept(
    tmp_path: Path, sim: SimProcess, capsys: pytest.CaptureFixture[str], target_key: None
) -> None:
    """A protected pair no row names is not pruned (nor planned as a failure); the plan's
    summary counts it as kept, and the unprotected extra pair is pruned."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, LOST_REASON_LEAD, INDUSTRY_CONTACT)
    rows = [INDUSTRY_LEAD.row("a", "ensure")]
    spec = job(tmp_path, rows, prune=True, allow_delete=True, protect=["Lost Reason → lead"])
    code, out = plan_output(spec, sim, capsys)
    assert code == ExitCode.OK
    assert '- disassociate "Industry" → contact (not in the job)   DELETES' in out
    assert "plan: prune: 1 protected association kept" in out
    assert "Lost Reason" not in out
    ran = run_cli(spec, sim.base_url, tmp_path / "out")
    assert ran.returncode == ExitCode.OK, ran.stderr
    assert set(associations(sim.state())) == {INDUSTRY_LEAD, LOST_REASON_LEAD}


def org_pairs(state: dict[str, Any], org_name: str) -> set[tuple[str, str, str]]:
    """An org's associations by name: (field, object type, custom type name or "")."""
    org = next(o for o in state["orgs"] if o["name"] == org_name)
    types = org["custom_activity_types"] + org["custom_object_types"]
    names = {t["id"]: t["name"] for t in types}
    return {
        (
            scf["name"],
            assoc["object_type"],
            names.get(assoc.get("custom_activity_type_id") or assoc.get("custom_object_type_id"))
            or "",
        )
        for scf in org["shared_custom_fields"]
        for assoc in scf["associations"]
    }


def test_export_of_one_org_run_with_prune_on_another_makes_a_mirror(
    tmp_path: Path, sim: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source org's export, run on the target with prune and allow_delete, leaves the
    target's associations those of the source by name (an extra one of the target is gone);
    a second run sends no write."""
    sim.reset()
    associate(sim, LOST_REASON_LEAD)  # the target's own: not in the source
    monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
    exported = tmp_path / "source.jsonl"
    assert main(["export", "-o", str(exported), "--base-url", sim.base_url]) == ExitCode.OK
    spec = tmp_path / "mirror.toml"
    spec.write_text(
        'operations = "source.jsonl"\nprune = true\nallow_delete = true\n', encoding="utf-8"
    )
    ran = run_cli(spec, sim.base_url, tmp_path / "out")
    assert ran.returncode == ExitCode.OK, ran.stderr
    state = sim.state()
    assert org_pairs(state, TARGET_ORG) == org_pairs(state, SOURCE_ORG)
    assert ("Lost Reason", "lead", "") not in org_pairs(state, TARGET_ORG)
    sent = writes_sent(sim.stats())
    again = run_cli(spec, sim.base_url, tmp_path / "out")
    assert (again.returncode, writes_sent(sim.stats())) == (ExitCode.OK, sent)


def test_a_resumed_pass_prunes_the_rows_its_first_snapshot_gave(
    tmp_path: Path, sim: SimProcess
) -> None:
    """A run stopped by --limit after prune-1 is resumed with the same prune rows (from the
    pass's first snapshot): each ends once, and a pair added meanwhile waits for the next pass,
    which prunes it."""
    sim.reset()
    associate(sim, INDUSTRY_LEAD, INDUSTRY_CONTACT, LOST_REASON_LEAD)
    spec = job(tmp_path, [INDUSTRY_LEAD.row("a", "ensure")], prune=True, allow_delete=True)
    out = tmp_path / "out"
    first = run_cli(spec, sim.base_url, out, "--limit", "1")
    assert first.returncode == ExitCode.STOPPED_EARLY, first.stderr
    # after the pass's first snapshot; it sorts after prune-2's pair, so prune rows made from
    # the org as it is now would number it 3 and leave Lost Reason → lead undone
    associate(sim, LOST_REASON_OPPORTUNITY)
    resumed = run_cli(spec, sim.base_url, out)
    assert resumed.returncode == ExitCode.OK, resumed.stderr
    lines = [(r["key"], r["row"], r["outcome"]) for r in results(out)]
    assert sorted(lines) == [
        ("a", 1, "unchanged"),
        ("prune-1", 2, "deleted"),
        ("prune-2", 3, "deleted"),
    ]
    assert (by_key(out)["prune-2"]["scf_name"], by_key(out)["prune-2"]["target"]) == (
        "Lost Reason",
        "lead",
    )
    assert set(associations(sim.state())) == {INDUSTRY_LEAD, LOST_REASON_OPPORTUNITY}
    next_pass = run_cli(spec, sim.base_url, out)
    assert next_pass.returncode == ExitCode.OK, next_pass.stderr
    assert set(associations(sim.state())) == {INDUSTRY_LEAD}
