"""The CLI entry point: help and version work and return exit codes."""

from pathlib import Path

import pytest

from scf_batch import __version__
from scf_batch.cli.main import main


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`scf-batch --version` prints the version and exits 0."""
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_run_without_an_api_key_names_the_variable_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` with no key in the environment exits 2 and says which variable to set."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    assert main(["run", "data/examples/migration.jsonl", "--no-progress"]) == 2
    assert "CLOSE_API_KEY: not set" in capsys.readouterr().err


def test_run_of_a_missing_file_is_a_clear_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A job path that does not exist exits 2 with a message naming it, not a traceback."""
    assert main(["run", "no/such/job.csv"]) == 2
    assert "no/such/job.csv" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown command exits 2, click's usage error code."""
    assert main(["no-such-command"]) == 2


def test_version_constant_is_semver() -> None:
    """The version string has three numeric parts."""
    assert [part.isdigit() for part in __version__.split(".")] == [True, True, True]


def test_run_folder_that_is_a_file_is_a_clear_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out naming a file exits 2 with a message naming it, not a traceback."""
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("CLOSE_API_KEY", "k")
    code = main(["run", "data/examples/migration.jsonl", "--out", str(afile), "--no-progress"])
    assert code == 2
    assert f"{afile}: cannot use it as the run folder" in capsys.readouterr().err
