"""The saved plan as a document: stable text for one state, steps and states by name, staleness
limited to the pairs and fields the job names, and its one reader refusing what is not a plan."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scf_batch.errors import UsageError
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.planfile import (
    PlannedJob,
    SavedPlan,
    is_plan_file,
    parse_plan,
    read_plan,
    render_plan,
    write_plan,
)
from scf_batch.plan.prepare import survey
from scf_batch.plan.saved import PlanBuilder, shown_lines, stale, step_differences
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.view import plan_line
from tests.jobfiles import write_jsonl

ME = {"organizations": [{"id": "orga_1", "name": "Org"}]}
ROLES = [{"id": "role_1", "name": "Sales"}, {"id": "role_2", "name": "Support"}]
JOB = PlannedJob(None, "job.jsonl", "0" * 64)


def field(scf_id: str, name: str, *associations: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": scf_id, "name": name, "type": "text", "associations": list(associations), **more}


def lead(required: bool = False, *roles: str) -> dict[str, Any]:
    return {"object_type": "lead", "required": required, "editable_with_roles": list(roles)}


def contact(required: bool = False) -> dict[str, Any]:
    return {"object_type": "contact", "required": required, "editable_with_roles": []}


def org(*fields: dict[str, Any]) -> Snapshot:
    return Snapshot.from_lists(ME, list(fields), ROLES, [], [])


def base_org() -> Snapshot:
    """Industry on lead (roles: Sales) and on contact; Region on contact; Notes described."""
    return org(
        field("cf_1", "Industry", lead(False, "role_1"), contact()),
        field("cf_2", "Region", contact()),
        field("cf_3", "Notes", description="old"),
    )


def job_file(tmp_path: Path) -> Path:
    """An update of Industry → lead's roles, an ensure of Region → lead, a description."""
    return write_jsonl(
        tmp_path / "job.jsonl",
        [
            {"define": "field", "scf_name": "Notes", "type": "text", "description": "new"},
            {
                "action": "update",
                "scf_name": "Industry",
                "object_type": "lead",
                "editable_with_roles": ["Sales", "Support"],
            },
            {"action": "ensure", "scf_name": "Region", "object_type": "lead", "required": True},
            {"action": "ensure", "scf_name": "Region", "object_type": "lead", "required": True},
        ],
    )


def saved(path: Path, snapshot: Snapshot, created_at: str = "2026-01-01T00:00:00Z") -> SavedPlan:
    builder = PlanBuilder()
    operations = OperationsFile(path)
    report = survey(
        operations.items(),
        snapshot,
        where=operations.where,
        each=lambda prepared: builder.add(prepared, snapshot),
    )
    return builder.build(report, job=JOB, base_url=None, created_at=created_at)


