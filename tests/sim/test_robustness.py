"""Whatever a client sends, the operations answer with Close's statuses, never a crash (a 500)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scf_batch.sim import routes, scf
from scf_batch.sim.seedgen import build_seed
from scf_batch.sim.store import load_orgs

SEED = build_seed()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    ["object_type", "custom_activity_type_id", "custom_object_type_id", "required",
     "editable_with_roles", "name", "type", "choices", "description", "accepts_multiple_values"]
)  # fmt: skip
BODIES = st.dictionaries(KEYS | st.text(max_size=5), JSON_VALUES | st.sampled_from(
    ["lead", "custom_activity_type", "custom_object_type", "admin", "choices", "text"]
), max_size=6)  # fmt: skip


def expect_close_status(run: Any, allowed: set[int]) -> None:
    try:
        status, _ = run()
    except scf.ApiError as exc:
        status = exc.status
    assert status in allowed


@settings(max_examples=300, deadline=None)
@given(body=BODIES)
def test_any_association_body_gets_201_or_400(body: dict[str, Any]) -> None:
    """An arbitrary JSON object posted as an association is created (201) or rejected (400)."""
    org = load_orgs(SEED)[1]
    scf_id = next(iter(org.fields))
    expect_close_status(lambda: scf.associate(org, scf_id, body, org.user_id), {201, 400})


@settings(max_examples=300, deadline=None)
@given(body=BODIES)
def test_any_field_body_gets_200_or_400(body: dict[str, Any]) -> None:
    """An arbitrary JSON object posted or put as a field is accepted (200) or rejected (400)."""
    org = load_orgs(SEED)[0]
    scf_id = next(iter(org.fields))
    expect_close_status(lambda: scf.create_field(org, body, "user_x", random.Random(0)), {200, 400})
    expect_close_status(lambda: scf.update_field(org, scf_id, body, "user_x"), {200, 400})


@settings(max_examples=300, deadline=None)
@given(body=BODIES)
def test_any_association_update_gets_200_or_400(body: dict[str, Any]) -> None:
    """An arbitrary PUT body on an existing association is applied (200) or rejected (400)."""
    org = load_orgs(SEED)[0]
    scf_field = next(f for f in org.fields.values() if f.associations)
    key = next(iter(scf_field.associations))
    expect_close_status(
        lambda: scf.update_association(org, scf_field.id, key, body, "user_x"), {200, 400}
    )


@given(tail=st.lists(st.sampled_from(["custom_field", "shared", "cf_1", "association", "lead",
       "custom_activity_type", "actitype_1", "me", "", "x"]), max_size=7).map("/".join),
       slash=st.booleans())  # fmt: skip
def test_route_resolution_never_fails(tail: str, slash: bool) -> None:
    """Any path resolves to a known template or to None (a 404), never an exception."""
    route = routes.resolve(tail + ("/" if slash else ""))
    assert route is None or route.template in routes.METHODS
