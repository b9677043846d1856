"""The plan of a definition: create, update (choices kept unless asked), unchanged, conflict;
and the projection that lets later rows name a field the job creates."""

from __future__ import annotations

from typing import Any

from scf_batch.models import (
    Action,
    FieldDefinition,
    ObjectType,
    Operation,
    Outcome,
    Ref,
    ResolvedOperation,
    StepKind,
)
from scf_batch.plan.fields import FieldPlanner, ResolvedDefinition, plan_field
from scf_batch.plan.snapshot import Snapshot

ME = {"organizations": [{"id": "orga_1", "name": "Org"}]}
INDUSTRY: dict[str, Any] = {
    "id": "cf_industry", "name": "Industry", "type": "choices", "description": "Sector",
    "choices": ["SaaS", "Retail", "Legacy"], "accepts_multiple_values": False, "associations": [],
}  # fmt: skip


def snapshot(*fields: dict[str, Any]) -> Snapshot:
    types = [{"id": "cotype_contract", "name": "Contract"}]
    return Snapshot.from_lists(ME, list(fields), [], [], types)


def definition(**values: Any) -> FieldDefinition:
    base: dict[str, Any] = {"row": 1, "line": 1, "name": "Industry", "type": "choices"}
    return FieldDefinition(**{**base, **values})


def test_a_missing_field_is_created_with_everything_the_definition_sets() -> None:
    """Create body: name, type, description, choices, multiplicity, the referenced type's id."""
    planner = FieldPlanner(snapshot())
    planned = planner.plan(
        definition(
            name="Parent",
            type="custom_object",
            referenced_type="Contract",
            accepts_multiple_values=False,
            description="d",
        ),
        "j.jsonl",
    )
    assert planned.step is not None
    assert planned.step.kind is StepKind.CREATE
    assert planned.step.body == {
        "name": "Parent", "type": "custom_object", "description": "d",
        "accepts_multiple_values": False, "referenced_custom_type_id": "cotype_contract",
    }  # fmt: skip


def test_choices_the_definition_lacks_are_kept_and_reported() -> None:
    """Adding Finance keeps Legacy (appended) and says so; nothing is removed."""
    resolved = ResolvedDefinition(definition(choices=("SaaS", "Retail", "Finance")), "cf_industry")
    step = plan_field(resolved, INDUSTRY)
    assert (step.kind, step.kept_choices) == (StepKind.UPDATE, ("Legacy",))
    assert step.body == {"choices": ["SaaS", "Retail", "Finance", "Legacy"]}


def test_choices_are_removed_only_when_asked() -> None:
    """remove_missing_choices drops Legacy."""
    wanted = definition(choices=("SaaS", "Retail"), remove_missing_choices=True)
    step = plan_field(ResolvedDefinition(wanted, "cf_industry"), INDUSTRY)
    assert (step.body, step.kept_choices) == ({"choices": ["SaaS", "Retail"]}, ())


def test_a_field_as_defined_is_unchanged_and_another_type_is_a_conflict() -> None:
    """Same settings: nothing to do; another type: fail with outcome conflict."""
    same = definition(choices=("SaaS", "Retail", "Legacy"), description="Sector")
    assert (
        plan_field(ResolvedDefinition(same, "cf_industry"), INDUSTRY).outcome is Outcome.UNCHANGED
    )
    other = plan_field(ResolvedDefinition(definition(type="text"), "cf_industry"), INDUSTRY)
    assert (other.kind, other.outcome) == (StepKind.FAIL, Outcome.CONFLICT)


def test_rows_after_a_definition_resolve_the_new_field_by_name() -> None:
    """The planner's snapshot holds the field the job creates, without associations."""
    planner = FieldPlanner(snapshot())
    planner.plan(definition(name="Risk", choices=("Low",)), "j.jsonl")
    op = Operation(2, 2, Action.ENSURE, Ref(name="Risk"), ObjectType.LEAD)
    resolved = planner.snapshot.resolve(op, "j.jsonl")
    assert isinstance(resolved, ResolvedOperation)
    assert planner.snapshot.association(resolved.pair) is None
    assert planner.snapshot.field_name(resolved.scf_id) == "Risk"


def test_a_field_defined_twice_or_an_unknown_referenced_type_is_a_problem() -> None:
    """Both are problems on the definition's line, in its column."""
    planner = FieldPlanner(snapshot())
    planner.plan(definition(name="Risk", choices=("Low",)), "j.jsonl")
    twice = planner.plan(definition(line=5, name="Risk", choices=("Low",)), "j.jsonl")
    assert [str(p) for p in twice.problems] == [
        'j.jsonl:5: scf_name: found "Risk", defined already on line 1; '
        "expected each field defined once"
    ]
    unknown = planner.plan(
        definition(line=6, name="P", type="custom_object", referenced_type="Asset"), "j.jsonl"
    )
    assert [p.column for p in unknown.problems] == ["referenced_custom_object_type_name"]
