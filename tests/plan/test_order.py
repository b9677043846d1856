"""The order step: only the named shared fields move, among their own places; nothing when the
relative order already holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scf_batch.models import SchemaField
from scf_batch.plan.order import differences, reorder


def schema(*names: str) -> list[SchemaField]:
    """A schema from names; lower-case names are regular fields, others shared."""
    return [SchemaField(id=f"cf_{n}", name=n, is_shared=not n.islower()) for n in names]


def names_of(ids: list[str] | None) -> list[str]:
    """The names behind a PUT body's ids."""
    assert ids is not None
    return [i.removeprefix("cf_") for i in ids]


def test_shared_fields_take_the_wanted_order_and_regular_ones_keep_their_places() -> None:
    """Regular fields stay at their indices; the shared ones fill their own slots in order."""
    current = schema("src", "A", "B", "region", "C")
    assert ["src", "C", "A", "region", "B"] == names_of(reorder(current, ["C", "A", "B"]))


def test_nothing_is_sent_when_the_relative_order_already_holds() -> None:
    """Interleaved regular fields and fields the order does not name do not make a difference."""
    current = schema("A", "x", "Z", "B", "y", "C")
    assert reorder(current, ["A", "B", "C"]) is None
    assert differences(current, ["A", "B", "C"]) == []


def test_unnamed_and_missing_fields_are_left_alone() -> None:
    """A shared field the order does not name keeps its slot; a name the object lacks is
    skipped."""
    current = schema("A", "Z", "B")
    assert ["B", "Z", "A"] == names_of(reorder(current, ["B", "Missing", "A"]))


def test_differences_name_each_pair_the_wrong_way_round() -> None:
    """The plan reads `"Industry" before "Account Owner"` for a neighbouring pair out of order."""
    current = schema("Account Owner", "Industry", "Plan")
    assert ['"Industry" before "Account Owner"'] == differences(
        current, ["Industry", "Account Owner", "Plan"]
    )


@given(st.permutations(["A", "B", "C", "D", "x", "y"]), st.permutations(["A", "B", "C", "D"]))
def test_the_result_has_the_wanted_order_and_regular_positions(
    current: list[str], wanted: list[str]
) -> None:
    """For any schema and order, after the PUT the shared fields read in the wanted order, each
    regular field sits where it was, and reordering again sends nothing."""
    before = schema(*current)
    ids = reorder(before, wanted)
    after = before if ids is None else schema(*names_of(ids))
    assert wanted == [f.name for f in after if f.is_shared]
    assert [i for i, f in enumerate(before) if not f.is_shared] == [
        i for i, f in enumerate(after) if not f.is_shared
    ]
    assert reorder(after, wanted) is None
