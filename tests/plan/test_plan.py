"""The plan: one step per row from the state of its pair, and rows chained in input order."""

from __future__ import annotations

import pytest

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
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.steps import UNRECORDED, PairStates, PlanState, plan_step
from tests.jobfiles import ACTITYPE, FIELD_1, FIELD_2

LEAD = Target(ObjectType.LEAD)
ACTIVITY = Target(ObjectType.CUSTOM_ACTIVITY_TYPE, ACTITYPE)
PLAIN = Association(False, frozenset())
REQUIRED_ADMIN = Association(True, frozenset({"admin"}))


def rop(
    action: Action,
    required: bool | None = None,
    roles: tuple[str, ...] | None = None,
    target: Target = LEAD,
    row: int = 1,
) -> ResolvedOperation:
    op = Operation(row, row + 1, action, Ref(id=FIELD_1), target.object_type, None, required, roles)
    return ResolvedOperation(op, FIELD_1, target, roles)


@pytest.mark.parametrize(
    ("row", "current", "kind", "outcome"),
    [
        (rop(Action.ASSOCIATE), None, StepKind.CREATE, Outcome.CREATED),
        (rop(Action.ASSOCIATE), PLAIN, StepKind.NOTHING, Outcome.ALREADY_ASSOCIATED),
        (rop(Action.ASSOCIATE, True), PLAIN, StepKind.FAIL, Outcome.CONFLICT),
        (rop(Action.ASSOCIATE, None, ("admin",)), PLAIN, StepKind.FAIL, Outcome.CONFLICT),
        (rop(Action.UPDATE, True), None, StepKind.FAIL, Outcome.NOT_ASSOCIATED),
        (rop(Action.UPDATE, False), PLAIN, StepKind.NOTHING, Outcome.UNCHANGED),
        (rop(Action.UPDATE, True), PLAIN, StepKind.UPDATE, Outcome.UPDATED),
        (rop(Action.DISASSOCIATE), None, StepKind.NOTHING, Outcome.NOT_ASSOCIATED),
        (rop(Action.DISASSOCIATE), REQUIRED_ADMIN, StepKind.DELETE, Outcome.DELETED),
        (rop(Action.ENSURE, True, ("admin",)), None, StepKind.CREATE, Outcome.CREATED),
        (rop(Action.ENSURE, True, ("admin",)), REQUIRED_ADMIN, StepKind.NOTHING, Outcome.UNCHANGED),
        (rop(Action.ENSURE, None, ()), REQUIRED_ADMIN, StepKind.UPDATE, Outcome.UPDATED),
        (rop(Action.ENSURE), REQUIRED_ADMIN, StepKind.NOTHING, Outcome.UNCHANGED),
    ],
)
def test_each_action_against_each_state(
    row: ResolvedOperation, current: Association | None, kind: StepKind, outcome: Outcome
) -> None:
    """The table of plan.py: each action, absent / as asked / other settings."""
    step = plan_step(row, current)
    assert (step.kind, step.outcome) == (kind, outcome)


def test_create_body_names_the_custom_type_and_the_settings() -> None:
    """A create sends the bare object type, the type's id, required and the roles it sets."""
    step = plan_step(rop(Action.ENSURE, True, ("user", "admin"), ACTIVITY), None)
    assert step.body == {
        "object_type": "custom_activity_type",
        "custom_activity_type_id": ACTITYPE,
        "required": True,
        "editable_with_roles": ["admin", "user"],
    }
    assert step.after == Association(True, frozenset({"admin", "user"}))


def test_update_sends_only_what_differs_and_says_from_what() -> None:
    """An update's body is the differences; its changes say before and after."""
    step = plan_step(rop(Action.UPDATE, True, ("admin",)), Association(False, frozenset({"admin"})))
    assert step.body == {"required": True}
    assert step.changes == (("required", False, True),)
    assert step.after == Association(True, frozenset({"admin"}))


def test_associate_left_unset_roles_are_not_compared() -> None:
    """associate without roles accepts whatever roles the association has (not a conflict)."""
    current = Association(False, frozenset({"admin"}))
    assert plan_step(rop(Action.ASSOCIATE), current).kind is StepKind.NOTHING


