"""Job specs: TOML keys, paths relative to the spec, and every wrong key reported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scf_batch.errors import UsageError
from scf_batch.job.spec import RUN_KEYS, JobSpec, SimulatorSpec, load_job, operations_stem

FULL = """
name = "nightly"
operations = "data/ops.csv.gz"
base_url = "http://127.0.0.1:8787/api/v1/"
api_key_env = "TARGET_KEY"
out = "runs/nightly"
concurrency = 8
rate = 5
max_retries = 3
timeout = 12.5
limit = 10
max_errors = 20
max_duration = 600
skip_invalid = true
dry_run = false
log_format = "json"
progress = false

[simulator]
rate_limit = 20
latency_ms = 5
jitter_ms = 2.5
fault_rate = 0.1
header_style = "semicolon"
body_style = "legacy"
seed = "seed.json"
"""


def spec(tmp_path: Path, text: str, name: str = "job.toml") -> Path:
    """Write a spec in a `jobs` folder of tmp_path."""
    path = tmp_path / "jobs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_read_with_paths_relative_to_the_spec(tmp_path: Path) -> None:
    """A full spec fills every JobSpec field; paths are joined to the spec's folder."""
    path = spec(tmp_path, FULL)
    folder = path.parent
    assert load_job(path) == JobSpec(
        name="nightly",
        spec_path=path,
        operations=folder / "data/ops.csv.gz",
        api_key_env="TARGET_KEY",
        values={
            "base_url": "http://127.0.0.1:8787/api/v1/",
            "out": str(folder / "runs/nightly"),
            "concurrency": 8,
            "rate": 5.0,
            "max_retries": 3,
            "timeout": 12.5,
            "limit": 10,
            "max_errors": 20,
            "max_duration": 600.0,
            "skip_invalid": True,
            "dry_run": False,
            "log_format": "json",
            "progress": False,
        },
        simulator=SimulatorSpec(20, 5.0, 2.5, 0.1, "semicolon", "legacy", folder / "seed.json"),
    )


def test_minimal_spec_leaves_options_unset(tmp_path: Path) -> None:
    """Only `operations` is required; the name is the spec's stem; options stay None."""
    path = spec(tmp_path, 'operations = "ops.jsonl"\n', "onboarding.toml")
    assert load_job(path) == JobSpec("onboarding", path, path.parent / "ops.jsonl")


