"""Field order lines in a JSONL operations file: `{"define": "order", ...}`. Pure.

One line per object: the order its shared fields are shown in, by name, the custom type by name
as an operation names it. Only the shared fields' relative order is configuration; regular
fields and shared fields the line does not name keep their places (plan/order.py).

    {"define": "order", "object_type": "lead", "fields": ["Industry", "Account Owner"]}
    {"define": "order", "object_type": "custom_activity_type",
     "custom_activity_type_name": "Demo", "fields": ["Call Outcome", "Attendees"]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scf_batch.job.rowrules import MAX_VALUE_CHARS, RowProblems, is_unicode
from scf_batch.models import TYPE_NAME_KEYS, FieldOrder, ObjectType, RowError
from scf_batch.text import show

DEFINE_ORDER = "order"
ORDER_KEYS = ("define", "object_type", *TYPE_NAME_KEYS.values(), "fields", "key")
ONE_OF_ORDER_KEYS = "one of " + ", ".join(ORDER_KEYS)
MAX_ORDER_FIELDS = 10_000


def is_order(obj: Mapping[str, Any]) -> bool:
    """A JSONL object is an order line when its `define` is "order"."""
    return obj.get("define") == DEFINE_ORDER


def parse_order(row: int, obj: Mapping[str, Any], bad: RowProblems) -> FieldOrder | RowError:
    """The order of one JSONL object, or a RowError with every problem found in it."""
    for column in obj:
        if column not in ORDER_KEYS:
            bad.add(
                show(column), "an unknown key in an order line", "one of " + ", ".join(ORDER_KEYS)
            )
    object_type = _object_type(obj.get("object_type"), bad)
    type_name = _type_name(obj, object_type, bad)
    fields = _fields(obj.get("fields"), bad)
    key = obj.get("key")
    if key is not None and not isinstance(key, str | int):
        bad.add("key", show(key), "a short string or an integer")
    key_text = None if key is None or isinstance(key, bool) else str(key)
    if bad.problems or object_type is None or fields is None:
        return RowError(row, bad.line, tuple(bad.problems), key_text)
    return FieldOrder(row, bad.line, object_type, type_name, fields, key_text)


def _object_type(value: object, bad: RowProblems) -> ObjectType | None:
    if isinstance(value, str) and value in {kind.value for kind in ObjectType}:
        return ObjectType(value)
    found = "nothing" if value is None else show(value)
    bad.add("object_type", found, "one of " + ", ".join(ObjectType))
    return None


def _type_name(
    obj: Mapping[str, Any], object_type: ObjectType | None, bad: RowProblems
) -> str | None:
    wanted = TYPE_NAME_KEYS.get(object_type) if object_type is not None else None
    for object_kind, column in TYPE_NAME_KEYS.items():
        value = obj.get(column)
        if column != wanted:
            if value is not None and object_type is not None:
                bad.add(column, show(value), f"nothing with object_type {object_type.value}")
            continue
        if not isinstance(value, str) or not value.strip():
            found = "nothing" if value is None else show(value)
            bad.add(column, found, f"the name of the {object_kind.value.replace('_', ' ')}")
            return None
        return value.strip()
    return None


def _fields(value: object, bad: RowProblems) -> tuple[str, ...] | None:
    expected = "an array of shared field names, each once"
    if not isinstance(value, list) or not value or len(value) > MAX_ORDER_FIELDS:
        bad.add("fields", "nothing" if value is None else show(value), expected)
        return None
    names: list[str] = []
    for item in value:
        ok = isinstance(item, str) and item.strip() and len(item) <= MAX_VALUE_CHARS
        if not ok or not is_unicode(str(item)) or str(item).strip() in names:
            bad.add("fields", show(item), expected)
            return None
        names.append(str(item).strip())
    return tuple(names)
