"""Exact sync: the prune scope by name, and the prune rows a job's file and the pass's first
snapshot give (numbered after the file's rows, in a fixed order, protected pairs kept)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from scf_batch.job.scope import TargetName
from scf_batch.models import Action, ObjectType, Operation, Ref
from scf_batch.plan.prepare import Item
from scf_batch.plan.protect import Protection
from scf_batch.plan.prune import PrunedJob, PruneScope, prune_rows
from scf_batch.plan.snapshot import Snapshot

LEAD = TargetName(ObjectType.LEAD)
SUBSCRIPTION = TargetName(ObjectType.CUSTOM_OBJECT_TYPE, "Subscription")
FIELDS: list[dict[str, Any]] = [
    {
        "id": "cf_b",
        "name": "Region",
        "associations": [
            {"object_type": "lead"},
            {"object_type": "custom_object_type", "custom_object_type_id": "cotype_1"},
        ],
    },
    {
        "id": "cf_a",
        "name": "Industry",
        "associations": [{"object_type": "lead"}, {"object_type": "contact"}],
    },
]
SNAPSHOT = Snapshot.from_lists(None, FIELDS, [], [], [{"id": "cotype_1", "name": "Subscription"}])


@dataclass(frozen=True)
class FakeRows:
    """A job's rows in memory, as the operations file streams them."""

    rows: tuple[Item, ...]
    where: str = "ops.csv"
    defines_where: str = "ops.csv"

    def items(self, *, role_name: Callable[[str], str] = str) -> Iterator[Item]:
        yield from self.rows


def ensure(row: int, field: str, object_type: ObjectType = ObjectType.LEAD) -> Operation:
    return Operation(row, row + 1, Action.ENSURE, Ref(name=field), object_type)


@pytest.mark.parametrize(
    ("scope", "field", "target", "held"),
    [
        (PruneScope(), "Anything", LEAD, True),
        (PruneScope.from_names(["Industry"], []), "Industry", SUBSCRIPTION, True),
        (PruneScope.from_names(['"Industry"'], []), "Region", LEAD, False),
        (PruneScope.from_names([], ["lead"]), "Region", SUBSCRIPTION, False),
        (PruneScope.from_names([], ["custom_object_type"]), "Region", SUBSCRIPTION, True),
        (PruneScope.from_names([], ['custom_object_type "Subscription"']), "X", SUBSCRIPTION, True),
        (PruneScope.from_names(["Industry"], ["lead"]), "Industry", SUBSCRIPTION, False),
        (PruneScope.from_names(["Industry"], ["lead"]), "Industry", LEAD, True),
    ],
)
def test_the_scope_holds_its_fields_and_targets(
    scope: PruneScope, field: str, target: TargetName, held: bool
) -> None:
    """Empty scope: the whole org; with fields and targets both, an association must match
    both; a bare custom word stands for every type of its kind."""
    assert scope.holds(field, target) is held


def test_prune_rows_are_the_unnamed_pairs_in_a_fixed_order_after_the_files_rows() -> None:
    """Rows 3 and 4 disassociate what the two rows do not name, by field name then target,
    each by ids, on line 0 with keys prune-1 and prune-2 (the snapshot lists Region first)."""
    rows = FakeRows((ensure(1, "Industry"), ensure(2, "Region")))
    pruned = prune_rows(rows, SNAPSHOT, PruneScope(), Protection())
    shown = [
        (op.row, op.line, op.key, op.action, op.field.id, op.object_type, op.type_ref)
        for op in pruned.operations
    ]
    subscription = Ref(id="cotype_1")
    assert shown == [
        (3, 0, "prune-1", Action.DISASSOCIATE, "cf_a", ObjectType.CONTACT, None),
        (4, 0, "prune-2", Action.DISASSOCIATE, "cf_b", ObjectType.CUSTOM_OBJECT_TYPE, subscription),
    ]
    assert pruned.notes == ("prune: 2 associations not in the job to disassociate",)


def test_a_protected_pair_is_kept_and_counted_not_pruned() -> None:
    """Protected pairs in scope are left alone and counted in a note for the plan."""
    rows = FakeRows((ensure(1, "Industry"),))
    protection = Protection.from_names(["Region"])
    pruned = prune_rows(rows, SNAPSHOT, PruneScope(), protection)
    assert [op.field.id for op in pruned.operations] == ["cf_a"]
    assert (pruned.kept, pruned.notes[-1]) == (2, "prune: 2 protected associations kept")


def test_a_row_that_does_not_resolve_stops_the_prune() -> None:
    """A row naming a type the org lacks might name a pair prune would remove: nothing pruned,
    and a note says why."""
    rows = FakeRows((ensure(1, "Industry"), ensure(2, "Regio")))
    pruned = prune_rows(rows, SNAPSHOT, PruneScope(), Protection())
    assert pruned.operations == ()
    assert pruned.notes[0].startswith("prune: nothing pruned: 1 row(s) cannot be read")


def test_the_pruned_job_streams_the_files_rows_then_the_prune_rows() -> None:
    """PrunedJob is what the run reads: the file's items, then the prune operations."""
    rows = FakeRows((ensure(1, "Industry"),))
    job = PrunedJob(
        rows, prune_rows(rows, SNAPSHOT, PruneScope.from_names(["Industry"], []), Protection())
    )
    assert [item.row for item in job.items()] == [1, 2]
    assert job.where == "ops.csv"


def test_scope_names_the_org_lacks_are_warnings() -> None:
    """A prune_fields or prune_object_types name the org lacks is a warning with the closest."""
    scope = PruneScope.from_names(["Industy"], ['custom_object_type "Subscripton"'])
    warnings = scope.warnings(SNAPSHOT)
    assert [w.split(":")[0] for w in warnings] == ["prune_fields", "prune_object_types"]
    assert 'did you mean "Industry"?' in warnings[0]