@pytest.mark.parametrize(
    ("name", "stem"),
    [("ops.csv", "ops"), ("ops.csv.gz", "ops"), ("a.b.jsonl", "a.b"), ("x.ndjson.gz", "x")],
)
def test_operations_file_given_directly(tmp_path: Path, name: str, stem: str) -> None:
    """An operations file is a job by itself, named after its stem without suffixes."""
    path = tmp_path / name
    assert load_job(path) == JobSpec(stem, None, path)
    assert operations_stem(path) == stem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'operations = "o.csv"\nconcurency = 4',
            'concurency: found an unknown key; expected a known key: did you mean "concurrency"?',
        ),
        (
            'operations = "o.csv"\nconcurrency = 0',
            "concurrency: found 0; expected an integer from 1 to 256",
        ),
        (
            'operations = "o.csv"\nconcurrency = true',
            "concurrency: found true; expected an integer",
        ),
        ('operations = "o.csv"\nconcurrency = 2.5', "concurrency: found 2.5; expected an integer"),
        (
            'operations = "o.csv"\nrate = -1',
            "rate: found -1; expected a number above 0 (req/s)",
        ),
        (
            'operations = "o.csv"\ntimeout = nan',
            "timeout: found NaN; expected a number above 0 (s)",
        ),
        (
            'operations = "o.csv"\nskip_invalid = "yes"',
            'skip_invalid: found "yes"; expected true or false',
        ),
        (
            'operations = "o.csv"\nlog_format = "xml"',
            'log_format: found "xml"; expected one of auto, json, console',
        ),
        (
            'operations = "o.csv"\nbase_url = "ftp://x"',
            'base_url: found "ftp://x"; expected Close API base URL (an http://',
        ),
        (
            'operations = "o.csv"\napi_key_env = "MY KEY"',
            'api_key_env: found "MY KEY"; expected an environment',
        ),
        ('operations = "o.csv"\nout = []', "out: found an array; expected run folder"),
        (
            'operations = "o.csv"\nmax_duration = 0',
            "max_duration: found 0; expected a number above 0 (s)",
        ),
        ('operations = "o\\u0000.csv"', "operations: found"),
        ('operations = "o.csv"\nsimulator = 3', "simulator: found 3; expected a table"),
        (
            'operations = "o.csv"\n[simulator]\nfault_rate = 2',
            "simulator.fault_rate: found 2; expected a number from 0 to 1",
        ),
        ('operations = "o.csv"\n[simulator]\nport = 1', "simulator.port: found an unknown key"),
        ('operations = "o.csv"\nlimit = 1979-05-27', "limit: found a date; expected an integer"),
        ("rate = 1", "operations: found nothing; expected the operations file"),
    ],
)
def test_wrong_keys_are_usage_errors_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """Unknown keys, wrong types and out-of-range values name the spec and the key."""
    path = spec(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_job(path)
    assert f"{path}: {message}" in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """All wrong keys of a spec come in one error, one a line."""
    path = spec(tmp_path, 'operations = "o.csv"\nrate = 0\nlimit = 0\nfoo = 1\n')
    with pytest.raises(UsageError) as caught:
        load_job(path)
    assert len(str(caught.value).splitlines()) == 3


@pytest.mark.parametrize("text", ["operations = ", "[[[", 'a = "\\q"'])
def test_invalid_toml_is_a_usage_error(tmp_path: Path, text: str) -> None:
    """A spec that is not TOML is a UsageError naming the file."""
    path = spec(tmp_path, text)
    with pytest.raises(UsageError, match="not valid TOML"):
        load_job(path)


def test_missing_and_undecodable_specs_are_usage_errors(tmp_path: Path) -> None:
    """A missing spec or one that is not UTF-8 is a UsageError, not a traceback."""
    with pytest.raises(UsageError, match="cannot read the job spec"):
        load_job(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'operations = "\xff"')
    with pytest.raises(UsageError, match="not valid TOML"):
        load_job(bad)


toml_values = st.sampled_from(
    [
        '"ops.csv"',
        '""',
        "0",
        "-1",
        "3",
        "2.5",
        "nan",
        "inf",
        "true",
        "[]",
        "[1, 2]",
        "{}",
        "{ a = 1 }",
        "1979-05-27",
        "07:32:00",
        '"json"',
        '"https://x/"',
        '"A_B"',
    ]
)
toml_keys = st.sampled_from(
    [*RUN_KEYS, "simulator", "unknown", "simulator.seed", "simulator.rate_limit"]
)


@settings(max_examples=300, deadline=None)
@given(pairs=st.dictionaries(toml_keys, toml_values, max_size=6))
def test_arbitrary_specs_load_or_raise_usage_errors(pairs: dict[str, str]) -> None:
    """Any mix of keys and values gives a JobSpec or a UsageError, nothing else."""
    text = "".join(f"{key} = {value}\n" for key, value in pairs.items())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "job.toml"
        path.write_text(text, encoding="utf-8")
        try:
            job = load_job(path)
        except UsageError:
            return
        assert isinstance(job, JobSpec)


def test_a_spec_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path: Path) -> None:
    """A job spec that is a FIFO or a symlink to /dev/zero is a UsageError, not a hang."""
    fifo = tmp_path / "job.toml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"found a FIFO \(named pipe\); expected the job spec"):
        load_job(fifo)
    zero = tmp_path / "zero.toml"
    zero.symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="found a character device; expected the job spec"):
        load_job(zero)
