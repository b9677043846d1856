"""JSONL lines -> JSON objects -> Operation | RowError: one JSON object a line, typed values
checked as given. Which kind of row a line is (an operation, a field definition) opsfile.py
tells; this module reads the lines and the operations."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from scf_batch.errors import JobFileError
from scf_batch.job.rowrules import (
    COLUMNS,
    MAX_BLANK_LINES,
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    TEXT_COLUMNS,
    UNDO_KEY,
    RowProblems,
    assemble,
    checked_roles,
    is_unicode,
    suggesting,
    undo_label,
)
from scf_batch.models import Operation, RowError
from scf_batch.text import show

BinaryStream = gzip.GzipFile | io.BufferedReader
MAX_LINE_BYTES = 1 << 20  # a line longer than this is reported, not loaded


def jsonl_lines(where: str, raw: BinaryStream) -> Iterator[tuple[int, int, bytes | None]]:
    """(row, line, the line's bytes) for every non-blank line, None for a line past the cap;
    numbered as every reader numbers them. More than MAX_BLANK_LINES blank lines raise
    JobFileError: bounded time for a file of newlines."""
    row = blank = 0
    for line, data in enumerate(_jsonl_lines(raw), 1):
        if data is not None and not data.strip():
            blank += 1
            if blank > MAX_BLANK_LINES:
                raise JobFileError(
                    f"{where}:{line}: found more than {MAX_BLANK_LINES} blank lines; "
                    "expected an operations file"
                )
            continue
        row += 1
        yield row, line, data


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


def json_object(data: bytes | None, bad: RowProblems, encoding: str) -> dict[str, Any] | None:
    """The line's JSON object, or None after reporting why it is none."""
    if data is None:
        bad.add("row", f"a line over {MAX_LINE_BYTES} bytes", "one short JSON object per line")
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if encoding == "utf-8" else encoding
        bad.add("row", f"bytes that are not {label} (at byte {exc.start + 1})", f"{label} text")
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        bad.add("row", f"JSON that does not parse ({_why(exc)})", "one JSON object per line")
        return None
    if not isinstance(obj, dict):
        bad.add("row", f"a JSON {_json_kind(obj)}", "one JSON object per line")
        return None
    return obj


def _why(exc: ValueError | RecursionError) -> str:
    """Why json.loads refused a line, in the user's terms."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    if isinstance(exc, RecursionError):
        return "too deeply nested"
    # int() refuses long digit strings (a guard against quadratic time): only numbers get here
    return f"a number of more than {sys.get_int_max_str_digits()} digits"


def jsonl_row(row: int, obj: dict[str, Any], bad: RowProblems) -> Operation | RowError:
    texts: dict[str | None, str | None] = {}
    required: bool | None = None
    roles: tuple[str, ...] | None = None
    label = undo_label(obj.get(UNDO_KEY), bad)
    for name, value in obj.items():
        if name == UNDO_KEY:
            continue
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
            bad.add(show(name), "an unknown key", suggesting(ONE_OF_COLUMNS, name, COLUMNS))
    made = assemble(row, texts, required, roles, bad)
    return made if label is None or isinstance(made, RowError) else replace(made, undo=label)


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
