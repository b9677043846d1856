"""Rate limits: fixed windows per (group, key) and (group, org) at 3x, RateLimit and Retry-After
headers in every style, 429 bodies in every style. The test moves the clock; nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from scf_batch.sim.ratelimit import (
    RateLimiter,
    Verdict,
    body_429,
    format_reset,
    header_value,
    retry_after,
)
from tests.sim.conftest import SOURCE_KEY_2, SOURCE_TOKEN, TARGET, TARGET_KEY, Harness, MakeSim

pytestmark = pytest.mark.anyio

ASSOC = f"custom_field/shared/{TARGET['shared_custom_fields'][0]['id']}/association/"


def parse(header: str, sep: str = ", ") -> dict[str, str]:
    return dict(part.split("=") for part in header.split(sep))


async def test_remaining_counts_down_within_a_window(make_sim: MakeSim) -> None:
    """Each request in a window lowers `remaining` by one, from limit - 1 to 0."""
    sim = await make_sim(rate_limit=3)
    headers = [(await sim.call("GET", "me/")).headers["RateLimit"] for _ in range(3)]
    assert [parse(h)["remaining"] for h in headers] == ["2", "1", "0"]
    assert {parse(h)["limit"] for h in headers} == {"3"}


async def test_reset_counts_down_to_the_end_of_the_window(make_sim: MakeSim) -> None:
    """`reset` is the decimal number of seconds left in the window."""
    sim = await make_sim(rate_limit=5, rate_window_s=2)
    first = await sim.call("GET", "me/")
    sim.clock.advance(0.75)
    second = await sim.call("GET", "me/")
    assert (parse(first.headers["RateLimit"])["reset"], second.headers["RateLimit"]) == (
        "2",
        "limit=10, remaining=8, reset=1.25",
    )


async def test_a_burst_over_the_limit_gets_429_with_headers_and_legacy_body(
    make_sim: MakeSim,
) -> None:
    """Over the limit: 429, RateLimit, Retry-After rounded up, Close's old JSON body, no change."""
    sim = await make_sim(rate_limit=2)
    ok = [
        await sim.call("POST", ASSOC, {"object_type": t}, key=TARGET_KEY)
        for t in ("lead", "contact")
    ]
    sim.clock.advance(0.4)
    limited = await sim.call("POST", ASSOC, {"object_type": "opportunity"}, key=TARGET_KEY)
    error = limited.body["error"]
    assert [r.status for r in ok] + [limited.status] == [201, 201, 429]
    assert (limited.headers["RateLimit"], limited.headers["Retry-After"]) == (
        "limit=2, remaining=0, reset=0.6",
        "1",
    )
    assert (error["message"], error["rate_reset"], error["rate_limit"]) == (
        "API call count exceeded for this period", 0.6, 2,
    )  # fmt: skip
    assert (error["rate_window"], error["rate_limit_type"], len(error["rate_endpoint_group"])) == (
        1.0, "key", 40,
    )  # fmt: skip
    state = await sim.call("GET", ASSOC.removesuffix("association/"), key=TARGET_KEY)
    assert [a["object_type"] for a in state.body["associations"]] == ["lead", "contact"]


async def test_429s_are_counted_and_do_not_use_up_the_next_window(make_sim: MakeSim) -> None:
    """A rejected request is not served; after the window the full limit is available again."""
    sim = await make_sim(rate_limit=1)
    statuses = [(await sim.call("GET", "me/")).status for _ in range(3)]
    sim.clock.advance(1.0)
    after = await sim.call("GET", "me/")
    stats = await sim.stats()
    assert (statuses, after.status, parse(after.headers["RateLimit"])["remaining"]) == (
        [200, 429, 429], 200, "0",
    )  # fmt: skip
    assert (stats["rate_limited"], stats["by_group"]["GET me/"]) == (2, {"200": 2, "429": 2})


async def test_retry_after_is_whole_seconds_rounded_up(make_sim: MakeSim) -> None:
    """With 2.3 s left in a 2.5 s window (limit 2), Retry-After says 3."""
    sim = await make_sim(rate_limit=1, rate_window_s=2.5)
    await sim.call("GET", "me/")
    await sim.call("GET", "me/")
    sim.clock.advance(0.2)
    limited = await sim.call("GET", "me/")
    assert (limited.status, limited.headers["Retry-After"]) == (429, "3")


async def test_each_endpoint_group_has_its_own_window(make_sim: MakeSim) -> None:
    """Exhausting GET me/ leaves GET role/ and another method on the same path untouched."""
    sim = await make_sim(rate_limit=1)
    me = [(await sim.call("GET", "me/")).status for _ in range(2)]
    role = await sim.call("GET", "role/")
    assert (me, role.status, parse(role.headers["RateLimit"])["remaining"]) == (
        [200, 429],
        200,
        "0",
    )


async def test_each_key_has_its_own_window(make_sim: MakeSim) -> None:
    """Another key (or a token) of the same org is not limited by the first key's use."""
    sim = await make_sim(rate_limit=1)
    first = await sim.call("GET", "me/")
    second = await sim.call("GET", "me/", key=SOURCE_KEY_2)
    token = await sim.call(
        "GET", "me/", key=None, headers={"Authorization": f"Bearer {SOURCE_TOKEN}"}
    )
    assert [first.status, second.status, token.status] == [200, 200, 200]


