"""`export` end to end: an OAuth token (`--token-env`), and filters that match nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.run.test_migration_e2e import cli
from tests.simproc import sim_process

SOURCE_TOKEN = "oauth_source_token_1"


def test_export_reads_the_org_with_an_oauth_token_named_by_token_env(tmp_path: Path) -> None:
    """`export --token-env VAR` reads the org with the token in VAR and writes the job."""
    job = tmp_path / "m.jsonl"
    with sim_process() as sim:
        args = ("export", "-o", str(job), "--base-url", sim.base_url, "--token-env", "PARTNER")
        done = cli(*args, env={"PARTNER": SOURCE_TOKEN})
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in job.read_text(encoding="utf-8").splitlines()]
    assert records[0].get("define") == "field"
    assert SOURCE_TOKEN not in done.stderr


def test_an_export_filter_that_matches_nothing_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    """`export --object-type leads` names the filter and the closest name, exits 2, writes none."""
    job = tmp_path / "m.jsonl"
    with sim_process() as sim:
        args = ("export", "-o", str(job), "--base-url", sim.base_url, "--object-type", "leads")
        done = cli(*args, env={"CLOSE_API_KEY": "api_source_key_1"})
    assert done.returncode == 2, done.stderr
    assert '--object-type "leads"' in done.stderr
    assert 'did you mean "lead"?' in done.stderr
    assert not job.exists()
