"""CloseClient's schema calls against the simulator: the paths per object type, the PUT body,
and an answer of the wrong shape refused at the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scf_batch.close.client import CloseClient, open_client
from scf_batch.close.credentials import Credentials
from scf_batch.errors import ApiError, CloseError
from scf_batch.models import ObjectType, SchemaField, Target
from scf_batch.sim import SimConfig, create_app
from scf_batch.sim.seedgen import build_seed

pytestmark = pytest.mark.anyio

SOURCE = build_seed()["orgs"][0]
ACTIVITY = next(t["id"] for t in SOURCE["custom_activity_types"] if t["name"] == "Discovery Call")
OBJECT = next(t["id"] for t in SOURCE["custom_object_types"] if t["name"] == "Subscription")


@asynccontextmanager
async def sim_client() -> AsyncIterator[CloseClient]:
    """A client with the source's key on an in-process simulator."""
    async with (
        TestServer(create_app(SimConfig())) as server,
        open_client(
            str(server.make_url("/api/v1/")), Credentials.api_key("api_source_key_1")
        ) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("target", "first"),
    [
        (Target(ObjectType.LEAD), "Lead Source"),
        (Target(ObjectType.CUSTOM_ACTIVITY_TYPE, ACTIVITY), "Call Duration"),
        (Target(ObjectType.CUSTOM_OBJECT_TYPE, OBJECT), "SKU"),
    ],
)
async def test_get_schema_reads_each_kind_of_object(target: Target, first: str) -> None:
    """lead, activity/<id> and custom_object/<id> each read as SchemaFields, regular first."""
    async with sim_client() as client:
        fields = await client.get_schema(target)
    assert SchemaField(fields[0].id, first, is_shared=False) == fields[0]
    assert all(f.is_shared for f in fields[1:2])


async def test_put_schema_sends_the_order_that_a_read_then_returns() -> None:
    """The ids put are the order read back."""
    lead = Target(ObjectType.LEAD)
    async with sim_client() as client:
        ids = [f.id for f in reversed(await client.get_schema(lead))]
        await client.put_schema(lead, ids)
        assert ids == [f.id for f in await client.get_schema(lead)]


async def test_put_schema_with_an_id_not_on_the_object_is_an_api_error() -> None:
    """Close's 400 on `fields` surfaces as an ApiError with that field error."""
    async with sim_client() as client:
        with pytest.raises(ApiError) as caught:
            await client.put_schema(Target(ObjectType.LEAD), ["cf_nope"])
    assert ["fields"] == list(caught.value.field_errors)


async def test_a_schema_answer_without_fields_is_refused_at_the_edge() -> None:
    """A 200 whose body lacks a `fields` list of objects with ids is a CloseError naming it."""

    async def handle(_: web.Request) -> web.Response:
        return web.json_response({"fields": [{"name": "no id"}]})

    app = web.Application()
    app.router.add_route("*", "/api/v1/{tail:.*}", handle)
    async with (
        TestServer(app) as server,
        open_client(
            str(server.make_url("/api/v1/")), Credentials.api_key("api_source_key_1")
        ) as client,
    ):
        with pytest.raises(CloseError, match=r"GET custom_field_schema/lead/: expected"):
            await client.get_schema(Target(ObjectType.LEAD))
