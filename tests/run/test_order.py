"""Order rows carried out by the run's executor against the simulator: the target's shared
fields take the source's order with regular fields in place, one result line each, and a rerun
sends no write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from scf_batch.close.client import CloseClient, open_client
from scf_batch.close.credentials import Credentials
from scf_batch.close.retry import RetryPolicy
from scf_batch.models import FieldOrder, ObjectType, Outcome, RowResult, SchemaField, Status, Target
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.executor import Executor
from scf_batch.sim import SimConfig, create_app
from scf_batch.sim.app import SIM
from scf_batch.sim.seedgen import build_seed
from scf_batch.sim.simulator import Simulator

pytestmark = pytest.mark.anyio

SOURCE, TARGET = build_seed()["orgs"]
LEAD = Target(ObjectType.LEAD)
POLICY = RetryPolicy(max_retries=0)


@asynccontextmanager
async def target_client() -> AsyncIterator[tuple[CloseClient, Simulator]]:
    """A client with the target's key on an in-process simulator."""
    app = create_app(SimConfig())
    async with (
        TestServer(app) as server,
        open_client(
            str(server.make_url("/api/v1/")), Credentials.api_key("api_target_key_1")
        ) as client,
    ):
        yield client, app[SIM]


async def associate(client: CloseClient, names: list[str]) -> None:
    """Associate target fields with leads in this order (as an association run would)."""
    by_name = {f["name"]: f["id"] for f in TARGET["shared_custom_fields"]}
    for name in names:
        await client.create_association(by_name[name], {"object_type": "lead"})


def order_of(schema: list[SchemaField]) -> list[str]:
    """The names of a schema."""
    return [f.name for f in schema]


def executor_for(client: CloseClient) -> Executor:
    """The run's executor, over a snapshot order rows do not need."""
    return Executor(client, Snapshot.from_lists(None, [], [], [], []), POLICY, resuming=False)


async def execute(executor: Executor, order: FieldOrder, target: Target) -> RowResult:
    """The order row's result line; `target` is its object with the custom type resolved."""
    row = Prepared(order.row, order.line, order.key, order=order, order_target=target)
    return await executor.execute(row)


def writes(sim: Simulator) -> int:
    """Writes the simulator applied to schemas."""
    counts: dict[str, Any] = sim.stats.writes_applied
    return int(counts.get("PUT custom_field_schema/{object_type}/", 0))


async def test_an_order_row_brings_the_source_order_and_a_rerun_sends_nothing() -> None:
    """After the row the shared fields read in the wanted order, regular ones where they were;
    the result line says updated, and the same row again reads, finds nothing, says unchanged."""
    wanted = ["Pain Points", "Industry", "Health Score", "Account Owner"]
    async with target_client() as (client, sim):
        await associate(client, ["Account Owner", "Industry", "Health Score", "Pain Points"])
        executor = executor_for(client)
        row = FieldOrder(1, 1, ObjectType.LEAD, None, tuple(wanted))
        first = await execute(executor, row, LEAD)
        after = await client.get_schema(LEAD)
        again = await execute(executor, row, LEAD)
    assert ["Lead Source", "Region", *wanted] == order_of(after)
    assert (Status.OK, Outcome.UPDATED, 3) == (first.status, first.outcome, first.requests)
    assert ("order", "lead", "lead") == (first.action, first.object_type, first.target)
    assert (Status.OK, Outcome.UNCHANGED, 1) == (again.status, again.outcome, again.requests)
    assert 1 == writes(sim)


async def test_an_unknown_custom_type_is_a_failed_row_not_a_crash() -> None:
    """A schema 404 (the custom type is gone) ends the row failed, not_found, with the message."""
    async with target_client() as (client, _):
        row = FieldOrder(4, 5, ObjectType.CUSTOM_OBJECT_TYPE, "Gone", ("Plan",))
        target = Target(ObjectType.CUSTOM_OBJECT_TYPE, "cotype_x")
        result = await execute(executor_for(client), row, target)
    assert (Status.FAILED, Outcome.NOT_FOUND, 404) == (
        result.status,
        result.outcome,
        result.http_status,
    )
    assert result.error is not None
    assert "custom_field_schema/custom_object/cotype_x/" in result.error
