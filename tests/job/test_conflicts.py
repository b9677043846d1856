"""Rows of one file that contradict each other on the same (field, target) pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from scf_batch.job.conflicts import ConflictTracker
from scf_batch.job.opsfile import check_operations
from scf_batch.models import Action, ObjectType, Operation, Ref, RowError
from tests.jobfiles import ACTITYPE, FIELD_1, FIELD_2, csv_of, read

HEADER = "action,scf_id,object_type,custom_activity_type_id,required,editable_with_roles"


def verdicts(tmp_path: Path, *rows: str) -> list[str]:
    """`ok`, or the earlier row a row conflicts with, for each row."""
    out = []
    for item in read(csv_of(tmp_path, *rows, header=HEADER)):
        if isinstance(item, Operation):
            out.append("ok")
        else:
            (problem,) = item.problems
            assert problem.column == "action"
            out.append(problem.found.split("row ")[1].split(")")[0] + ")")
    return out


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # two associate rows with other settings; identical repeats are harmless
        (
            [f"associate,{FIELD_1},lead,,true,", f"associate,{FIELD_1},lead,,false,"],
            ["ok", "1 (line 2)"],
        ),
        ([f"associate,{FIELD_1},lead,,,", f"associate,{FIELD_1},lead,,false,[]"], ["ok", "ok"]),
        # empty required on associate means false
        (
            [f"associate,{FIELD_1},lead,,,", f"associate,{FIELD_1},lead,,true,"],
            ["ok", "1 (line 2)"],
        ),
        # two ensure rows with other settings; ensure leaves unnamed settings alone
        ([f"ensure,{FIELD_1},lead,,,admin", f"ensure,{FIELD_1},lead,,,user"], ["ok", "1 (line 2)"]),
        ([f"ensure,{FIELD_1},lead,,true,", f"ensure,{FIELD_1},lead,,,admin"], ["ok", "ok"]),
        # role order does not matter
        (
            [f"ensure,{FIELD_1},lead,,,admin;user", f"ensure,{FIELD_1},lead,,,user;admin"],
            ["ok", "ok"],
        ),
        # the legitimate lifecycle
        (
            [
                f"associate,{FIELD_1},lead,,false,",
                f"update,{FIELD_1},lead,,true,",
                f"update,{FIELD_1},lead,,false,",
                f"disassociate,{FIELD_1},lead,,,",
                f"associate,{FIELD_1},lead,,true,",
            ],
            ["ok"] * 5,
        ),
        # a declaration after an update must agree with what the update set
        (
            [
                f"associate,{FIELD_1},lead,,false,",
                f"update,{FIELD_1},lead,,true,",
                f"ensure,{FIELD_1},lead,,false,",
            ],
            ["ok", "ok", "2 (line 3)"],
        ),
        # update of a pair the file removed
        (
            [f"disassociate,{FIELD_1},lead,,,", f"update,{FIELD_1},lead,,true,"],
            ["ok", "1 (line 2)"],
        ),
        # other pairs do not interfere
        (
            [
                f"associate,{FIELD_1},lead,,true,",
                f"associate,{FIELD_1},contact,,false,",
                f"associate,{FIELD_2},lead,,false,",
                f"associate,{FIELD_1},custom_activity_type,{ACTITYPE},false,",
            ],
            ["ok"] * 4,
        ),
    ],
)
def test_conflict_rule(tmp_path: Path, rows: list[str], expected: list[str]) -> None:
    """The later row of a contradicting pair of rows is refused, naming the earlier one."""
    assert verdicts(tmp_path, *rows) == expected


def test_conflict_names_the_latest_row_that_set_the_state(tmp_path: Path) -> None:
    """The row named is the one that last set the pair's state, with its physical line."""
    path = csv_of(
        tmp_path,
        f"associate,{FIELD_1},lead,,false,",
        "",
        f"associate,{FIELD_1},lead,,true,",
        header=HEADER,
    )
    last = read(path)[-1]
    assert isinstance(last, RowError)
    assert str(last.problems[0]) == (
        f"{path}:4: action: found associate with required=true, editable_with_roles=[], "
        "contradicting row 1 (line 2) (associate with required=false, editable_with_roles=[]); "
        "expected the settings row 1 (line 2) left (or an update row to change them)"
    )


def test_invalid_and_conflicting_rows_do_not_change_the_state(tmp_path: Path) -> None:
    """A refused row leaves the pair as the earlier rows set it."""
    rows = [
        f"associate,{FIELD_1},lead,,true,",
        f"associate,{FIELD_1},lead,,false,",
        f"associate,{FIELD_1},lead,,maybe,",
        f"associate,{FIELD_1},lead,,true,",
    ]
    items = read(csv_of(tmp_path, *rows, header=HEADER))
    assert [type(item).__name__ for item in items] == [
        "Operation",
        "RowError",
        "RowError",
        "Operation",
    ]