def test_one_state_gives_the_same_text_but_for_created_at(tmp_path: Path) -> None:
    """Two plans of one job against one state differ in their created_at line only; the text
    is indented by 2 with sorted keys, and reads back as the plan it was written from."""
    path = job_file(tmp_path)
    first = render_plan(saved(path, base_org(), "2026-01-01T00:00:00Z"))
    second = render_plan(saved(path, base_org(), "2026-02-02T10:00:00Z"))
    differing = [
        (a, b) for a, b in zip(first.splitlines(), second.splitlines(), strict=True) if a != b
    ]
    assert differing == [
        ('  "created_at": "2026-01-01T00:00:00Z",', '  "created_at": "2026-02-02T10:00:00Z",')
    ]
    assert (
        first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    assert render_plan(parse_plan(first, "plan.json")) == first


def test_steps_hold_their_before_and_after_by_name(tmp_path: Path) -> None:
    """The roles update reads `[Sales] → [Sales, Support]` by name; the pair a row creates is
    absent before; the second ensure of that pair has nothing to do and is no step."""
    plan = saved(job_file(tmp_path), base_org())
    steps = {step.row: step for step in plan.steps}
    assert sorted(steps) == [1, 2, 3]
    assert (steps[2].kind, steps[2].detail["field"], steps[2].detail["target"]) == (
        "update",
        "Industry",
        "lead",
    )
    assert (steps[2].detail["before"], steps[2].detail["after"]) == (
        {"required": False, "editable_with_roles": ["Sales"]},
        {"required": False, "editable_with_roles": ["Sales", "Support"]},
    )
    assert (steps[3].kind, steps[3].detail["before"]) == ("create", None)
    assert steps[1].detail["changes"] == [{"setting": "description", "from": "old", "to": "new"}]


def test_the_shown_lines_are_the_plan_lines(tmp_path: Path) -> None:
    """`plan PLAN.json` shows what `plan` printed: the same line for each step."""
    path = job_file(tmp_path)
    snapshot = base_org()
    printed: list[str] = []

    def show(prepared: Any) -> None:
        line = plan_line(prepared, snapshot)
        if line is not None:
            printed.append(line)

    survey(OperationsFile(path).items(), snapshot, where=str(path), each=show)
    assert shown_lines(saved(path, snapshot)) == printed


def test_planned_from_holds_every_named_pair_and_defined_field(tmp_path: Path) -> None:
    """Each pair a row names (those with nothing to do too) and each field a definition names,
    with its state by name; nothing of the pairs no row names."""
    plan = saved(job_file(tmp_path), base_org())
    pairs = {(s.field, s.target): s.state for s in plan.pairs}
    assert pairs == {
        ("Industry", "lead"): {"required": False, "editable_with_roles": ["Sales"]},
        ("Region", "lead"): None,
    }
    assert [(s.field, s.state and s.state["description"]) for s in plan.fields] == [
        ("Notes", "old")
    ]


def test_a_change_to_a_pair_the_plan_touches_makes_it_stale(tmp_path: Path) -> None:
    """Industry → lead made required since the plan: stale, named with then and now."""
    path = job_file(tmp_path)
    plan = saved(path, base_org())
    moved = org(
        field("cf_1", "Industry", lead(True, "role_1"), contact()),
        field("cf_2", "Region", contact()),
        field("cf_3", "Notes", description="old"),
    )
    assert stale(plan, saved(path, moved)) == [
        '"Industry" → lead: planned from editable_with_roles [Sales], required false, '
        "now editable_with_roles [Sales], required true"
    ]


def test_a_change_to_a_defined_field_makes_it_stale(tmp_path: Path) -> None:
    """The described field's description edited since the plan: stale, by the field's name."""
    path = job_file(tmp_path)
    plan = saved(path, base_org())
    moved = org(
        field("cf_1", "Industry", lead(False, "role_1"), contact()),
        field("cf_2", "Region", contact()),
        field("cf_3", "Notes", description="edited"),
    )
    (line,) = stale(plan, saved(path, moved))
    assert line.startswith('field "Notes": planned from ')
    assert "description edited" in line


def test_changes_to_pairs_the_plan_does_not_touch_leave_it_fresh(tmp_path: Path) -> None:
    """Industry → contact dropped and Region → contact made required (no row names them): the
    plan is not stale and every step planned now is the plan's."""
    path = job_file(tmp_path)
    plan = saved(path, base_org())
    other = org(
        field("cf_1", "Industry", lead(False, "role_1")),
        field("cf_2", "Region", contact(True)),
        field("cf_3", "Notes", description="old"),
    )
    fresh = saved(path, other)
    assert (stale(plan, fresh), step_differences(plan, fresh)) == ([], [])


def test_a_pair_whose_field_is_gone_is_stale_as_not_found(tmp_path: Path) -> None:
    """Region deleted since: its pair is no longer found."""
    path = job_file(tmp_path)
    plan = saved(path, base_org())
    gone = org(
        field("cf_1", "Industry", lead(False, "role_1"), contact()),
        field("cf_3", "Notes", description="old"),
    )
    assert stale(plan, saved(path, gone)) == ['"Region" → lead: planned from absent, now not found']


def test_a_step_that_differs_from_the_plan_is_listed(tmp_path: Path) -> None:
    """A plan whose step was edited by hand does not match what is planned now."""
    path = job_file(tmp_path)
    plan = saved(path, base_org())
    edited = replace(
        plan, steps=(replace(plan.steps[0], shown="~ something else"), *plan.steps[1:])
    )
    assert step_differences(edited, saved(path, base_org())) == [
        'line 1: the plan says `~ something else`, planned now: `~ field "Notes": description '
        "old → new`"
    ]


def test_the_reader_refuses_another_format_or_version(tmp_path: Path) -> None:
    """A JSON object that is not a plan, or a plan of another version: UsageError naming it."""
    text = render_plan(saved(job_file(tmp_path), base_org()))
    with pytest.raises(UsageError, match=r"x\.json: format: expected"):
        parse_plan('{"a": 1}', "x.json")
    with pytest.raises(UsageError, match=r"x\.json: version: found 99; expected 1"):
        parse_plan(text.replace('"version": 1', '"version": 99'), "x.json")
    with pytest.raises(UsageError, match=r"x\.json: found a damaged plan"):
        parse_plan(text.replace('"steps"', '"stepz"'), "x.json")


def test_a_plan_is_told_by_its_content_not_its_suffix(tmp_path: Path) -> None:
    """A plan written under any name reads back as one; an operations file is not a plan."""
    plan = saved(job_file(tmp_path), base_org())
    path = tmp_path / "reviewed.plan"
    write_plan(path, plan)
    assert (is_plan_file(path), read_plan(path)) == (True, plan)
    assert (is_plan_file(job_file(tmp_path)), is_plan_file(tmp_path / "missing")) == (False, False)
