"""CSV rows -> Operation | RowError: the header, then each row's cells, checked once.

Most rows of a bulk file are valid, so each row first meets a lean check that only accepts: it
either builds the very Operation the full checks would, or gives up. Only rows it gives up on (a
problem, or something unusual: a row wider or narrower than the header, over 1000 characters in
all, with non-UTF-8 bytes, or under a column without a name) go through the full checks in
cells.py, which describe every problem. The lean check runs the full checks itself on the few
values it memoizes (action, target and required; role lists) the first time it meets them, and
checks the field on every row. Conflicts are checked on every valid row.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from scf_batch.cells import (
    COLUMNS,
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    SCF_ID,
    RowProblems,
    assemble,
    build_operation,
    build_ref,
    check_action,
    check_target,
    checked_roles,
    conflict_error,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
    role_problem,
    show,
)
from scf_batch.conflicts import ConflictTracker, Declared, FieldKey, TargetKey, declaration
from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.models import Action, ObjectType, Operation, Problem, Ref, RowError

# The lean check remembers what it made of the columns that take few values (action, target,
# required) and of role lists: a file names few targets and role lists, whatever its size. Past
# these bounds, new ones are checked on every row; each entry is under ~1 KB, so a few MB at worst.
MAX_KNOWN_SETTINGS = 5_000
MAX_KNOWN_ROLE_LISTS = 5_000
# the cells the lean check reads on every row, in this order; a column the header lacks reads ""
ROW_COLUMNS = ("scf_id", "scf_name", "editable_with_roles", "key")
SETTING_COLUMNS = (
    "action",
    "required",
    "object_type",
    "custom_activity_type_id",
    "custom_activity_type_name",
    "custom_object_type_id",
    "custom_object_type_name",
)
UPDATE = Action.UPDATE  # a module constant: `Action.UPDATE` is a slow lookup (see conflicts.py)
# checked settings: action, object type, custom type, required, and for the conflict tracker
# the target and what the row declares
Settings = tuple[Action, ObjectType, Ref | None, bool | None, TargetKey, Declared]
# a checked role list and the conflict tracker's number for its set of roles (none: no list)
RoleList = tuple[tuple[str, ...], int]
NoRoles = tuple[None, None]


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
    """Turns the cells of each row into an item: the lean check, else the full checks."""

    def __init__(self, where: str, names: list[str | None]) -> None:
        self.where, self.names, self.width = where, names, len(names)
        # a value under a column without a name is a problem only the full checks report
        self.lean_width = self.width if None not in names else -1
        self.pick = self._picker(ROW_COLUMNS)
        self.pick_settings = self._picker(SETTING_COLUMNS)
        self.settings: dict[tuple[str, ...], Settings] = {}
        self.role_lists: dict[str, RoleList | NoRoles] = {"": (None, None)}
        self.tracker = ConflictTracker()
        self.row = 0

    def _picker(self, columns: tuple[str, ...]) -> Callable[[list[str]], Any]:
        """The cells of these columns; the header's missing ones read the "" after the last."""
        names = self.names
        positions = [names.index(c) if c in names else self.width for c in columns]
        return operator.itemgetter(*positions)

    def read(self, cells: list[str], line: int) -> Operation | RowError | None:
        """The item of one physical row (None for a blank one)."""
        joined = "".join(cells)
        if not joined or joined.isspace():
            return None
        self.row = row = self.row + 1
        # A short, decodable row of the header's width: each cell is short and decodable.
        if (
            len(cells) == self.lean_width
            and len(joined) <= MAX_VALUE_CHARS
            and (joined.isascii() or is_unicode(joined))
        ):
            cells.append("")  # what the header's missing columns read (see _picker)
            item = self._lean(cells, row, line)
            if item is not None:
                return item
            cells.pop()
        item = _csv_row(self.where, row, line, self.names, [cell.strip() for cell in cells])
        if isinstance(item, RowError):
            return item
        clash = self.tracker.see(item)
        return item if clash is None else conflict_error(self.where, item, clash)

    def _lean(self, cells: list[str], row: int, line: int) -> Operation | RowError | None:
        """The row's Operation (or conflict) if it is plainly valid; None: use the full checks.

        Values are checked as the full checks would, trimmed; settings and role lists by their
        untrimmed text, which the memos map to what the trimmed text means.
        """
        scf_id, scf_name, roles_text, key = map(str.strip, self.pick(cells))
        settings = self.settings.get(self.pick_settings(cells)) or self._settings(cells)
        role_list = self.role_lists.get(roles_text) or self._role_list(roles_text)
        if settings is None or role_list is None:
            return None
        field_key: FieldKey
        if scf_id and not scf_name and SCF_ID.fullmatch(scf_id):
            field, field_key = build_ref(scf_id, None), scf_id
        elif scf_name and not scf_id:
            field, field_key = build_ref(None, scf_name), (scf_name,)
        else:
            return None
        action, object_type, type_ref, required, target, declared = settings
        roles, role_number = role_list
        if action is UPDATE and required is None and roles is None:
            return None
        known = (action, field, object_type, type_ref, required, roles)
        op = build_operation(row, line, known, key or None)
        clash = self.tracker.record(target, field_key, declared, role_number, row=row, line=line)
        return op if clash is None else conflict_error(self.where, op, clash)

    def _settings(self, row_cells: list[str]) -> Settings | None:
        """Check settings not met yet with the full checks; remember them if valid."""
        cells = self.pick_settings(row_cells)
        trimmed = [cell.strip() for cell in cells]
        texts: dict[str | None, str | None] = dict(zip(SETTING_COLUMNS, trimmed, strict=True))
        bad = RowProblems(self.where, 0)
        action = check_action(texts["action"], bad)
        object_type, type_ref = check_target(texts, bad)
        required = _required(texts["required"], bad)
        if bad.problems or action is None or object_type is None:
            return None
        target: TargetKey = (
            object_type,
            None if type_ref is None else type_ref.id,
            None if type_ref is None else type_ref.name,
        )
        settings = (action, object_type, type_ref, required, target, declaration(action, required))
        if len(self.settings) < MAX_KNOWN_SETTINGS:
            self.settings[cells] = settings
        return settings

    def _role_list(self, text: str) -> RoleList | None:
        """Check a role list not met yet with the full checks; remember it if valid."""
        roles = parse_csv_roles(text)
        if isinstance(roles, str) or role_problem(roles) is not None:
            return None
        found = (roles, self.tracker.role_number(frozenset(roles)))
        if len(self.role_lists) < MAX_KNOWN_ROLE_LISTS:
            self.role_lists[text] = found
        return found


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
