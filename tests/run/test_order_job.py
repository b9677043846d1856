"""A job with an order row, planned and run in-process against the simulator: plan shows the
order step, run brings the target's shared fields into the wanted order after the other rows
with the regular fields in their places, and a rerun sends no write."""

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
from scf_batch.job.opsfile import check_operations
from scf_batch.models import ObjectType, Target
from scf_batch.options import RunSettings, build_settings
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.view import plan_line
from scf_batch.report.summary import RunReport
from scf_batch.run.job import run_job
from scf_batch.run.plan import plan_job
from scf_batch.run.progress import LogReporter
from scf_batch.runfolder.results import RESULTS_FILE
from scf_batch.sim import SimConfig, create_app
from scf_batch.sim.app import SIM
from scf_batch.sim.seedgen import build_seed
from scf_batch.sim.simulator import Simulator

pytestmark = pytest.mark.anyio

TARGET = build_seed()["orgs"][1]
TARGET_KEY = Credentials.api_key("api_target_key_1")
LEAD = Target(ObjectType.LEAD)
WANTED = ["Pain Points", "Industry", "Health Score", "Account Owner"]


@asynccontextmanager
async def simulator() -> AsyncIterator[tuple[str, CloseClient, Simulator]]:
    """The simulator in-process, its base URL, and a client with the target's key."""
    app = create_app(SimConfig())
    async with TestServer(app) as server:
        base_url = str(server.make_url("/api/v1/"))
        async with open_client(base_url, TARGET_KEY) as client:
            yield base_url, client, app[SIM]


def job_file(folder: Path) -> Path:
    """Ensure rows for the four fields on leads, then the order they should read in."""
    lines: list[dict[str, Any]] = [
        {"action": "ensure", "scf_name": name, "object_type": "lead"} for name in WANTED
    ]
    lines.append({"define": "order", "object_type": "lead", "fields": WANTED})
    path = folder / "job.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def settings_for(job: Path, base_url: str, out: Path) -> RunSettings:
    return build_settings(
        name="order", operations=job, spec_values={}, flags={"base_url": base_url, "out": out}
    )


async def run(settings: RunSettings) -> RunReport:
    logs.configure(log_format="json")  # as the command does: to this test's stderr
    operations = check_operations(settings.operations)
    return await run_job(settings, TARGET_KEY, operations=operations, reporter=LogReporter)


async def plan(settings: RunSettings) -> list[str]:
    """The plan's lines for the rows that would change something."""
    lines: list[str] = []

    def each(prepared: Prepared, snapshot: Snapshot) -> None:
        line = plan_line(prepared, snapshot)
        if line is not None:
            lines.append(line)

    operations = check_operations(settings.operations)
    await plan_job(settings, TARGET_KEY, operations=operations, each=each)
    return lines


def schema_writes(sim: Simulator) -> int:
    counts: dict[str, Any] = sim.stats.writes_applied
    return int(counts.get("PUT custom_field_schema/{object_type}/", 0))


def all_writes(sim: Simulator) -> int:
    return sum(sim.stats.writes_applied.values())


async def test_plan_shows_the_order_run_applies_it_last_and_a_rerun_sends_nothing(
    tmp_path: Path,
) -> None:
    """The fields associated in another order: plan lists the order step; run reorders the
    lead's schema with the regular fields in their places and writes one result line for the
    order row; a second run writes nothing and plan then lists nothing."""
    async with simulator() as (base_url, client, sim):
        by_name = {f["name"]: f["id"] for f in TARGET["shared_custom_fields"]}
        for name in reversed(WANTED):
            await client.create_association(by_name[name], {"object_type": "lead"})
        before = [f.name for f in await client.get_schema(LEAD)]
        settings = settings_for(job_file(tmp_path), base_url, tmp_path / "run")
        planned = await plan(settings)
        first = await run(settings)
        after = [f.name for f in await client.get_schema(LEAD)]
        writes_after_first = all_writes(sim)
        second = await run(settings)
        planned_again = await plan(settings)
        writes_after_second = all_writes(sim)
    assert planned == [
        '~ order lead: "Pain Points" before "Industry", "Industry" before "Health Score", '
        '"Health Score" before "Account Owner"'
    ]
    regular = {name: i for i, name in enumerate(before) if name not in WANTED}
    assert {name: i for i, name in enumerate(after) if name not in WANTED} == regular
    assert [name for name in after if name in WANTED] == WANTED
    assert (first.exit_code, second.exit_code) == (0, 0)
    first_lines = result_lines(tmp_path / "run" / "history" / "pass-1" / RESULTS_FILE)
    second_lines = result_lines(tmp_path / "run" / RESULTS_FILE)
    assert [r["row"] for r in first_lines][-1] == 5  # the order row runs after the others
    assert [(r["action"], r["target"], r["outcome"]) for r in first_lines if r["row"] == 5] == [
        ("order", "lead", "updated")
    ]
    assert [r["outcome"] for r in second_lines if r["row"] == 5] == ["unchanged"]
    assert (schema_writes(sim), writes_after_second - writes_after_first) == (1, 0)
    assert planned_again == []


def result_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
