"""Field definitions in a JSONL operations file: `{"define": "field", ...}` lines. Pure.

A definition line describes one shared custom field by name, as `ensure` describes an
association: missing -> created, present -> brought in line (fieldplan.py). It is a row like the
others (numbered, one result line), so it gets the same `path:line: column: found X; expected Y`
problems. Only JSONL carries definitions: choices are a list, which a CSV cell holds badly.

    {"define": "field", "scf_name": "Renewal Risk", "type": "choices",
     "choices": ["Low", "Medium", "High"], "description": "...", "accepts_multiple_values": false}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scf_batch.job.rowrules import MAX_VALUE_CHARS, RowProblems, is_unicode, suggesting
from scf_batch.models import REFERENCE_COLUMN, REFERENCING_TYPE, FieldDefinition, RowError
from scf_batch.text import show

DEFINE_KEY = "define"
DEFINE_FIELD = "field"
FIELD_TYPES = (
    "text",
    "number",
    "date",
    "datetime",
    "choices",
    "user",
    "contact",
    "custom_object",
    "hidden",
)
MULTI_VALUE_TYPES = ("user", "choices", "contact", "custom_object")
DEFINITION_KEYS = (
    DEFINE_KEY,
    "scf_name",
    "type",
    "choices",
    "accepts_multiple_values",
    "description",
    REFERENCE_COLUMN,
    "remove_missing_choices",
    "key",
)
MAX_CHOICES = 1000
MAX_DESCRIPTION_CHARS = 10_000
ONE_OF_KEYS = "one of " + ", ".join(DEFINITION_KEYS)


def is_definition(obj: Mapping[str, Any]) -> bool:
    """A JSONL object is a definition when it has the `define` key."""
    return DEFINE_KEY in obj


def parse_definition(
    row: int, obj: Mapping[str, Any], bad: RowProblems
) -> FieldDefinition | RowError:
    """The definition of one JSONL object, or a RowError with every problem found in it."""
    for column in obj:
        if column not in DEFINITION_KEYS:
            expected = suggesting(ONE_OF_KEYS, str(column), DEFINITION_KEYS)
            bad.add(show(column), "an unknown key in a definition", expected)
    if obj.get(DEFINE_KEY) != DEFINE_FIELD:
        bad.add(DEFINE_KEY, show(obj.get(DEFINE_KEY)), f'"{DEFINE_FIELD}"')
    name = _text(obj, "scf_name", bad, needed="the field's name")
    ftype = _field_type(obj.get("type"), bad)
    key = _key(obj.get("key"), bad)
    multiple = _flag(obj, "accepts_multiple_values", bad)
    if multiple and ftype is not None and ftype not in MULTI_VALUE_TYPES:
        bad.add("accepts_multiple_values", "true", "false for a field of type " + ftype)
    choices = _choices(obj.get("choices"), ftype, bad)
    remove = bool(_flag(obj, "remove_missing_choices", bad))
    if remove and ftype is not None and ftype != "choices":
        bad.add("remove_missing_choices", "true", "false or nothing for a field of type " + ftype)
    description = _description(obj.get("description"), bad)
    referenced = _referenced(obj, ftype, bad)
    if bad.problems or name is None or ftype is None:
        return RowError(row, bad.line, tuple(bad.problems), key)
    return FieldDefinition(
        row, bad.line, name, ftype, choices, multiple, description, referenced, remove, key
    )


def _text(obj: Mapping[str, Any], column: str, bad: RowProblems, *, needed: str) -> str | None:
    value = obj.get(column)
    if value is None or value == "":
        bad.add(column, "nothing", needed)
        return None
    if not isinstance(value, str) or not value.strip():
        bad.add(column, show(value), needed + " as a non-blank string")
        return None
    if len(value) > MAX_VALUE_CHARS or not is_unicode(value):
        bad.add(column, show(value), f"valid text of at most {MAX_VALUE_CHARS} characters")
        return None
    return value.strip()


def _field_type(value: object, bad: RowProblems) -> str | None:
    if isinstance(value, str) and value in FIELD_TYPES:
        return value
    found = "nothing" if value is None else show(value)
    bad.add("type", found, "one of " + ", ".join(FIELD_TYPES))
    return None


def _key(value: object, bad: RowProblems) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return None if value is None else str(value)
    if isinstance(value, str) and len(value) <= MAX_VALUE_CHARS and is_unicode(value):
        return value.strip() or None
    bad.add("key", show(value), "a short string or an integer")
    return None


def _flag(obj: Mapping[str, Any], column: str, bad: RowProblems) -> bool | None:
    value = obj.get(column)
    if value is None or isinstance(value, bool):
        return value
    bad.add(column, show(value), "true, false or null")
    return None


def _choices(value: object, ftype: str | None, bad: RowProblems) -> tuple[str, ...] | None:
    if ftype is not None and ftype != "choices":
        if value not in (None, []):
            bad.add("choices", show(value), "nothing for a field of type " + ftype)
        return None
    if value is None or value == []:
        if ftype == "choices":
            bad.add("choices", show(value), "a non-empty array of choices")
        return None
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        bad.add("choices", show(value), "an array of non-blank strings")
        return None
    if len(value) > MAX_CHOICES:
        bad.add("choices", f"{len(value)} choices", f"at most {MAX_CHOICES}")
        return None
    return _distinct_choices([choice.strip() for choice in value], bad)


def _distinct_choices(choices: list[str], bad: RowProblems) -> tuple[str, ...] | None:
    seen: set[str] = set()
    for choice in choices:
        if not is_unicode(choice) or len(choice) > MAX_VALUE_CHARS:
            bad.add("choices", show(choice), f"valid text of at most {MAX_VALUE_CHARS} characters")
            return None
        if choice in seen:
            bad.add("choices", f"{show(choice)} twice", "each choice once")
            return None
        seen.add(choice)
    return tuple(choices)


def _description(value: object, bad: RowProblems) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_unicode(value):
        bad.add("description", show(value), "a string or null")
        return None
    if len(value) > MAX_DESCRIPTION_CHARS:
        bad.add("description", f"{len(value)} characters", f"at most {MAX_DESCRIPTION_CHARS}")
        return None
    return value


def _referenced(obj: Mapping[str, Any], ftype: str | None, bad: RowProblems) -> str | None:
    value = obj.get(REFERENCE_COLUMN)
    if ftype == REFERENCING_TYPE:
        return _text(obj, REFERENCE_COLUMN, bad, needed="the name of the custom object type")
    if value is not None and ftype is not None:
        bad.add(REFERENCE_COLUMN, show(value), "nothing for a field of type " + ftype)
    return None
