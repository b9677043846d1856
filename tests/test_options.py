"""The options table: flags over the job spec over defaults, one bound for flags and specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from scf_batch.errors import UsageError
from scf_batch.job.spec import RUN_KEYS
from scf_batch.options import (
    BY_NAME,
    OPTIONS,
    SETTINGS,
    RunSettings,
    build_settings,
    click_options,
)


def settings(spec: dict[str, Any] | None = None, **flags: Any) -> RunSettings:
    return build_settings(
        name="job", operations=Path("ops.csv"), spec_values=spec or {}, flags=flags
    )


def test_flags_override_spec_override_defaults() -> None:
    """A flag beats the spec, the spec beats the default, and the default fills the rest."""
    chosen = settings({"rate": 5.0, "concurrency": 3}, concurrency=7, rate=None)
    assert (chosen.concurrency, chosen.rate_per_s) == (7, 5.0)
    assert settings().rate_per_s == BY_NAME["rate"].default


def test_out_defaults_to_runs_job_name() -> None:
    """Without --out or a spec `out`, results go to runs/<job name>/."""
    assert settings().out == Path("runs/job")


def test_bad_base_url_is_a_usage_error() -> None:
    """A base URL that is not http(s) is refused before anything runs."""
    with pytest.raises(UsageError, match="--base-url"):
        settings({"base_url": "ftp://example"})


def test_every_spec_option_is_a_spec_key_with_the_tables_check() -> None:
    """The job spec checks each run option with the table's own check and wording."""
    for option in OPTIONS:
        if option.spec:
            assert RUN_KEYS[option.name][1] == option.expected()


@pytest.mark.parametrize(
    ("option", "inside", "outside"),
    [
        ("concurrency", 256, 257),
        ("concurrency", 1, 0),
        ("rate", 0.01, 0),
        ("max_retries", 100, 101),
        ("max_duration", 0.5, 0),
        ("timeout", 0.1, -1),
    ],
)
def test_the_command_line_and_the_spec_share_bounds(
    option: str, inside: float, outside: float
) -> None:
    """A value the spec accepts the command line accepts too, and the same for refusals."""

    @click.command()
    @click_options
    def command(**flags: Any) -> None:
        click.echo("ok")

    flag = BY_NAME[option].flag
    runner = CliRunner()
    for value, accepted in ((inside, True), (outside, False)):
        cli_ok = runner.invoke(command, [flag, str(value)]).exit_code == 0
        spec_ok = BY_NAME[option].check(value) is not None
        assert (cli_ok, spec_ok) == (accepted, accepted), (option, value)


def test_every_option_of_the_table_is_a_typed_setting_of_a_run() -> None:
    """RunSettings is the table: each option is one of its attributes, read back resolved and
    in its kind (a spec's integer rate is a float), and nothing else is listed twice."""
    settings = build_settings(
        name="job",
        operations=Path("job.csv"),
        spec_values={"rate": 5, "timeout": 3, "concurrency": 7},
        flags={"max_duration": 2},
    )
    assert [s.option for s in SETTINGS] == list(OPTIONS)
    assert set(settings.values) == {option.name for option in OPTIONS}
    assert (settings.rate_per_s, settings.timeout_s, settings.max_duration_s) == (5.0, 3.0, 2.0)
    assert isinstance(settings.rate_per_s, float)
    assert settings.concurrency == 7
    for setting in SETTINGS:
        assert getattr(settings, setting.attribute) == settings.values[setting.option.name]


def test_the_checkpoint_records_the_settings_marked_recorded_never_a_secret() -> None:
    """`recorded()` holds the options marked `recorded`, by attribute, and the key variables'
    names only."""
    settings = build_settings(
        name="job", operations=Path("job.csv"), spec_values={}, flags={}, api_key_env="MY_KEY"
    )
    assert settings.recorded() == {
        "api_key_env": "MY_KEY",
        "token_env": None,
        "base_url": "https://api.close.com/api/v1/",
        "concurrency": 64,
        "rate_per_s": 20.0,
        "max_retries": 5,
        "timeout_s": 30.0,
        "skip_invalid": False,
        "allow_delete": False,
        "prune": False,
        "encoding": "utf-8",
    }
