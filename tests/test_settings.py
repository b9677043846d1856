"""Run settings: flags over the job spec over defaults; the key only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from scf_batch.errors import UsageError
from scf_batch.jobspec import JobSpec
from scf_batch.settings import DEFAULT_RATE_PER_S, build_settings, read_api_key


def spec(**options: object) -> JobSpec:
    return JobSpec(name="job", spec_path=None, operations=Path("ops.csv"), **options)  # type: ignore[arg-type]


def test_flags_override_spec_override_defaults() -> None:
    """A flag beats the spec, the spec beats the default, and the default fills the rest."""
    settings = build_settings(spec(rate=5.0, concurrency=3), {"concurrency": 7, "rate": None})
    assert (settings.concurrency, settings.rate_per_s) == (7, 5.0)
    assert build_settings(spec(), {}).rate_per_s == DEFAULT_RATE_PER_S


def test_out_defaults_to_runs_job_name() -> None:
    """Without --out or a spec `out`, results go to runs/<job name>/."""
    assert build_settings(spec(), {}).out == Path("runs/job")


def test_bad_base_url_is_a_usage_error() -> None:
    """A base URL that is not http(s) is refused before anything runs."""
    with pytest.raises(UsageError, match="--base-url"):
        build_settings(spec(base_url="ftp://example"), {})


def test_api_key_comes_from_the_environment_only() -> None:
    """The key is read from the named variable; a missing one names the variable, not a key."""
    assert read_api_key("MY_KEY", {"MY_KEY": " k1 "}) == "k1"
    with pytest.raises(UsageError, match="MY_KEY: not set"):
        read_api_key("MY_KEY", {})
