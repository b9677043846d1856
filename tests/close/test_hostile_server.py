"""A hostile server (a small aiohttp app, not the simulator): endless or repeated pages and answers
of the wrong shape are clear errors naming what was seen, never a hang or a traceback."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scf_batch.close.client import CloseClient, open_client
from scf_batch.close.credentials import Credentials
from scf_batch.errors import CloseError, UsageError
from scf_batch.run.orgreader import fetch_snapshot

pytestmark = pytest.mark.anyio

API_KEY = "api_HOSTILEkey0123456789"
ORG = {"id": "orga_1", "name": "Acme"}


def org_answers(fields: list[Any], me: Any = None) -> dict[str, Any]:
    """The answers of an org whose field list is `fields` (one page) and `me/` is `me`."""
    return {
        "me/": {"organizations": [ORG]} if me is None else me,
        "custom_field/shared/": {"data": fields, "has_more": False},
        "role/": {"data": [], "has_more": False},
        "custom_activity/": {"data": [], "has_more": False},
        "custom_object_type/": {"data": [], "has_more": False},
    }


@asynccontextmanager
async def hostile(answers: dict[str, Any]) -> AsyncIterator[tuple[CloseClient, str]]:
    """A client on a server answering each path with `answers[path]` (a callable gets the skip)."""

    async def entry(request: web.Request) -> web.StreamResponse:
        answer = answers[request.path.removeprefix("/api/v1/")]
        if callable(answer):
            answer = answer(int(request.query.get("_skip", "0")))
        return web.json_response(answer)

    app = web.Application()
    app.router.add_route("GET", "/api/v1/{tail:.*}", entry)
    async with TestServer(app) as server:
        url = str(server.make_url("/api/v1/"))
        async with open_client(url, Credentials.api_key(API_KEY), rate_per_s=10_000.0) as client:
            yield client, url


def field(scf_id: Any = "cf_1", **extra: Any) -> dict[str, Any]:
    return {"id": scf_id, "name": "Industry", "type": "text", **extra}


async def test_a_list_that_has_more_forever_stops_at_the_page_bound() -> None:
    """New items on every page with `has_more: true` forever end in an error at the page bound."""
    counter = itertools.count()

    def endless(_: int) -> dict[str, Any]:
        return {"data": [field(f"cf_{next(counter)}")], "has_more": True}

    async with hostile({"custom_field/shared/": endless}) as (client, _):
        client.max_list_pages = 7
        with pytest.raises(CloseError, match=r"still 'has_more' after 7 pages \(7 items\)"):
            await client.list_all("custom_field/shared/")


async def test_a_list_that_repeats_its_page_is_refused_on_the_second_page() -> None:
    """The same page again while `has_more` is true is refused at once, naming the page."""
    page = {"data": [field("cf_1")], "has_more": True}
    async with hostile({"role/": lambda _: page}) as (client, _):
        with pytest.raises(CloseError, match=r"page 2 \(from item 1\) repeats the page before"):
            await client.list_all("role/")


async def test_a_list_past_the_item_bound_is_refused() -> None:
    """A list holding more items than an org can is refused with the count seen."""

    def big(skip: int) -> dict[str, Any]:
        return {"data": [field(f"cf_{skip + n}") for n in range(100)], "has_more": True}

    async with hostile({"role/": big}) as (client, _):
        client.max_list_items = 250
        with pytest.raises(CloseError, match=r"300 items after 3 pages, more than the 250"):
            await client.list_all("role/")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([field(associations="lead")], r"'associations' is a string \"lead\"; expected a list"),
        ([field(associations=[1])], r"association 1 is a number 1; expected an object"),
        ([field(associations=[None])], r"association 1 is null; expected an object"),
        ([field(associations=["lead"])], r"association 1 is a string \"lead\""),
        ([field(associations=[{"object_type": 3}])], r"'object_type' is a number 3"),
        (
            [field(associations=[{"object_type": "lead", "editable_with_roles": "admin"}])],
            r"'editable_with_roles' is a string \"admin\"; expected a list of role ids",
        ),
        ([field(7)], r"item 1: 'id' is a number 7; expected a string"),
        ([field(None)], r"item 1: 'id' is null; expected a string"),
    ],
)
async def test_a_field_of_the_wrong_shape_is_an_error_naming_it(
    fields: list[Any], expected: str
) -> None:
    """A field whose id or associations have the wrong shape is a usage error naming them."""
    async with hostile(org_answers(fields)) as (client, url):
        with pytest.raises(UsageError, match=expected):
            await fetch_snapshot(client, url)


@pytest.mark.parametrize(
    ("me", "expected"),
    [
        ({}, r"'organizations' is null; expected a list of at least one org"),
        ({"organizations": []}, r"'organizations' is a list \[\]"),
        ({"organizations": [{"name": "x"}]}, r"organization 1 is an object"),
    ],
)
async def test_me_without_an_org_is_an_error_naming_it(me: Any, expected: str) -> None:
    """A `me/` that names no organization is a usage error saying what it held."""
    async with hostile(org_answers([], me)) as (client, url):
        with pytest.raises(UsageError, match=expected):
            await fetch_snapshot(client, url)


async def test_a_well_shaped_org_reads() -> None:
    """The same server with well-shaped answers gives a snapshot (the checks refuse no good org)."""
    assoc = {"object_type": "lead", "required": True, "editable_with_roles": ["admin"]}
    async with hostile(org_answers([field(associations=[assoc])])) as (client, url):
        snapshot = await fetch_snapshot(client, url)
    assert snapshot.field_name("cf_1") == "Industry"
    assert snapshot.org is not None
    assert snapshot.org.id == "orga_1"
