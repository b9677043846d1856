"""The fleet manifest: orgs by name, options checked by the job spec's checks, errors by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scf_batch.cli.fleet import fleet_command
from scf_batch.errors import UsageError
from scf_batch.fleet.manifest import load_manifest, parse_shard
from scf_batch.fleet.settings import org_settings

GOOD = """\
job = "standard.jsonl"
out = "runs/fleet"
parallel = 4

[defaults]
rate = 20

[[org]]
name = "acme"
api_key_env = "CLOSE_KEY_ACME"
organization_id = "orga_acme"

[[org]]
name = "globex"
token_env = "CLOSE_TOKEN_GLOBEX"
job = "globex.jsonl"
rate = 10
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "standard.jsonl").write_text("{}\n")
    (tmp_path / "globex.jsonl").write_text("{}\n")
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def problems(path: Path) -> str:
    with pytest.raises(UsageError) as caught:
        load_manifest(path)
    return str(caught.value)


def test_a_good_manifest_gives_each_org_its_job_key_pin_and_options(tmp_path: Path) -> None:
    """Defaults reach every org, an org's own option and job override them, the pin is kept."""
    manifest = load_manifest(write(tmp_path, GOOD))
    acme, globex = manifest.orgs
    assert (manifest.out, manifest.parallel) == (tmp_path / "runs/fleet", 4)
    assert (acme.job, acme.api_key_env, acme.organization_id, acme.options["rate"]) == (
        tmp_path / "standard.jsonl",
        "CLOSE_KEY_ACME",
        "orga_acme",
        20.0,
    )
    assert (globex.job, globex.token_env, globex.options["rate"]) == (
        tmp_path / "globex.jsonl",
        "CLOSE_TOKEN_GLOBEX",
        10.0,
    )


def test_an_unknown_key_is_named_with_its_line_and_a_suggestion(tmp_path: Path) -> None:
    """A misspelt org key is reported as path:line with "did you mean"."""
    path = write(tmp_path, GOOD.replace('api_key_env = "CLOSE_KEY_ACME"', 'api_key_evn = "X"'))
    assert (
        f"{path}:10: org.api_key_evn: found an unknown key (did you mean api_key_env?)"
        in problems(path)
    )


def test_duplicate_names_and_a_missing_job_are_refused_by_line(tmp_path: Path) -> None:
    """A second org of the same name and an org job that does not exist are both reported."""
    path = write(tmp_path, GOOD.replace('"globex"', '"acme"').replace("globex.jsonl", "nope.jsonl"))
    found = problems(path)
    assert f'{path}:14: name: found "acme" twice' in found
    assert f"{path}:16: job: found no file" in found


def test_a_bad_option_value_uses_the_job_specs_check(tmp_path: Path) -> None:
    """An out-of-range rate in [defaults] is refused with the option table's expectation."""
    path = write(tmp_path, GOOD.replace("rate = 20", "rate = -1"))
    assert f"{path}:6: rate: found -1" in problems(path)


def test_shards_split_the_orgs_by_position_modulo_n(tmp_path: Path) -> None:
    """Shards 0..N-1 together take every org exactly once, by manifest position mod N."""
    orgs = "".join(f'[[org]]\nname = "o{i}"\napi_key_env = "K{i}"\n' for i in range(10))
    manifest = load_manifest(write(tmp_path, 'job = "standard.jsonl"\n' + orgs))
    shards = [[o.name for o in manifest.select(shard=(i, 4))] for i in range(4)]
    assert shards[1] == ["o1", "o5", "o9"]
    assert sorted(n for s in shards for n in s) == sorted(o.name for o in manifest.orgs)
    assert [o.name for o in manifest.select(("o3",))] == ["o3"]


def test_a_bad_shard_is_a_usage_error() -> None:
    """--shard must be I/N with I below N."""
    assert parse_shard("3/4") == (3, 4)
    with pytest.raises(UsageError, match="expected I/N"):
        parse_shard("4/4")


def test_fleet_validate_lists_the_shards_orgs_and_refuses_a_bad_manifest(tmp_path: Path) -> None:
    """`fleet validate` lists the selected orgs with their key variable's state (never its
    value) and exits 2 naming the line of a bad key."""
    path = write(tmp_path, GOOD)
    runner = CliRunner()
    good = runner.invoke(
        fleet_command,
        ["validate", str(path), "--shard", "1/2"],
        env={"CLOSE_TOKEN_GLOBEX": "s3"},
        standalone_mode=False,
    )
    assert (good.return_value, good.output.splitlines()[0].split("\t")[0]) == (0, "globex")
    assert "(set)" in good.output
    assert "s3" not in good.output
    path.write_text(GOOD.replace("parallel = 4", "paralel = 4"))
    bad = runner.invoke(fleet_command, ["validate", str(path)], standalone_mode=False)
    assert bad.return_value == 2
    assert f"{path}:3: paralel: found an unknown key (did you mean parallel?)" in bad.output


def test_an_orgs_settings_put_its_run_in_its_own_folder_with_its_key_pin_and_rate(
    tmp_path: Path,
) -> None:
    """Each org's run goes to <out>/<name>/ with the manifest's key variable, pin and options."""
    manifest = load_manifest(write(tmp_path, GOOD))
    acme, globex = (org_settings(manifest, org) for org in manifest.orgs)
    assert (acme.out, acme.api_key_env, acme.organization_id, acme.rate_per_s) == (
        tmp_path / "runs/fleet/acme",
        "CLOSE_KEY_ACME",
        "orga_acme",
        20.0,
    )
    assert (globex.out, globex.token_env, globex.rate_per_s) == (
        tmp_path / "runs/fleet/globex",
        "CLOSE_TOKEN_GLOBEX",
        10.0,
    )


