"""`plan --detailed-exitcode`, as terraform plan's: 0 nothing to change, 2 changes, 1 error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from scf_batch.exitcodes import ExitCode
from tests.e2e import TARGET_KEY
from tests.simproc import SimProcess, sim_process


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    with sim_process() as running:
        yield running


def plan(job: Path, sim: SimProcess, *extra: str) -> int:
    return main(["plan", str(job), "--base-url", sim.base_url, "--detailed-exitcode", *extra])


def test_changes_exit_2_and_nothing_to_change_exits_0(
    tmp_path: Path, sim: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An associate of a missing pair plans a change (2); a disassociate of it, nothing (0)."""
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    sim.reset()
    changes = tmp_path / "changes.csv"
    changes.write_text("action,scf_name,object_type\nassociate,Industry,lead\n")
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("action,scf_name,object_type\ndisassociate,Industry,lead\n")
    assert (plan(changes, sim), plan(nothing, sim)) == (2, 0)


def test_an_invalid_job_or_an_unset_key_exit_1(
    tmp_path: Path, sim: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors are 1, not the usage code 2 that would read as "changes"."""
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    invalid = tmp_path / "invalid.csv"
    invalid.write_text("action,scf_name,object_type\nassociate,Industry,leed\n")
    assert plan(invalid, sim) == 1
    monkeypatch.delenv("CLOSE_API_KEY")
    monkeypatch.delenv("CLOSE_OAUTH_TOKEN", raising=False)
    assert plan(invalid, sim) == 1


def test_without_the_flag_errors_keep_their_codes(
    tmp_path: Path, sim: SimProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual table stands when the flag is not given: an invalid job exits 2."""
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    invalid = tmp_path / "invalid.csv"
    invalid.write_text("action,scf_name,object_type\nassociate,Industry,leed\n")
    assert main(["plan", str(invalid), "--base-url", sim.base_url]) == ExitCode.USAGE
