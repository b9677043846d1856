"""Protected fields and exact sync (prune) end to end, on the simulator as a real subprocess:
what a run sends and leaves, read back from the simulator's own state and request counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from scf_batch.exitcodes import ExitCode
from tests.e2e import (
    TARGET_KEY,
    Pair,
    associations,
    by_key,
    call_api,
    field_id,
    run_cli,
    write_csv,
    writes_sent,
)
from tests.simproc import SimProcess, sim_process

INDUSTRY_LEAD = Pair("Industry", "lead")
INDUSTRY_CONTACT = Pair("Industry", "contact")
REGION_LEAD = Pair("Account Owner", "lead")
LOST_REASON_LEAD = Pair("Lost Reason", "lead")


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
