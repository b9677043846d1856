"""`export` with an OAuth token: the partner-app path (`--token-env`, as run's `token_env`)."""

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
