"""Protection: which pairs and fields the spec's `protect` guards, by name, and the plan's
refusal to disassociate them."""

from __future__ import annotations

from typing import Any

import pytest

from scf_batch.job.scope import TargetName
from scf_batch.models import (
    Action,
    Association,
    ObjectType,
    Operation,
    Outcome,
    Ref,
    ResolvedOperation,
    StepKind,
    Target,
)
from scf_batch.plan.protect import Protection
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.steps import PlanState, plan_step

FIELDS: list[dict[str, Any]] = [
    {"id": "cf_1", "name": "Industry", "associations": [{"object_type": "lead"}]},
    {"id": "cf_2", "name": "Plan", "associations": []},
]
OBJECT_TYPES = [{"id": "cotype_1", "name": "Subscription"}, {"id": "cotype_2", "name": "Asset"}]
SNAPSHOT = Snapshot.from_lists(None, FIELDS, [], [], OBJECT_TYPES)
PROTECTION = Protection.from_names(
    ["Industry → lead", "Plan → custom_object_type Subscription", "Renewal Risk"]
)


def row(action: Action, scf_id: str, target: Target) -> ResolvedOperation:
    op = Operation(1, 2, action, Ref(id=scf_id), target.object_type)
    return ResolvedOperation(op, scf_id, target)


@pytest.mark.parametrize(
    ("field", "target", "guarded"),
    [
        ("Industry", "lead", True),
        ("Industry", "contact", False),
        ("Plan", 'custom_object_type "Subscription"', True),
        ("Plan", "custom_object_type Subscription", True),
        ("Plan", 'custom_object_type "Asset"', False),
        ("Renewal Risk", "opportunity", True),
        ("Renewal Risk", TargetName(ObjectType.CUSTOM_ACTIVITY_TYPE, "Demo"), True),
        ("Seats", "lead", False),
    ],
)
def test_guards_by_field_and_target_name(
    field: str, target: str | TargetName, guarded: bool
) -> None:
    """A pair entry guards its one target; a field entry every target of the field."""
    assert PROTECTION.guards(field, target) is guarded


def test_a_field_with_any_protected_pair_may_not_be_deleted() -> None:
    """Deleting a field removes all its pairs: guarded when any entry names the field."""
    guarded = [PROTECTION.guards_field(name) for name in ("Industry", "Renewal Risk", "Seats")]
    assert guarded == [True, True, False]


def test_a_resolved_row_is_covered_by_its_names_in_the_snapshot() -> None:
    """The row's ids are named from the snapshot: cf_2 → cotype_1 is Plan → Subscription."""
    covered = [
        PROTECTION.covers(row(Action.DISASSOCIATE, "cf_2", target), SNAPSHOT)
        for target in (
            Target(ObjectType.CUSTOM_OBJECT_TYPE, "cotype_1"),
            Target(ObjectType.CUSTOM_OBJECT_TYPE, "cotype_2"),
        )
    ]
    assert covered == [True, False]


def test_a_protected_disassociate_fails_protected_whatever_the_state() -> None:
    """Present or absent, a protected pair's disassociate is a failing step that sends nothing;
    other actions on it plan as usual."""
    disassociate = row(Action.DISASSOCIATE, "cf_1", Target(ObjectType.LEAD))
    present = plan_step(disassociate, Association(False, frozenset()), protected=True)
    absent = plan_step(disassociate, None, protected=True)
    ensure = plan_step(row(Action.ENSURE, "cf_1", Target(ObjectType.LEAD)), None, protected=True)
    assert [(s.kind, s.outcome) for s in (present, absent, ensure)] == [
        (StepKind.FAIL, Outcome.PROTECTED),
        (StepKind.FAIL, Outcome.PROTECTED),
        (StepKind.CREATE, Outcome.CREATED),
    ]
    assert present.reason == "protected by the job spec's protect"


def test_a_failed_protected_step_leaves_the_pair_for_the_rows_after_it() -> None:
    """The refused disassociate moves no state: an associate after it finds the pair present."""
    plans = PlanState(SNAPSHOT)
    lead = Target(ObjectType.LEAD)
    plans.plan(row(Action.DISASSOCIATE, "cf_1", lead), protected=True)
    after = plans.plan(row(Action.ASSOCIATE, "cf_1", lead))
    assert after.outcome is Outcome.ALREADY_ASSOCIATED


def test_names_the_org_lacks_are_warnings_with_the_closest_name() -> None:
    """A protected field or custom type the org does not have is a warning line per entry."""
    protection = Protection.from_names(["Industy", "Plan → custom_object_type Subscripton"])
    warnings = protection.warnings(SNAPSHOT)
    assert len(warnings) == 2
    assert warnings[0].startswith('protect[0]: found "Industy", the name of no shared custom')
    assert 'did you mean "Industry"?' in warnings[0]
    assert 'protect[1]: found "Subscripton"' in warnings[1]
    assert warnings[1].endswith("it protects nothing until it exists")


def test_an_entry_the_grammar_refuses_is_a_value_error() -> None:
    """from_names is handed the spec's checked entries; one that slipped past is refused."""
    with pytest.raises(ValueError, match="protect: found"):
        Protection.from_names(["A -> B -> lead"])