def test_memory_is_per_pair_not_per_row() -> None:
    """Ten thousand rows on two pairs leave two entries in the tracker."""
    tracker = ConflictTracker()
    for row in range(10_000):
        field = Ref(id=FIELD_1 if row % 2 else FIELD_2)
        op = Operation(
            row + 1, row + 2, Action.UPDATE, field, ObjectType.LEAD, required=bool(row % 3)
        )
        assert tracker.see(op) is None
    assert len(tracker) == 2


def test_same_settings_after_a_disassociate_still_cannot_update(tmp_path: Path) -> None:
    """An update naming what a disassociate row also named is refused: the pair is gone."""
    rows = [f"disassociate,{FIELD_1},lead,,true,", f"update,{FIELD_1},lead,,true,"]
    assert verdicts(tmp_path, *rows) == ["ok", "1 (line 2)"]


def test_a_repeated_row_becomes_the_one_named(tmp_path: Path) -> None:
    """Saying the same thing again makes the later row the one a conflict names."""
    rows = [
        f"associate,{FIELD_1},lead,,true,admin",
        f"associate,{FIELD_1},lead,,true,admin",
        f"ensure,{FIELD_1},lead,,false,",
    ]
    assert verdicts(tmp_path, *rows) == ["ok", "ok", "2 (line 3)"]


def test_a_conflict_names_rows_and_lines_past_four_billion() -> None:
    """Rows and lines too large for the tracker's 4-byte columns are still named exactly."""
    tracker = ConflictTracker()
    far_row, far_line = (1 << 32) + 5, (1 << 33) + 9
    first = Operation(far_row, far_line, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)
    assert tracker.see(first) is None
    field, lead = Ref(id=FIELD_1), ObjectType.LEAD
    clash = tracker.see(Operation(far_row + 1, 1, Action.ASSOCIATE, field, lead, required=True))
    assert clash is not None
    assert f"row {far_row} (line {far_line})" in clash[0]
    disassociate = Operation(7, 8, Action.DISASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)
    assert tracker.see(disassociate) is None
    update = Operation(9, 10, Action.UPDATE, Ref(id=FIELD_1), ObjectType.LEAD, required=True)
    clash = tracker.see(update)
    assert clash is not None
    assert "row 7 (line 8) disassociates" in clash[0]


def test_references_are_told_apart_exactly_as_written() -> None:
    """An id and a name with the same text, and the same type id under the two custom object
    types, are different pairs: contradicting settings across them are no conflict."""
    tracker = ConflictTracker()
    rows = [
        (Ref(id=FIELD_1), ObjectType.LEAD, None),
        (Ref(name=FIELD_1), ObjectType.LEAD, None),
        (Ref(id=FIELD_1), ObjectType.CUSTOM_ACTIVITY_TYPE, Ref(id=ACTITYPE)),
        (Ref(id=FIELD_1), ObjectType.CUSTOM_OBJECT_TYPE, Ref(id=ACTITYPE)),
        (Ref(id=FIELD_1), ObjectType.CUSTOM_OBJECT_TYPE, Ref(name=ACTITYPE)),
    ]
    for row, (field, object_type, type_ref) in enumerate(rows, 1):
        op = Operation(row, row + 1, Action.ASSOCIATE, field, object_type, type_ref, row % 2 == 0)
        assert tracker.see(op) is None
    assert len(tracker) == len(rows)
    again = Operation(9, 10, Action.ASSOCIATE, Ref(name=FIELD_1), ObjectType.LEAD, None, False)
    clash = tracker.see(again)
    assert clash is not None
    assert "row 2 (line 3)" in clash[0]


def test_a_conflict_names_roles_as_the_org_names_them(tmp_path: Path) -> None:
    """Read against an org (plan, run, validate --online), a conflict's message shows role ids
    by the org's names for them, as `plan` does; offline the references stay as written."""
    role = "role_4zhUd9gDKwVv0Bbl2Nk0Ud"
    path = csv_of(
        tmp_path,
        f"associate,{FIELD_1},lead,,false,admin;{role}",
        f"associate,{FIELD_1},lead,,false,admin",
        header=HEADER,
    )
    names = {role: "Sales Manager"}
    online = check_operations(path).items(role_name=lambda ref: names.get(ref, ref))
    offline = check_operations(path).items()
    (_, conflict) = list(online)
    (_, raw) = list(offline)
    assert isinstance(conflict, RowError)
    assert isinstance(raw, RowError)
    assert "(associate with required=false, editable_with_roles=[Sales Manager, admin])" in (
        conflict.problems[0].found
    )
    assert role in raw.problems[0].found
