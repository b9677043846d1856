"""The inverse of a pass (plan/undo.py): each change the pass made gives one labelled line that
brings back the snapshot's state; what the pass did not change gives nothing; what someone
changed since the pass is left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scf_batch.job.opsfile import OperationsFile
from scf_batch.models import Outcome, Status
from scf_batch.plan.prepare import prepare
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.undo import UndoStep, left_alone, undo_steps
from scf_batch.runfolder.records import ResultLine
from tests.jobfiles import write_jsonl

ME = {"organizations": [{"id": "orga_1", "name": "Org"}]}
MANAGER = "role_" + "m" * 22
ROLES = [{"id": MANAGER, "name": "Sales Manager"}]


def field(scf_id: str, name: str, *associations: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": scf_id, "name": name, "type": "text", "associations": list(associations), **more}


def lead(*, required: bool = False, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"object_type": "lead", "required": required, "editable_with_roles": list(roles)}


BEFORE = Snapshot.from_lists(
    ME,
    [
        field("cf_a", "Alpha"),
        field("cf_b", "Beta", lead(required=True, roles=(MANAGER,))),
        field("cf_c", "Gamma", lead(roles=("admin",))),
        field(
            "cf_d",
            "Tier",
            type="choices",
            choices=["Low", "High"],
            description="How big",
        ),
    ],
    ROLES,
    [],
    [],
)


def ended(*outcomes: Outcome | None) -> dict[int, ResultLine]:
    """Result lines of rows 1..n: ok with the outcome given, failed where None."""
    lines = {}
    for row, outcome in enumerate(outcomes, 1):
        status = Status.OK if outcome is not None else Status.FAILED
        found = outcome if outcome is not None else Outcome.REJECTED
        lines[row] = ResultLine(row, row, None, "", status, found, scf_id=f"cf_new{row}")
    return lines


def undo(tmp_path: Path, rows: list[dict[str, object]], *outcomes: Outcome | None) -> list[Any]:
    """The records of the undo lines of a pass of `rows` that ended as `outcomes`."""
    return [step.record for step in steps(tmp_path, rows, *outcomes)]


def steps(tmp_path: Path, rows: list[dict[str, object]], *outcomes: Outcome | None) -> list[Any]:
    job = write_jsonl(tmp_path / "job.jsonl", rows)
    prepared = prepare(OperationsFile(job).items(), BEFORE, where=str(job), plan=False)
    return undo_steps(BEFORE, prepared, ended(*outcomes))


def test_each_change_to_a_pair_gives_its_inverse_with_its_label(tmp_path: Path) -> None:
    """created -> disassociate (lossy); updated -> the old required and roles (reversible);
    deleted -> associate with the old settings (irreversible), roles by name."""
    rows: list[dict[str, object]] = [
        {"action": "associate", "scf_name": "Alpha", "object_type": "lead"},
        {"action": "update", "scf_name": "Beta", "object_type": "lead", "required": False},
        {"action": "disassociate", "scf_name": "Gamma", "object_type": "lead"},
    ]
    found = undo(tmp_path, rows, Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED)
    head = {"object_type": "lead"}
    assert [
        {"action": "disassociate", "scf_name": "Alpha", **head, "undo": "lossy"},
        {
            "action": "update",
            "scf_name": "Beta",
            **head,
            "required": True,
            "editable_with_roles": ["Sales Manager"],
            "undo": "reversible",
        },
        {
            "action": "associate",
            "scf_name": "Gamma",
            **head,
            "required": False,
            "editable_with_roles": ["admin"],
            "undo": "irreversible",
        },
    ] == found


def test_rows_that_changed_nothing_or_failed_give_nothing(tmp_path: Path) -> None:
    """unchanged, already_associated, not_associated and a failed row: an empty undo job."""
    rows: list[dict[str, object]] = [
        {"action": "ensure", "scf_name": "Beta", "object_type": "lead", "required": True},
        {"action": "associate", "scf_name": "Gamma", "object_type": "lead"},
        {"action": "disassociate", "scf_name": "Alpha", "object_type": "lead"},
        {"action": "associate", "scf_name": "Alpha", "object_type": "contact"},
    ]
    outcomes = (Outcome.UNCHANGED, Outcome.ALREADY_ASSOCIATED, Outcome.NOT_ASSOCIATED, None)
    assert [] == undo(tmp_path, rows, *outcomes)


def test_a_pair_written_twice_is_undone_once_back_to_the_snapshot(tmp_path: Path) -> None:
    """Created then updated by the pass: one disassociate; deleted then created again with
    the same settings: nothing to undo."""
    rows: list[dict[str, object]] = [
        {"action": "associate", "scf_name": "Alpha", "object_type": "lead"},
        {"action": "update", "scf_name": "Alpha", "object_type": "lead", "required": True},
        {"action": "disassociate", "scf_name": "Gamma", "object_type": "lead"},
        {
            "action": "associate",
            "scf_name": "Gamma",
            "object_type": "lead",
            "editable_with_roles": ["admin"],
        },
    ]
    outcomes = (Outcome.CREATED, Outcome.UPDATED, Outcome.DELETED, Outcome.CREATED)
    assert [("disassociate", "Alpha")] == [
        (r["action"], r["scf_name"]) for r in undo(tmp_path, rows, *outcomes)
    ]


def test_a_recreated_pair_is_disassociated(tmp_path: Path) -> None:
    """A pair the snapshot held, removed by someone, then created by the pass: the pass's
    write is undone (the pair goes), labelled lossy."""
    rows: list[dict[str, object]] = [
        {"action": "ensure", "scf_name": "Gamma", "object_type": "lead"},
    ]
    assert [("disassociate", "lossy")] == [
        (r["action"], r["undo"]) for r in undo(tmp_path, rows, Outcome.RECREATED)
    ]


def test_a_created_field_is_deleted_and_its_pairs_go_with_it(tmp_path: Path) -> None:
    """The field's deletion (lossy) is the only line: deleting it removes its associations."""
    rows: list[dict[str, object]] = [
        {"define": "field", "scf_name": "Risk", "type": "text"},
        {"action": "associate", "scf_name": "Risk", "object_type": "lead"},
    ]
    (step,) = steps(tmp_path, rows, Outcome.CREATED, Outcome.CREATED)
    record = {"define": "field", "scf_name": "Risk", "delete": True, "undo": "lossy"}
    assert (record, "cf_new1") == (step.record, step.field_id)


