"""CSV rows -> Operation | RowError: the header, each row's cells, and a fast path for repeats.

Bulk files repeat themselves: a few hundred fields times a few targets and settings. A row whose
cells (all but `key`) equal an earlier valid row's is valid the same way, so its checked values
are taken from a bounded cache and only the key is checked again; conflicts are still checked on
every row. Anything else goes through the full checks in cells.py.
"""

from __future__ import annotations

import csv
import dataclasses
import operator
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from scf_batch.cells import (
    COLUMNS,
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    RowProblems,
    assemble,
    checked_roles,
    conflict_error,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
    show,
)
from scf_batch.conflicts import ConflictTracker, PairState, Plan
from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.models import Action, ObjectType, Operation, Problem, Ref, RowError

# The fast path's memory bound: at most this many remembered rows of at most this many characters
# each (about 1 KB apiece with their checked values, so ~10 MB at worst, whatever the file).
MAX_KNOWN_SHAPES = 10_000
MAX_KNOWN_CHARS = 512
# the checked values of a valid row but its key, its conflict plan and its pair's state
Known = tuple[
    Action, Ref, ObjectType, Ref | None, bool | None, tuple[str, ...] | None, Plan, PairState
]


def _operation_builder() -> Callable[..., Operation]:
    """Operation(...) without the frozen dataclass's per-field object.__setattr__ calls.

    The fast path builds one Operation per row, and the generated __init__ (one
    object.__setattr__ per field) costs more than all its other per-row work; setting the slots
    through their descriptors gives the same, equal object.
    """
    new = object.__new__
    setters = [getattr(Operation, f.name).__set__ for f in dataclasses.fields(Operation)]
    s_row, s_line, s_action, s_field, s_type, s_ref, s_required, s_roles, s_key = setters

    def build(row: int, line: int, known: Known, key: str | None) -> Operation:
        op: Operation = new(Operation)
        s_row(op, row)
        s_line(op, line)
        s_action(op, known[0])
        s_field(op, known[1])
        s_type(op, known[2])
        s_ref(op, known[3])
        s_required(op, known[4])
        s_roles(op, known[5])
        s_key(op, key)
        return op

    return build


build_operation = _operation_builder()


def csv_items(where: str, stream: TextIO) -> Iterator[Operation | RowError]:
    """Every data row of the CSV stream, in order; `where` names the file in messages."""
    reader = csv.reader(stream)
    names = csv_header(where, reader)
    rows = _CsvRows(where, names)
    end = reader.line_num
    while True:
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num
                if cells:
                    item = rows.read(cells, start)
                    if item is not None:
                        yield item
            return
        except csv.Error as exc:
            rows.row += 1
            start, end = end + 1, reader.line_num
            found = f"CSV that does not parse ({exc})"
            yield RowError(
                rows.row, start, (Problem(where, start, "row", found, "well-formed CSV"),)
            )


class _CsvRows:
    """Turns the cells of each row into an item; remembers valid rows' values (the fast path)."""

    def __init__(self, where: str, names: list[str | None]) -> None:
        self.where, self.names, self.width = where, names, len(names)
        self.key_at = names.index("key") if "key" in names else self.width  # width: no key
        self.shape: Callable[[list[str]], Any] = operator.itemgetter(
            *[position for position in range(self.width) if position != self.key_at]
        )
        self.known: dict[Any, Known] = {}
        self.tracker = ConflictTracker()
        self.row = 0

    def read(self, cells: list[str], line: int) -> Operation | RowError | None:
        """The item of one physical row (None for a blank one)."""
        hit = self.known.get(self.shape(cells)) if len(cells) == self.width else None
        if hit is not None:
            key = cells[self.key_at].strip() if self.key_at < self.width else ""
            if len(key) <= MAX_VALUE_CHARS and key.isascii():
                self.row = row = self.row + 1
                op = build_operation(row, line, hit, key or None)
                state = hit[7]
                if state.plan is hit[6]:  # the same settings again: nothing can contradict
                    state.row, state.line = row, line
                    return op
                clash = self.tracker.check(hit[6], row, line)
                return op if clash is None else conflict_error(self.where, op, clash)
        return self._full(cells, line)

    def _full(self, cells: list[str], line: int) -> Operation | RowError | None:
        trimmed = [cell.strip() for cell in cells]
        if not any(trimmed):
            return None
        self.row += 1
        item = _csv_row(self.where, self.row, line, self.names, trimmed)
        if isinstance(item, RowError):
            return item
        planned = self.tracker.plan(item)
        clash = self.tracker.check(planned, self.row, line)
        state = self.tracker.state(planned[0])
        remember = len(cells) == self.width and len(self.known) < MAX_KNOWN_SHAPES
        if remember and state is not None and sum(map(len, cells)) <= MAX_KNOWN_CHARS:
            self.known[self.shape(cells)] = (
                *(item.action, item.field, item.object_type, item.type_ref),
                *(item.required, item.editable_with_roles, planned, state),
            )
        return item if clash is None else conflict_error(self.where, item, clash)


def csv_header(where: str, reader: Any) -> list[str | None]:
    """The column of each position (None: a column without a name); JobHeaderError if unusable."""
    header = None
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                header = cells
                break
    except csv.Error as exc:
        raise JobFileError(f"{where}: the header is not valid CSV: {exc}") from exc
    if header is None:
        raise JobFileError(f"{where}: no header row; expected a first line naming the columns")
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


def _csv_row(
    where: str, row: int, line: int, names: list[str | None], cells: list[str]
) -> Operation | RowError:
    """The full checks of one row's trimmed cells."""
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
