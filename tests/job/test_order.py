"""Order lines (`{"define": "order", ...}`): parsed to FieldOrder, every problem named by key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scf_batch.job.opsfile import read_items, read_operations
from scf_batch.job.order import is_order, parse_order
from scf_batch.job.rowrules import RowProblems
from scf_batch.models import FieldOrder, ObjectType, RowError


def parse(obj: dict[str, Any]) -> FieldOrder | RowError:
    """Parse one object as the JSONL reader would, at line 3 of jobs/x.jsonl."""
    return parse_order(2, obj, RowProblems("jobs/x.jsonl", 3))


def test_a_lead_order_line_is_a_field_order() -> None:
    """Object type, field names in order and the key come through."""
    obj = {"define": "order", "object_type": "lead", "fields": ["Industry", "Account Owner"]}
    assert is_order(obj)
    expected = FieldOrder(2, 3, ObjectType.LEAD, None, ("Industry", "Account Owner"))
    assert expected == parse(obj)


def test_a_custom_type_is_named_by_name() -> None:
    """A custom activity type's order names the type by `custom_activity_type_name`."""
    order = parse(
        {
            "define": "order",
            "object_type": "custom_activity_type",
            "custom_activity_type_name": "Demo",
            "fields": ["Call Outcome"],
            "key": 7,
        }
    )
    assert isinstance(order, FieldOrder)
    assert ('custom_activity_type "Demo"', "7") == (order.label, order.key)


@pytest.mark.parametrize(
    ("obj", "column", "expected"),
    [
        ({"object_type": "deal", "fields": ["A"]}, "object_type", "one of lead, contact"),
        ({"object_type": "lead", "fields": []}, "fields", "an array of shared field names"),
        ({"object_type": "lead", "fields": ["A", "A"]}, "fields", "each once"),
        ({"object_type": "lead", "fields": ["A", 3]}, "fields", "an array of shared field"),
        (
            {"object_type": "custom_object_type", "fields": ["A"]},
            "custom_object_type_name",
            "the name",
        ),
        (
            {"object_type": "lead", "custom_object_type_name": "X", "fields": ["A"]},
            "custom_object_type_name",
            "nothing with object_type lead",
        ),
        ({"object_type": "lead", "fields": ["A"], "colour": 1}, '"colour"', "one of define"),
    ],
)
def test_bad_order_lines_name_the_key_found_and_expected(
    obj: dict[str, Any], column: str, expected: str
) -> None:
    """Each problem says where (path, line, key), what was found and what would be valid."""
    error = parse({"define": "order", **obj})
    assert isinstance(error, RowError)
    (problem,) = error.problems
    assert ("jobs/x.jsonl", 3, column) == (problem.path, problem.line, problem.column)
    assert expected in problem.expected


def test_the_jsonl_reader_yields_order_lines_as_field_orders(tmp_path: Path) -> None:
    """An operations file's order line is read as a FieldOrder in its place among the rows; a
    bad one is that row's RowError; the association reader leaves the order out, not the error."""
    path = tmp_path / "job.jsonl"
    lines = [
        {"action": "ensure", "scf_name": "Industry", "object_type": "lead"},
        {"define": "order", "object_type": "lead", "fields": ["Industry", "Region"]},
        {"define": "order", "object_type": "lead"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    items = list(read_items(path))
    assert [type(item).__name__ for item in items] == ["Operation", "FieldOrder", "RowError"]
    assert items[1] == FieldOrder(2, 2, ObjectType.LEAD, None, ("Industry", "Region"))
    assert [type(item).__name__ for item in read_operations(path)] == ["Operation", "RowError"]