def test_rows_of_a_pair_are_planned_against_what_earlier_rows_leave() -> None:
    """associate -> update -> disassociate -> ensure on one pair, from an empty org."""
    plans = PlanState(Snapshot.from_lists(None, [], [], [], []))
    rows = [
        rop(Action.ASSOCIATE, row=1),
        rop(Action.UPDATE, True, row=2),
        rop(Action.UPDATE, True, row=3),
        rop(Action.DISASSOCIATE, row=4),
        rop(Action.DISASSOCIATE, row=5),
        rop(Action.ENSURE, True, row=6),
    ]
    assert [plans.plan(row).kind for row in rows] == [
        StepKind.CREATE,
        StepKind.UPDATE,
        StepKind.NOTHING,
        StepKind.DELETE,
        StepKind.NOTHING,
        StepKind.CREATE,
    ]


def test_the_chain_starts_from_the_snapshot() -> None:
    """A pair the snapshot shows associated is not created again."""
    fields = [
        {
            "id": FIELD_1,
            "name": "F",
            "associations": [{"object_type": "lead", "required": True, "editable_with_roles": []}],
        }
    ]
    plans = PlanState(Snapshot.from_lists(None, fields, [], [], []))
    assert plans.plan(rop(Action.ENSURE, True)).kind is StepKind.NOTHING
    assert plans.plan(rop(Action.ENSURE, True, target=ACTIVITY)).kind is StepKind.CREATE


def numbered_snapshot() -> Snapshot:
    """FIELD_1 and FIELD_2 without associations, and the custom activity type ACTITYPE."""
    fields = [{"id": f, "name": f, "associations": []} for f in (FIELD_1, FIELD_2)]
    return Snapshot.from_lists(None, fields, [], [{"id": ACTITYPE, "name": "Call"}], [])


def test_pairs_the_snapshot_numbers_are_chained_each_on_its_own() -> None:
    """Each (field, target) keeps its own state: a create on one pair leaves the others absent,
    and a second associate of the same pair finds it present."""
    plans = PlanState(numbered_snapshot())
    other_field = ResolvedOperation(
        Operation(3, 4, Action.ASSOCIATE, Ref(id=FIELD_2), ObjectType.LEAD), FIELD_2, LEAD
    )
    steps = [
        plans.plan(rop(Action.ASSOCIATE, row=1)),
        plans.plan(rop(Action.ASSOCIATE, target=ACTIVITY, row=2)),
        plans.plan(other_field),
        plans.plan(rop(Action.ASSOCIATE, row=4)),
        plans.plan(rop(Action.UPDATE, True, target=ACTIVITY, row=5)),
        plans.plan(rop(Action.ENSURE, True, target=ACTIVITY, row=6)),
    ]
    assert [step.kind for step in steps] == [
        StepKind.CREATE,
        StepKind.CREATE,
        StepKind.CREATE,
        StepKind.NOTHING,
        StepKind.UPDATE,
        StepKind.NOTHING,
    ]
    assert plans.current((FIELD_1, ACTIVITY.path)) == Association(True, frozenset())
    assert plans.current((FIELD_2, ACTIVITY.path)) is None


def test_pair_states_keep_absent_apart_from_unrecorded() -> None:
    """A pair a row deleted is recorded as absent, which is not the same as never recorded."""
    states = PairStates()
    pair = (FIELD_1, LEAD.path)
    assert states.recorded(pair) is UNRECORDED
    states.record(pair, None)
    assert states.recorded(pair) is None
    states.record(pair, REQUIRED_ADMIN)
    assert states.recorded(pair) == REQUIRED_ADMIN
    assert len(states) == 1


def test_pair_states_keep_each_pair_of_the_org_apart() -> None:
    """Every (field, target) keeps its own state, whichever order the rows come in; a pair the
    snapshot lacks (a field created meanwhile) is kept too."""
    snapshot = numbered_snapshot()
    states = PairStates()
    targets = [LEAD, Target(ObjectType.CONTACT), Target(ObjectType.OPPORTUNITY), ACTIVITY]
    pairs = [(scf_id, target.path) for scf_id in snapshot.fields.names for target in targets]
    settings = [None if n % 3 == 0 else Association(n % 2 == 0, frozenset()) for n in range(8)]
    for pair, state in reversed(list(zip(pairs, settings, strict=True))):
        states.record(pair, state)
    states.record(("cf_created_meanwhile", LEAD.path), REQUIRED_ADMIN)
    assert [states.recorded(pair) for pair in pairs] == settings
    assert states.recorded(("cf_created_meanwhile", LEAD.path)) == REQUIRED_ADMIN
    assert len(states) == len(pairs) + 1
