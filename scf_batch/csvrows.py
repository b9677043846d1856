"""CSV rows -> Operation | RowError: the header, then each row's cells, checked once.

Most rows of a bulk file are valid, so each row first meets a lean check that only accepts: it
either builds the very Operation the full checks would, or gives up. Only rows it gives up on (a
problem, or something unusual: a row wider or narrower than the header, over 1000 characters in
all, with non-UTF-8 bytes, or under a column without a name) go through the full checks in
cells.py, which describe every problem. The lean check runs the full checks itself on the values
it memoizes by their cells as read (action, target and required; role lists; the field) the
first time it meets them. Conflicts are checked on every valid row.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterator
from typing import Any, Literal, TextIO, overload

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
    conflict_row_error,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
    role_problem,
    show,
)
from scf_batch.conflicts import ConflictTracker, Declared, FieldKey, TargetKey, declaration
from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.models import Action, ObjectType, Operation, Problem, Ref, RowError, RowKind
from scf_batch.repeats import Repeats

# The lean check remembers what it made of the columns that take few values (action, target,
# required) and of role lists: a file names few targets and role lists, whatever its size. Past
# these bounds, new ones are checked on every row; each entry is under ~1 KB, so a few MB at worst.
MAX_KNOWN_SETTINGS = 5_000
MAX_KNOWN_ROLE_LISTS = 5_000
MAX_KNOWN_FIELDS = 5_000
# the cells the lean check reads on every row, in this order; a column the header lacks reads ""
FIELD_COLUMNS = ("scf_id", "scf_name")
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
# checked settings: action, object type, custom type, required, for the conflict tracker the
# target and what the row declares, and the row's kind
Settings = tuple[Action, ObjectType, Ref | None, bool | None, TargetKey, Declared, RowKind]
# a checked role list and the conflict tracker's number for its set of roles (none: no list)
RoleList = tuple[tuple[str, ...], int]
NoRoles = tuple[None, None]


@overload
def csv_items(
    where: str, stream: TextIO, repeats: Repeats | None = None, *, build: Literal[True] = ...
) -> Iterator[Operation | RowError]: ...


@overload
def csv_items(
    where: str, stream: TextIO, repeats: Repeats | None = None, *, build: Literal[False]
) -> Iterator[RowKind | RowError]: ...


def csv_items(
    where: str, stream: TextIO, repeats: Repeats | None = None, *, build: bool = True
) -> Iterator[Operation | RowKind | RowError]:
    """Every data row of the CSV stream, in order; `where` names the file in messages.

    A valid row gives its Operation, or with `build` false its RowKind only. `repeats`: which
    pairs the conflict check keeps past its cap (None: all; see repeats.py).
    """
    reader = csv.reader(stream)
    names = csv_header(where, reader)
    return _CsvRows(where, names, repeats).items(reader, build=build)


class _CsvRows:
    """Turns the cells of each row into an item: the lean check, else the full checks."""

    def __init__(
        self,
        where: str,
        names: list[str | None],
        repeats: Repeats | None = None,
        *,
        lean: bool = True,
    ) -> None:
        self.where, self.names, self.width = where, names, len(names)
        # a value under a column without a name is a problem only the full checks report
        self.lean_width = self.width if lean and None not in names else -1
        self.pad = False  # whether rows get a "" for the columns the header lacks (see _picker)
        self.pick_field = self._picker(FIELD_COLUMNS)
        self.roles_at, self.key_at = self._position("editable_with_roles"), self._position("key")
        self.pick_settings = self._picker(SETTING_COLUMNS)
        self.settings: dict[tuple[str, ...], Settings] = {}
        self.role_lists: dict[str, RoleList | NoRoles] = {"": (None, None)}
        # checked fields by their cells as read: the conflict check's key, and the field
        self.fields: dict[tuple[str, str], tuple[FieldKey, Ref | None]] = {}
        self.tracker = ConflictTracker(repeats)
        self.build = True  # whether valid rows give Operations (else RowKinds); set by items()

    def _picker(self, columns: tuple[str, ...]) -> Callable[[list[str]], Any]:
        """The cells of these columns; the header's missing ones read the "" after the last."""
        return operator.itemgetter(*map(self._position, columns))

    def _position(self, column: str) -> int:
        """Where the column's cell is; a column the header lacks reads the "" after the last."""
        if column in self.names:
            return self.names.index(column)
        self.pad = True
        return self.width

    def items(  # noqa: C901, PLR0912, PLR0915 - the lean check written out on purpose (below)
        self, reader: Any, *, build: bool
    ) -> Iterator[Operation | RowKind | RowError]:
        """The item of every data row the reader gives, blank rows skipped.

        A valid row's item is its Operation, or with `build` false only its RowKind (what
        validating a file needs: building an Operation costs as much as checking the row).

        The lean check is written out in this loop, its names bound to locals once: it runs
        for nearly every row of a file, and a call or an attribute lookup per step costs more
        than the checks themselves (see bench/validate_throughput.py). A row is lean when it has
        the header's width, is short and decodes (so each cell does); its Operation is exactly
        what the full checks would build, or it goes to them (`_full`).
        """
        self.build = build
        where, lean_width, pad, roles_at, key_at = (
            self.where,
            self.lean_width,
            self.pad,
            self.roles_at,
            self.key_at,
        )
        (pick_settings, known_settings, new_settings, known_role_lists, new_role_list) = (
            self.pick_settings,
            self.settings,
            self._settings,
            self.role_lists,
            self._role_list,
        )
        pick_field, known_fields, new_field, record, full, clash_error = (
            self.pick_field,
            self.fields,
            self._field,
            self.tracker.record,
            self._full,
            conflict_row_error,
        )
        row, end, update = 0, reader.line_num, UPDATE
        while True:
            try:
                for cells in reader:
                    start, end = end + 1, reader.line_num
                    joined = "".join(cells)
                    if not joined or joined.isspace():
                        continue
                    row += 1
                    if (
                        len(cells) != lean_width
                        or len(joined) > MAX_VALUE_CHARS
                        or not (joined.isascii() or is_unicode(joined))
                    ):
                        yield full(cells, row, start)
                        continue
                    if pad:
                        cells.append("")  # what the header's missing columns read (see _position)
                    settings = known_settings.get(pick_settings(cells)) or new_settings(cells)
                    roles_text = cells[roles_at]
                    role_list = known_role_lists.get(roles_text) or new_role_list(roles_text)
                    field_cells = pick_field(cells)
                    field = known_fields.get(field_cells) or new_field(field_cells)
                    if field is None or settings is None or role_list is None:
                        if pad:
                            cells.pop()
                        yield full(cells, row, start)
                        continue
                    action, object_type, type_ref, required, target, declared, kind = settings
                    roles, role_number = role_list
                    field_key, field_ref = field
                    if action is update and required is None and roles is None:
                        if pad:
                            cells.pop()
                        yield full(cells, row, start)
                        continue
                    clash = record(target, field_key, declared, role_number, row=row, line=start)
                    if not build:
                        if clash is None:
                            yield kind
                        else:
                            yield clash_error(where, row, start, cells[key_at].strip(), clash)
                        continue
                    key = cells[key_at].strip() or None
                    assert field_ref is not None  # built whenever Operations are (see _field)
                    op = build_operation(
                        row, start, action, field_ref, object_type, type_ref, required, roles, key
                    )
                    yield op if clash is None else conflict_error(where, op, clash)
                return
            except csv.Error as exc:
                row += 1
                start, end = end + 1, reader.line_num
                found = f"CSV that does not parse ({exc})"
                yield RowError(
                    row, start, (Problem(where, start, "row", found, "well-formed CSV"),)
                )

    def _full(self, cells: list[str], row: int, line: int) -> Operation | RowKind | RowError:
        """The full checks of a row, then its conflicts if it is valid."""
        item = _csv_row(self.where, row, line, self.names, [cell.strip() for cell in cells])
        if isinstance(item, RowError):
            return item
        clash = self.tracker.see(item)
        if clash is not None:
            return conflict_error(self.where, item, clash)
        return item if self.build else (item.action.value, item.object_type.value)

    def _field(self, cells: tuple[str, str]) -> tuple[FieldKey, Ref | None] | None:
        """The field of scf_id and scf_name cells not met lately, if valid; remember it.

        Its Ref only when building Operations: a million of them, kept a while in this memo,
        would keep the garbage collector busy (about 5% of validating a file of distinct fields).
        """
        scf_id, scf_name = cells[0].strip(), cells[1].strip()
        key: FieldKey
        if scf_name and not scf_id:
            key, field = (scf_name,), build_ref(None, scf_name) if self.build else None
        elif scf_id and not scf_name and SCF_ID.fullmatch(scf_id):
            key, field = scf_id, build_ref(scf_id, None) if self.build else None
        else:
            return None
        if len(self.fields) >= MAX_KNOWN_FIELDS:
            self.fields.clear()  # a file names few fields, or one per run of rows: start afresh
        self.fields[cells] = key, field
        return key, field

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
        declared = declaration(action, required)
        kind = (action.value, object_type.value)
        settings = (action, object_type, type_ref, required, target, declared, kind)
        if len(self.settings) < MAX_KNOWN_SETTINGS:
            self.settings[cells] = settings
        return settings

    def _role_list(self, cell: str) -> RoleList | NoRoles | None:
        """Check a role list cell not met yet with the full checks; remember it if valid."""
        text = cell.strip()
        found: RoleList | NoRoles = (None, None)
        if text:
            roles = parse_csv_roles(text)
            if isinstance(roles, str) or role_problem(roles) is not None:
                return None
            found = (roles, self.tracker.role_number(frozenset(roles)))
        if len(self.role_lists) < MAX_KNOWN_ROLE_LISTS:
            self.role_lists[cell] = found
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
