"""The lean check of CSV rows accepts only what the full checks accept, and builds the same."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scf_batch.csvrows import _CsvRows
from scf_batch.models import Operation
from tests.jobfiles import ACTITYPE, COTYPE, FIELD_1, FIELD_2, OLD_FIELD, ROLE

HEADERS = [
    [
        "action",
        "scf_id",
        "scf_name",
        "object_type",
        "custom_activity_type_id",
        "custom_object_type_name",
        "required",
        "editable_with_roles",
        "key",
    ],
    ["scf_id", "object_type", "required", "key"],
    ["custom_object_type_name", "object_type", "scf_name", "action", "custom_activity_type_id"],
    ["key", "editable_with_roles", "object_type", "scf_name", "action", None],
]
# plausible and odd cells alike: valid values, their neighbours in case and spacing, junk
cells = st.sampled_from(
    [
        "",
        " ",
        "associate",
        "ensure",
        "update",
        "disassociate",
        "ENSURE",
        " update ",
        "delete",
        FIELD_1,
        FIELD_2,
        OLD_FIELD,
        FIELD_1[:-1],
        "lead",
        "contact",
        "custom_activity_type",
        "custom_object_type",
        "Lead",
        ACTITYPE,
        COTYPE,
        "true",
        "false",
        "yes",
        "0",
        "TRUE",
        "maybe",
        "admin",
        f"admin;{ROLE}",
        f"{ROLE};",
        "role_x",
        '["admin"]',
        "[admin",
        "Sales Team",
        "k1",
        "x" * 1001,
        "caf\udce9",
        "é",
    ]
)


@st.composite
def row_of(draw: st.DrawFn, names: list[str | None]) -> list[str]:
    """A valid row for the header, then maybe a cell changed to any cell, or one more or less."""
    scf_id, scf_name = draw(st.sampled_from([(FIELD_1, ""), (FIELD_2, ""), ("", "Sales Team")]))
    target = draw(
        st.sampled_from(
            [
                ("lead", "", ""),
                ("contact", "", ""),
                ("custom_activity_type", ACTITYPE, ""),
                ("custom_object_type", "", "Deal"),
            ]
        )
    )
    values = {
        "action": draw(st.sampled_from(["", "associate", "ensure", "update", "disassociate"])),
        "scf_id": scf_id,
        "scf_name": scf_name,
        "object_type": target[0],
        "custom_activity_type_id": target[1],
        "custom_object_type_name": target[2],
        "required": draw(st.sampled_from(["", "true", "false"])),
        "editable_with_roles": draw(st.sampled_from(["", "admin", f"admin;{ROLE}"])),
        "key": draw(st.sampled_from(["", "k1"])),
    }
    row = [values.get(name or "", "") for name in names]
    for _ in range(draw(st.integers(0, 2))):
        row[draw(st.integers(0, len(row) - 1))] = draw(cells)
    width = draw(st.integers(len(row) - 1, len(row) + 1))
    return [*row, draw(cells)][:width]


def items(
    names: list[str | None], rows: list[list[str]], lean: bool, build: bool = True
) -> list[object]:
    """What a reader makes of the rows (written out as CSV), with or without its lean check."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    text.seek(0)
    reader = _CsvRows("f.csv", names, lean=lean)
    return list(reader.items(csv.reader(text), build=build))


def kind(item: object) -> object:
    """What validating counts of an item: a valid row's (action, object type), else the item."""
    if isinstance(item, Operation):
        return (item.action.value, item.object_type.value)
    return item


@pytest.mark.parametrize("names", HEADERS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_lean_check_agrees_with_the_full_checks(
    names: list[str | None], data: st.DataObject
) -> None:
    """Rows of any cells give the same items, conflicts included, with the lean check or without."""
    rows = data.draw(st.lists(row_of(names), max_size=8))
    assert items(names, rows, lean=False) == items(names, rows, lean=True)


@pytest.mark.parametrize("names", HEADERS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_validating_finds_what_reading_finds(names: list[str | None], data: st.DataObject) -> None:
    """Without building Operations, the same rows are valid, with the same problems and kinds."""
    rows = data.draw(st.lists(row_of(names), max_size=8))
    expected = [kind(item) for item in items(names, rows, lean=False)]
    assert expected == items(names, rows, lean=True, build=False)


def test_lean_check_accepts_plain_valid_rows() -> None:
    """The common valid row takes the lean path and gives the Operation the full checks give."""
    names: list[str | None] = list(HEADERS[0])
    row = ["ensure", FIELD_1, "", "lead", "", "", "true", f"admin;{ROLE}", "k"]
    reader = _CsvRows("f.csv", names)
    reader._full = None  # type: ignore[assignment,method-assign]  # the lean path must not need it
    (lean,) = reader.items(csv.reader([",".join(row)]), build=True)
    assert isinstance(lean, Operation)
    assert items(names, [row], lean=False) == [lean]
