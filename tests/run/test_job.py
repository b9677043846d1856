"""A job's passes in-process against the simulator: a nightly rerun repairs what drifted even
when a field the job names was deleted in Close since; a first pass refuses that name."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from scf_batch import logs
from scf_batch.close.client import CloseClient, open_client
from scf_batch.close.credentials import Credentials
from scf_batch.errors import JobInvalid
from scf_batch.exitcodes import ExitCode
from scf_batch.job.opsfile import check_operations
from scf_batch.models import ObjectType, Target
from scf_batch.options import RunSettings, build_settings
from scf_batch.report.summary import RunReport
from scf_batch.run.job import run_job
from scf_batch.run.progress import LogReporter
from scf_batch.runfolder.results import RESULTS_FILE
from scf_batch.sim import SimConfig, create_app
from scf_batch.sim.seedgen import build_seed

pytestmark = pytest.mark.anyio

TARGET = build_seed()["orgs"][1]
TARGET_KEY = Credentials.api_key("api_target_key_1")
KEPT, DELETED = "Industry", "Health Score"
LEAD = Target(ObjectType.LEAD)


@asynccontextmanager
async def simulator() -> AsyncIterator[tuple[str, CloseClient]]:
    """The simulator in-process, its base URL, and a client with the target's key."""
    async with TestServer(create_app(SimConfig())) as server:
        base_url = str(server.make_url("/api/v1/"))
        async with open_client(base_url, TARGET_KEY) as client:
            yield base_url, client


def job_file(folder: Path) -> Path:
    """The nightly job: both fields required on leads."""
    rows = [
        {"action": "ensure", "scf_name": name, "object_type": "lead", "required": True}
        for name in (KEPT, DELETED)
    ]
    path = folder / "nightly.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


async def run(job: Path, base_url: str, out: Path) -> RunReport:
    settings: RunSettings = build_settings(
        name="nightly", operations=job, spec_values={}, flags={"base_url": base_url, "out": out}
    )
    logs.configure(log_format="json")  # as the command does: to this test's stderr
    operations = check_operations(settings.operations)
    return await run_job(settings, TARGET_KEY, operations=operations, reporter=LogReporter)


def outcomes(out: Path) -> dict[str | None, tuple[str, str]]:
    lines: list[dict[str, Any]] = [
        json.loads(line) for line in (out / RESULTS_FILE).read_text(encoding="utf-8").splitlines()
    ]
    return {line["scf_name"]: (line["status"], line["outcome"]) for line in lines}


async def test_a_rerun_after_a_field_was_deleted_repairs_the_rest_and_fails_that_row(
    tmp_path: Path,
) -> None:
    """Pass 1 sets both; the field is deleted in Close; pass 2 (after a finished pass) does not
    refuse: the deleted field's row fails `not_found`, the other is repaired, exit 1."""
    job, out = job_file(tmp_path), tmp_path / "run"
    async with simulator() as (base_url, client):
        first = await run(job, base_url, out)
        scf_id = next(f["id"] for f in TARGET["shared_custom_fields"] if f["name"] == DELETED)
        kept_id = next(f["id"] for f in TARGET["shared_custom_fields"] if f["name"] == KEPT)
        await client.request("DELETE", f"custom_field/shared/{scf_id}/", group="test")
        # drift for the rerun to repair
        await client.update_association(kept_id, LEAD, {"required": False})
        second = await run(job, base_url, out)
    assert (first.exit_code, first.pass_number) == (ExitCode.OK, 1)
    assert (second.exit_code, second.pass_number) == (ExitCode.ROWS_FAILED, 2)
    assert outcomes(out) == {KEPT: ("ok", "updated"), DELETED: ("failed", "not_found")}


async def test_a_first_pass_refuses_a_name_that_does_not_resolve(tmp_path: Path) -> None:
    """In a first pass a name the org lacks is a typo: the run refuses before sending (exit 2)."""
    job = job_file(tmp_path)
    async with simulator() as (base_url, client):
        scf_id = next(f["id"] for f in TARGET["shared_custom_fields"] if f["name"] == DELETED)
        await client.request("DELETE", f"custom_field/shared/{scf_id}/", group="test")
        with pytest.raises(JobInvalid):
            await run(job, base_url, tmp_path / "run")