async def test_the_org_scope_allows_three_times_a_key_and_trips_across_keys(
    make_sim: MakeSim, seed_with_keys: Callable[[int], Path]
) -> None:
    """With four keys of one org at 1/s each, the fourth key meets the org limit of 3."""
    sim = await make_sim(rate_limit=1, seed_path=seed_with_keys(4))
    replies = [await sim.call("GET", "me/", key=f"api_source_key_{i}") for i in range(1, 5)]
    last = replies[-1]
    assert [r.status for r in replies] == [200, 200, 200, 429]
    assert (last.headers["RateLimit"], last.body["error"]["rate_limit_type"]) == (
        "limit=3, remaining=0, reset=1",
        "org",
    )


async def test_the_header_reports_the_scope_closest_to_its_limit(
    make_sim: MakeSim, seed_with_keys: Callable[[int], Path]
) -> None:
    """When the org has fewer requests left than the key, the header shows the org's numbers."""
    sim = await make_sim(rate_limit=3, seed_path=seed_with_keys(4))
    for key, times in (("api_source_key_1", 3), ("api_source_key_2", 3), ("api_source_key_3", 2)):
        for _ in range(times):
            await sim.call("GET", "me/", key=key)
    reply = await sim.call("GET", "me/", key="api_source_key_4")
    assert parse(reply.headers["RateLimit"]) == {"limit": "9", "remaining": "0", "reset": "1"}


async def test_other_orgs_do_not_share_the_org_window(make_sim: MakeSim) -> None:
    """The target org's requests do not count against the source org."""
    sim = await make_sim(rate_limit=1)
    source = await sim.call("GET", "me/")
    target = await sim.call("GET", "me/", key=TARGET_KEY)
    assert (source.status, target.status) == (200, 200)


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("comma", "limit=1, remaining=0, reset=1"),
        ("semicolon", "limit=1; remaining=0; reset=1"),
        ("none", None),
    ],
)
async def test_header_styles(make_sim: MakeSim, style: str, expected: str | None) -> None:
    """The RateLimit header uses `, ` or `; ` separators, or is absent, on 2xx and 429 alike;
    Retry-After is on every 429 in every style."""
    sim = await make_sim(rate_limit=1, header_style=style)
    ok = await sim.call("GET", "me/")
    limited = await sim.call("GET", "me/")
    assert (ok.headers.get("RateLimit"), limited.headers.get("RateLimit")) == (expected, expected)
    assert limited.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("style", "content_type", "body"),
    [("empty", "application/octet-stream", ""), ("text", "text/plain", "429 Too Many Requests\n")],
)
async def test_body_styles(make_sim: MakeSim, style: str, content_type: str, body: str) -> None:
    """The 429 body can be empty or edge-style plain text instead of the legacy JSON."""
    sim = await make_sim(rate_limit=1, body_style=style)
    await sim.call("GET", "me/")
    limited = await sim.call("GET", "me/")
    assert (limited.status, limited.body) == (429, body)
    if body:
        assert limited.headers["Content-Type"].startswith(content_type)
    assert int(limited.headers["Content-Length"]) == len(body)


async def test_no_header_when_rate_limiting_is_off(sim: Harness) -> None:
    """With rate_limit 0 nothing is limited and no RateLimit header is sent."""
    replies = [await sim.call("GET", "me/") for _ in range(50)]
    assert {(r.status, r.headers.get("RateLimit")) for r in replies} == {(200, None)}


async def test_error_answers_inside_the_limit_carry_the_header(make_sim: MakeSim) -> None:
    """A 404 that passed the limiter still counts and reports the window."""
    sim = await make_sim(rate_limit=5)
    reply = await sim.call("GET", "custom_field/shared/cf_nope/")
    assert (reply.status, parse(reply.headers["RateLimit"])["remaining"]) == (404, "4")


async def test_the_control_endpoints_are_never_limited(make_sim: MakeSim) -> None:
    """`/_sim/*` calls neither count nor get 429, even with the smallest limit."""
    sim = await make_sim(rate_limit=1)
    statuses = [(await sim.call("GET", "/_sim/stats", key=None)).status for _ in range(5)]
    assert statuses == [200] * 5
    assert (await sim.call("GET", "me/")).status == 200


def test_the_window_opens_with_the_first_request_after_the_last_one_ended() -> None:
    """A window starts at its first request and lasts window_s; later requests see less time."""
    limiter = RateLimiter()

    def check(now: float) -> Verdict:
        return limiter.check("g", "k", "o", per_second=2, window_s=1.0, now=now)

    verdicts = [check(10.0), check(10.5), check(10.9), check(11.0), check(13.2)]
    assert [(v.allowed, v.remaining, round(v.reset_s, 3)) for v in verdicts] == [
        (True, 1, 1.0), (True, 0, 0.5), (False, 0, 0.1), (True, 1, 1.0), (True, 1, 1.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("reset_s", "text", "retry"),
    [(1.0, "1", "1"), (0.25, "0.25", "1"), (0.0001, "0.001", "1"), (7.5004, "7.5", "8")],
)
def test_reset_and_retry_after_formatting(reset_s: float, text: str, retry: str) -> None:
    """`reset` is a short decimal, never 0; Retry-After is whole seconds rounded up, at least 1."""
    verdict = Verdict(False, 1, 0, reset_s, "key")
    assert (format_reset(reset_s), retry_after(verdict)) == (text, retry)
    assert header_value(verdict, "semicolon") == f"limit=1; remaining=0; reset={text}"


def test_legacy_body_is_json_with_the_documented_keys() -> None:
    """The legacy 429 body is the deprecated `{"error": {...}}` shape, parseable as JSON."""
    body, content_type = body_429(Verdict(False, 240, 0, 0.13, "org"), "GET me/", 8, "legacy")
    assert content_type == "application/json"
    assert set(json.loads(body)["error"]) == {
        "message", "rate_reset", "rate_limit", "rate_window", "rate_limit_type",
        "rate_endpoint_group",
    }  # fmt: skip
