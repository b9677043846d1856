"""`plan PLAN.json` and `run PLAN.json` before anything is sent: a saved plan is shown from the
file without a key, and refused when its job changed or its base URL is not Close's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from scf_batch.cli.saved import save_plan
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.job.files import fingerprint
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.planfile import PlannedJob, SavedPlan, write_plan
from scf_batch.options import build_settings
from scf_batch.plan.prepare import Report
from scf_batch.plan.saved import PlanBuilder, shown_lines
from tests.plan.test_saved import base_org, job_file, saved


def saved_plan(tmp_path: Path) -> tuple[Path, SavedPlan]:
    """A plan of the test job against the test org, its job as it is on disk."""
    job = job_file(tmp_path)
    plan = saved(job, base_org())
    plan = replace(plan, job=PlannedJob(None, str(job), fingerprint(job)))
    path = tmp_path / "change.plan"
    write_plan(path, plan)
    return path, plan


def test_plan_of_a_saved_plan_shows_its_lines_without_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key set, no server: the saved lines and the counts; --detailed-exitcode says 2."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    path, plan = saved_plan(tmp_path)
    assert main(["plan", str(path), "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[1:-1] == shown_lines(plan)
    assert out[-1].startswith('plan on "Org" (orga_1): 1 to create, 2 to update, 0 to delete')


def test_a_plan_whose_job_changed_is_refused_before_the_key_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operations file edited after the plan: exit 2 naming it, nothing sent (no server)."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    path, plan = saved_plan(tmp_path)
    Path(plan.job.operations).write_text("{}\n", encoding="utf-8")
    assert main(["run", str(path)]) == ExitCode.USAGE
    assert "the operations file changed since the plan was made" in capsys.readouterr().err


def test_a_plan_naming_another_host_needs_it_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan is data someone else may have written: its base_url may not send the key to a
    host that is neither Close nor this machine."""
    monkeypatch.setenv("CLOSE_API_KEY", "api_test_key")
    monkeypatch.chdir(tmp_path)
    path, plan = saved_plan(tmp_path)
    write_plan(path, replace(plan, base_url="https://evil.example/api/v1/"))
    assert main(["run", str(path)]) == ExitCode.USAGE
    assert "base_url: found 'https://evil.example/api/v1/'" in capsys.readouterr().err


def test_a_plan_is_not_saved_under_a_jobs_suffix(tmp_path: Path) -> None:
    """`-o plan.csv` would be read back as an operations file: refused, nothing written."""
    job = job_file(tmp_path)
    output = tmp_path / "plan.csv"
    with pytest.raises(UsageError, match=r"plan\.csv: found a job's suffix"):
        save_plan(
            output,
            PlanBuilder(),
            Report(str(job)),
            build_settings(name="job", operations=job, spec_values={}, flags={}),
            job=job,
            operations=OperationsFile(job),
            fingerprint="0" * 64,
        )
    assert not output.exists()
