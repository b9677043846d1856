"""CSV rows -> Operation | RowError: the header, then each row's cells, checked by rowrules."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, TextIO

from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.models import Operation, Problem, RowError
from scf_batch.rowrules import (
    COLUMNS,
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    RowProblems,
    assemble,
    checked_roles,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
)
from scf_batch.text import show


def csv_items(where: str, stream: TextIO) -> Iterator[Operation | RowError]:
    """Every data row of the CSV stream, in order, blank rows skipped; `where` names the file."""
    reader = csv.reader(stream)
    names = csv_header(where, reader)
    row, end = 0, reader.line_num
    while True:
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num
                if not "".join(cells).strip():
                    continue
                row += 1
                yield csv_row(where, row, start, names, [cell.strip() for cell in cells])
            return
        except csv.Error as exc:
            row += 1
            start, end = end + 1, reader.line_num
            found = f"CSV that does not parse ({exc})"
            yield RowError(row, start, (Problem(where, start, "row", found, "well-formed CSV"),))


def csv_header(where: str, reader: Any) -> list[str | None]:
    """The column of each position (None: a column without a name); JobHeaderError if unusable."""
    header = _first_row(where, reader)
    line = reader.line_num
    names = [cell.strip().lower() or None for cell in header]
    problems = []
    for position, name in enumerate(names):
        if name is None:
            continue
        if name not in COLUMNS or not is_unicode(name):
            names[position] = None
            problems.append(Problem(where, line, show(name), "an unknown column", ONE_OF_COLUMNS))
        elif names.index(name) < position:
            problems.append(Problem(where, line, name, "the column twice", "each column once"))
    if "object_type" not in names:
        problems.append(
            Problem(where, line, "object_type", "no such column", "an object_type column")
        )
    if "scf_id" not in names and "scf_name" not in names:
        problems.append(Problem(where, line, "scf_id", "no such column", "scf_id or scf_name"))
    if problems:
        raise JobHeaderError(f"{where}: the header cannot be used", tuple(problems))
    return names


def _first_row(where: str, reader: Any) -> list[str]:
    """The first row that is not blank: the header."""
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                found: list[str] = cells
                return found
    except csv.Error as exc:
        raise JobFileError(f"{where}: the header is not valid CSV: {exc}") from exc
    raise JobFileError(f"{where}: no header row; expected a first line naming the columns")


def csv_row(
    where: str, row: int, line: int, names: list[str | None], cells: list[str]
) -> Operation | RowError:
    """The checks of one row's trimmed cells."""
    bad = RowProblems(where, line)
    if not "".join(cells).isascii():
        _undecodable(names, cells, bad)
    if len(cells) > len(names) or None in names:
        for position, cell in enumerate(cells):
            if cell and (position >= len(names) or names[position] is None):
                found = show(cell)
                bad.add(f"column {position + 1}", found, "nothing in a column without a name")
    texts: dict[str | None, str | None] = dict(zip(names, cells, strict=False))
    if max(map(len, cells)) > MAX_VALUE_CHARS:
        for name, value in texts.items():
            if name is not None and value is not None and len(value) > MAX_VALUE_CHARS:
                bad.add(name, f"a value of {len(value)} characters", f"at most {MAX_VALUE_CHARS}")
                texts[name] = None
    required = _required(texts.get("required"), bad)
    roles = _roles(texts.get("editable_with_roles"), bad)
    return assemble(row, texts, required, roles, bad)


def _undecodable(names: list[str | None], cells: list[str], bad: RowProblems) -> None:
    """Report each cell holding bytes that are not UTF-8, on its own physical line; blank it."""
    line = bad.line
    for position, cell in enumerate(cells):
        if not is_unicode(cell):
            first = next(i for i, char in enumerate(cell) if "\udc80" <= char <= "\udcff")
            column = names[position] if position < len(names) else None
            bad.add(
                column or f"column {position + 1}",
                "bytes that are not UTF-8",
                "UTF-8 text",
                line=line + cell.count("\n", 0, first),
            )
            cells[position] = ""
        line += cell.count("\n")


def _required(text: str | None, bad: RowProblems) -> bool | None:
    if not text:
        return None
    value = parse_csv_bool(text)
    if value is None:
        bad.add("required", show(text), "true or false (also yes/no, 1/0), or empty")
    return value


def _roles(text: str | None, bad: RowProblems) -> tuple[str, ...] | None:
    if not text:
        return None
    roles = parse_csv_roles(text)
    if isinstance(roles, str):
        bad.add("editable_with_roles", roles, 'a ;-separated list or a JSON array like ["admin"]')
        return None
    return checked_roles(roles, bad)
