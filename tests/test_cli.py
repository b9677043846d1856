"""The CLI entry point: help and version work and return exit codes."""

from scf_batch import __version__
from scf_batch.cli import main


def test_version_prints_the_package_version(capsys: object) -> None:
    """`scf-batch --version` prints the version and exits 0."""
    assert main(["--version"]) == 0


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown command exits 2, click's usage error code."""
    assert main(["no-such-command"]) == 2


def test_version_constant_is_semver() -> None:
    """The version string has three numeric parts."""
    assert [part.isdigit() for part in __version__.split(".")] == [True, True, True]