def test_out_given_on_the_command_line_replaces_the_manifests(tmp_path: Path) -> None:
    """`--out DIR` (a pod's mounted volume) wins over the manifest's `out`, which is relative to
    the manifest otherwise."""
    path = write(tmp_path, GOOD)
    assert load_manifest(path).out == tmp_path / "runs/fleet"
    assert load_manifest(path, out=Path("/runs/fleet")).out == Path("/runs/fleet")


def test_an_orgs_base_url_comes_from_the_environment_unless_the_manifest_names_one(
    tmp_path: Path,
) -> None:
    """CLOSE_BASE_URL reaches every org, as it reaches `run`; a manifest's base_url wins."""
    path = write(tmp_path, GOOD)
    manifest = load_manifest(path)
    environ = {"CLOSE_BASE_URL": "http://127.0.0.1:9/api/v1/"}
    acme = org_settings(manifest, manifest.orgs[0], environ)
    assert acme.base_url == "http://127.0.0.1:9/api/v1/"
    pinned = write(tmp_path, GOOD.replace("rate = 20", 'base_url = "http://127.0.0.1:7/api/v1/"'))
    manifest = load_manifest(pinned)
    assert org_settings(manifest, manifest.orgs[0], environ).base_url.startswith(
        "http://127.0.0.1:7/"
    )


def test_a_manifest_cannot_send_keys_to_a_host_that_is_not_close_or_this_machine(
    tmp_path: Path,
) -> None:
    """base_url in a manifest may name Close or a loopback address only: the org's key would
    go there (another host is for CLOSE_BASE_URL or a job's --base-url, typed by the user)."""
    path = write(tmp_path, GOOD.replace("rate = 20", 'base_url = "https://evil.example/api/v1/"'))
    manifest = load_manifest(path)
    with pytest.raises(UsageError, match=r"base_url: found 'https://evil\.example/api/v1/'"):
        org_settings(manifest, manifest.orgs[0], {})


def test_workers_is_one_per_core_unless_the_manifest_sets_it(tmp_path: Path) -> None:
    """Without `workers` the manifest leaves the count to the cores (None); `workers = 2` is
    taken; 0, a string or 300 is refused at its line, saying what is valid."""
    assert load_manifest(write(tmp_path, GOOD)).workers is None
    two = GOOD.replace("parallel = 4", "parallel = 4\nworkers = 2")
    assert load_manifest(write(tmp_path, two)).workers == 2
    for bad in ("0", '"2"', "300"):
        path = write(tmp_path, GOOD.replace("parallel = 4", f"parallel = 4\nworkers = {bad}"))
        with pytest.raises(UsageError) as refused:
            load_manifest(path)
        assert f"{path}:4: workers: found" in str(refused.value)
        assert "expected an integer from 1 to 256" in str(refused.value)


@pytest.mark.parametrize("key", ["out", "metrics_file", "ping_url", "exit_zero_on_stop"])
def test_what_only_the_fleet_decides_is_refused_per_org_saying_why(
    tmp_path: Path, key: str
) -> None:
    """An org's folder, monitoring and exit code are the fleet's: in [defaults] or an [[org]]
    each is refused at its line with why (not silently ignored, not "unknown")."""
    value = "true" if key == "exit_zero_on_stop" else '"x"'
    path = write(tmp_path, GOOD.replace("rate = 20", f"rate = 20\n{key} = {value}"))
    found = problems(path)
    assert f"{path}:7: {key}: not a key of a fleet's org:" in found
    assert "unknown key" not in found
    at_org = write(tmp_path, GOOD.replace("rate = 10", f"rate = 10\n{key} = {value}"))
    assert f"{key}: not a key of a fleet's org:" in problems(at_org)


def test_a_top_level_monitoring_key_is_unknown(tmp_path: Path) -> None:
    """Outside the org options a monitoring key is just unknown, with the keys that are known."""
    path = write(tmp_path, 'metrics_file = "x.prom"\n' + GOOD)
    assert f"{path}:1: metrics_file: found an unknown key" in problems(path)


def test_a_job_specs_monitoring_keys_are_not_an_orgs_and_are_named_in_a_warning(
    tmp_path: Path,
) -> None:
    """A job spec reused by a fleet may carry a heartbeat URL or a metrics file: an org's run
    does not take them (the fleet reports), and the fleet warns naming the keys."""
    from structlog.testing import capture_logs  # noqa: PLC0415

    (tmp_path / "ops.csv").write_text("key,action,scf_name,object_type\nk,ensure,F,lead\n")
    spec = tmp_path / "nightly.toml"
    spec.write_text(
        'operations = "ops.csv"\nping_url = "https://hc.example/abc"\n'
        'metrics_file = "nightly.prom"\nrate = 5\n'
    )
    manifest = write(tmp_path, GOOD.replace('job = "standard.jsonl"', 'job = "nightly.toml"'))
    fleet = load_manifest(manifest)
    with capture_logs() as logs:
        settings = org_settings(fleet, fleet.orgs[0], {"CLOSE_KEY_ACME": "k"})
    assert (settings.ping_url, settings.metrics_file) == (None, None)
    assert settings.out == fleet.out / "acme"
    warned = [e for e in logs if e["event"] == "spec_keys_not_used_in_a_fleet"]
    assert warned[0]["keys"] == ["metrics_file", "ping_url"]
