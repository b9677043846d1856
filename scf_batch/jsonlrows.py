"""JSONL lines -> Operation | RowError: one JSON object a line, typed values checked as given."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from typing import Any

from scf_batch.definitions import FieldDefinition, is_definition, parse_definition
from scf_batch.models import Operation, RowError
from scf_batch.rowrules import (
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    TEXT_COLUMNS,
    RowProblems,
    assemble,
    checked_roles,
    is_unicode,
)
from scf_batch.text import show

BinaryStream = gzip.GzipFile | io.BufferedReader
MAX_LINE_BYTES = 1 << 20  # a line longer than this is reported, not loaded


def jsonl_items(where: str, raw: BinaryStream) -> Iterator[Operation | RowError | FieldDefinition]:
    """Every non-blank line of the stream as a row, in order; `where` names the file."""
    row = 0
    for line, data in enumerate(_jsonl_lines(raw), 1):
        if data is not None and not data.strip():
            continue
        row += 1
        bad = RowProblems(where, line)
        obj = _json_object(data, bad)
        if obj is None:
            yield RowError(row, line, tuple(bad.problems))
            continue
        if is_definition(obj):
            yield parse_definition(row, obj, bad)
            continue
        yield _jsonl_row(row, obj, bad)


def _jsonl_lines(raw: BinaryStream) -> Iterator[bytes | None]:
    """Each physical line's bytes, BOM removed; None for a line over MAX_LINE_BYTES."""
    first = True
    while data := raw.readline(MAX_LINE_BYTES + 1):
        if first:
            data = data.removeprefix(b"\xef\xbb\xbf")
            first = False
        if len(data) <= MAX_LINE_BYTES or data.endswith(b"\n"):
            yield data
            continue
        while data and not data.endswith(b"\n"):  # skip the rest of the long line
            data = raw.readline(MAX_LINE_BYTES)
        yield None


def _json_object(data: bytes | None, bad: RowProblems) -> dict[str, Any] | None:
    if data is None:
        bad.add("row", f"a line over {MAX_LINE_BYTES} bytes", "one short JSON object per line")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad.add("row", f"bytes that are not UTF-8 (at byte {exc.start + 1})", "UTF-8 text")
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too deeply nested"
        bad.add("row", f"JSON that does not parse ({reason})", "one JSON object per line")
        return None
    if not isinstance(obj, dict):
        bad.add("row", f"a JSON {_json_kind(obj)}", "one JSON object per line")
        return None
    return obj


def _jsonl_row(row: int, obj: dict[str, Any], bad: RowProblems) -> Operation | RowError:
    texts: dict[str | None, str | None] = {}
    required: bool | None = None
    roles: tuple[str, ...] | None = None
    for name, value in obj.items():
        if name in TEXT_COLUMNS:
            texts[name] = _json_text(name, value, bad)
        elif name == "required":
            if value is not None and not isinstance(value, bool):
                bad.add(name, _found(value), "true, false or null")
            else:
                required = value
        elif name == "editable_with_roles":
            roles = _json_roles(value, bad)
        else:
            bad.add(show(name), "an unknown key", ONE_OF_COLUMNS)
    return assemble(row, texts, required, roles, bad)


def _json_text(name: str, value: object, bad: RowProblems) -> str | None:
    if name == "key" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        return None
    if not isinstance(value, str):
        bad.add(name, _found(value), "a string" + (" or integer" * (name == "key")))
        return None
    value = value.strip()
    if len(value) > MAX_VALUE_CHARS:
        bad.add(name, f"a value of {len(value)} characters", f"at most {MAX_VALUE_CHARS}")
        return None
    if not is_unicode(value):
        bad.add(name, show(value), "valid Unicode text (no lone surrogates)")
        return None
    return value or None


def _json_roles(value: object, bad: RowProblems) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        found = "a JSON array holding non-strings" if isinstance(value, list) else _found(value)
        bad.add("editable_with_roles", found, "an array of strings or null")
        return None
    return checked_roles(tuple(entry.strip() for entry in value), bad)


def _found(value: object) -> str:
    """A value of the wrong JSON type: the value itself when short, and its type."""
    kind = _json_kind(value)
    if isinstance(value, list | dict):
        return f"a JSON {kind}"
    return f"{show(value)}, a JSON {kind}"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