def test_an_updated_field_gets_its_old_description_and_choices(tmp_path: Path) -> None:
    """Choices the pass added are removed (`remove_missing_choices`), the old description
    comes back; labelled reversible."""
    rows: list[dict[str, object]] = [
        {
            "define": "field",
            "scf_name": "Tier",
            "type": "choices",
            "choices": ["Low", "High", "Huge"],
            "description": "Changed",
        },
    ]
    assert [
        {
            "define": "field",
            "scf_name": "Tier",
            "type": "choices",
            "description": "How big",
            "choices": ["Low", "High"],
            "remove_missing_choices": True,
            "accepts_multiple_values": False,
            "undo": "reversible",
        }
    ] == undo(tmp_path, rows, Outcome.UPDATED)


def now_with(*fields: dict[str, Any]) -> Snapshot:
    return Snapshot.from_lists(ME, list(fields), ROLES, [], [])


def test_a_pair_changed_since_the_pass_is_left_alone_and_said(tmp_path: Path) -> None:
    """The pass left Beta → lead not required; someone made it required: that line is dropped
    with a message; Alpha → lead, as the pass left it, keeps its line."""
    rows: list[dict[str, object]] = [
        {"action": "associate", "scf_name": "Alpha", "object_type": "lead"},
        {"action": "update", "scf_name": "Beta", "object_type": "lead", "required": False},
    ]
    found: list[UndoStep] = steps(tmp_path, rows, Outcome.CREATED, Outcome.UPDATED)
    now = now_with(
        field("cf_a", "Alpha", lead()),
        field("cf_b", "Beta", lead(required=True, roles=(MANAGER,))),
    )
    kept, messages = left_alone(found, now)
    assert [("disassociate", "Alpha")] == [(s.record["action"], s.record["scf_name"]) for s in kept]
    assert ['"Beta" → lead: required is now true, the pass left false'] == messages


def test_a_pair_or_field_gone_since_the_pass_is_left_alone(tmp_path: Path) -> None:
    """A pair the pass created that is gone now, and a field it created that is gone: both
    reported, neither written."""
    rows: list[dict[str, object]] = [
        {"define": "field", "scf_name": "Risk", "type": "text"},
        {"action": "associate", "scf_name": "Alpha", "object_type": "lead"},
    ]
    found: list[UndoStep] = steps(tmp_path, rows, Outcome.CREATED, Outcome.CREATED)
    kept, messages = left_alone(found, now_with(field("cf_a", "Alpha")))
    assert [] == kept
    assert [
        'field "Risk": no longer exists',
        '"Alpha" → lead: is no longer associated, the pass left it associated',
    ] == messages


def test_a_field_whose_setting_changed_since_the_pass_is_left_alone(tmp_path: Path) -> None:
    """The pass set Tier's description; someone changed it again: reported, not written."""
    rows: list[dict[str, object]] = [
        {
            "define": "field",
            "scf_name": "Tier",
            "type": "choices",
            "choices": ["Low", "High"],
            "description": "Changed",
        },
    ]
    found: list[UndoStep] = steps(tmp_path, rows, Outcome.UPDATED)
    tier = field("cf_d", "Tier", type="choices", choices=["Low", "High"], description="Other")
    kept, messages = left_alone(found, now_with(tier))
    assert ([], ['field "Tier": description is now "Other", the pass left "Changed"']) == (
        kept,
        messages,
    )


def test_a_deleted_field_is_made_again_with_its_pairs_all_irreversible(tmp_path: Path) -> None:
    """The field's definition as the snapshot holds it, then each of its associations (the
    pass's own disassociate of one of them is not repeated); left alone when a field of that
    name exists again."""
    rows: list[dict[str, object]] = [
        {"action": "disassociate", "scf_name": "Beta", "object_type": "lead"},
        {"define": "field", "scf_name": "Beta", "delete": True},
    ]
    found: list[UndoStep] = steps(tmp_path, rows, Outcome.DELETED, Outcome.DELETED)
    label = {"undo": "irreversible"}
    assert [
        {"define": "field", "scf_name": "Beta", "type": "text", "accepts_multiple_values": False}
        | label,
        {
            "action": "associate",
            "scf_name": "Beta",
            "object_type": "lead",
            "required": True,
            "editable_with_roles": ["Sales Manager"],
        }
        | label,
    ] == [step.record for step in found]
    kept, messages = left_alone(found, now_with(field("cf_z", "Beta")))
    again = "a field of that name exists again"
    assert ([], [f'field "Beta": {again}', f'"Beta" → lead: {again}']) == (kept, messages)
