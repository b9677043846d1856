"""The rules of one operations-file row: its values -> Operation, or every problem. Pure.

The CSV and JSONL readers turn their cells into plain values (trimmed text or None, a bool, a
role tuple) and hand them to `assemble`, so both formats obey the same rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from scf_batch.models import Action, ObjectType, Operation, Problem, Ref, RowError, UndoLabel
from scf_batch.text import did_you_mean, show

TEXT_COLUMNS = (
    "action",
    "scf_id",
    "scf_name",
    "object_type",
    "custom_activity_type_id",
    "custom_activity_type_name",
    "custom_object_type_id",
    "custom_object_type_name",
    "key",
)
COLUMNS = (*TEXT_COLUMNS, "required", "editable_with_roles")

MAX_VALUE_CHARS = 1000  # names, ids, keys and each role; Close's own names are far shorter
MAX_ROLES = 100
# Lines read without a row (blank, or CSV cells all empty) before a file is refused: bounds the
# time a file of newlines takes. A spreadsheet formatted to its last row saves about 1,048,576.
MAX_BLANK_LINES = 2_000_000

# New field ids are cf_ + 43 base62; older ones keep a prefix such as lcf_ and are not sized.
SCF_ID = re.compile(r"cf_[0-9A-Za-z]{43}|[a-z]+cf_[0-9A-Za-z]{1,64}")
ROLE_ID = re.compile(r"role_[0-9A-Za-z]{22}")
# object type -> (id column, name column, id shape, the shape in words)
TYPE_REFS = {
    ObjectType.CUSTOM_ACTIVITY_TYPE: (
        "custom_activity_type_id",
        "custom_activity_type_name",
        re.compile(r"actitype_[0-9A-Za-z]{22}"),
        "actitype_ and 22 letters or digits",
    ),
    ObjectType.CUSTOM_OBJECT_TYPE: (
        "custom_object_type_id",
        "custom_object_type_name",
        re.compile(r"cotype_[0-9A-Za-z]{22}"),
        "cotype_ and 22 letters or digits",
    ),
}
TYPE_REF_COLUMNS = tuple(column for refs in TYPE_REFS.values() for column in refs[:2])
ACTIONS = {action.value: action for action in Action}
OBJECT_TYPES = {object_type.value: object_type for object_type in ObjectType}
CSV_BOOLEANS = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}
ONE_OF_ACTIONS = "one of " + ", ".join(ACTIONS) + " (empty = associate)"
ONE_OF_OBJECT_TYPES = "one of " + ", ".join(OBJECT_TYPES)
ONE_OF_COLUMNS = "one of " + ", ".join(COLUMNS)
# the label `scf-batch undo` gives each line of the job it writes: shown by `plan`, not planned on
UNDO_KEY = "undo"
ONE_OF_UNDO_LABELS = "one of " + ", ".join(UndoLabel) + " or nothing"
SCF_ID_SHAPE = "cf_ and 43 letters or digits (older ids: e.g. lcf_...)"
ROLE_SHAPE = "role_ and 22 letters or digits"


def is_unicode(text: str) -> bool:
    """True unless the text holds lone surrogates (bytes that were not UTF-8, \\ud800 escapes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_csv_bool(text: str) -> bool | None:
    """`true/false/yes/no/1/0` in any case -> bool; anything else -> None (the caller reports)."""
    found = CSV_BOOLEANS.get(text)
    return found if found is not None else CSV_BOOLEANS.get(text.lower())


def parse_csv_roles(text: str) -> tuple[str, ...] | str:
    """A `;`-separated list or a JSON array of strings -> the entries, or what is wrong (a str)."""
    if text.startswith("["):
        try:
            entries = json.loads(text)
        except (ValueError, RecursionError):
            return "a JSON array that does not parse"
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            return "a JSON array holding something other than strings"
        return tuple(entry.strip() for entry in entries)
    return tuple(entry.strip() for entry in text.split(";"))


def role_problem(roles: tuple[str, ...]) -> tuple[str, str] | None:
    """What is wrong with a role list as (found, expected), or None when it is fine."""
    if len(roles) > MAX_ROLES:
        return f"{len(roles)} roles", f"at most {MAX_ROLES}"
    for entry in roles:
        if not entry:
            return "an empty entry", "role ids, built-in slugs or role names, none empty"
        if len(entry) > MAX_VALUE_CHARS:
            return f"an entry of {len(entry)} characters", f"at most {MAX_VALUE_CHARS}"
        if entry.startswith("role_") and not ROLE_ID.fullmatch(entry):
            return show(entry), ROLE_SHAPE
        if not is_unicode(entry):
            return show(entry), "valid UTF-8 text"
    return None


def undo_label(value: object, bad: RowProblems) -> UndoLabel | None:
    """The line's `undo` label (None when it has none), or None after reporting a wrong one."""
    if value is None:
        return None
    if isinstance(value, str) and value in {label.value for label in UndoLabel}:
        return UndoLabel(value)
    bad.add(UNDO_KEY, show(value), ONE_OF_UNDO_LABELS)
    return None


def checked_roles(roles: tuple[str, ...], bad: RowProblems) -> tuple[str, ...] | None:
    """The role list if it is well-formed; otherwise report it and return None."""
    wrong = role_problem(roles)
    if wrong is not None:
        bad.add("editable_with_roles", *wrong)
        return None
    return roles


def conflict_error(where: str, op: Operation, clash: tuple[str, str]) -> RowError:
    """The RowError of a valid row that contradicts an earlier row (see conflicts.py)."""
    return RowError(op.row, op.line, (Problem(where, op.line, "action", *clash),), op.key)


class RowProblems:
    """Collects the problems of one row; cheap to create, nothing allocated until a problem."""

    __slots__ = ("line", "path", "problems")

    def __init__(self, path: str, line: int) -> None:
        self.path = path
        self.line = line
        self.problems: list[Problem] = []

    def has(self, *columns: str) -> bool:
        """A problem was already reported in one of these columns (do not add "missing")."""
        return any(problem.column in columns for problem in self.problems)

    def add(self, column: str, found: str, expected: str, line: int | None = None) -> None:
        """Record one problem; `line` defaults to the row's first line."""
        where = self.line if line is None else line
        self.problems.append(Problem(self.path, where, column, found, expected))


def assemble(
    row: int,
    texts: Mapping[str | None, str | None],
    required: bool | None,
    roles: tuple[str, ...] | None,
    bad: RowProblems,
) -> Operation | RowError:
    """Check the cross-column rules and build the Operation, or the RowError with every problem.

    `texts` holds trimmed text by column; an empty string or None (or no entry) means empty.
    """
    action = check_action(texts.get("action"), bad)
    field = _either(texts, "scf_id", "scf_name", id_shape=SCF_ID, shape_text=SCF_ID_SHAPE, bad=bad)
    object_type, type_ref = check_target(texts, bad)
    nothing_set = required is None and roles is None
    if action is Action.UPDATE and nothing_set and not bad.has("required", "editable_with_roles"):
        bad.add(
            "action",
            "update that sets nothing",
            "a value in required or editable_with_roles (or another action)",
        )
    key = texts.get("key") or None
    if bad.problems or action is None or field is None or object_type is None:
        return RowError(row, bad.line, tuple(bad.problems), key)
    return Operation(
        row=row,
        line=bad.line,
        action=action,
        field=field,
        object_type=object_type,
        type_ref=type_ref,
        required=required,
        editable_with_roles=roles,
        key=key,
    )


def check_action(text: str | None, bad: RowProblems) -> Action | None:
    if not text:
        return Action.ASSOCIATE
    action = ACTIONS.get(text) or ACTIONS.get(text.lower())
    if action is None:
        bad.add("action", show(text), suggesting(ONE_OF_ACTIONS, text, ACTIONS))
    return action


def _either(
    texts: Mapping[str | None, str | None],
    id_column: str,
    name_column: str,
    *,
    id_shape: re.Pattern[str],
    shape_text: str,
    bad: RowProblems,
) -> Ref | None:
    """Exactly one of an id column (well-formed) and a name column."""
    ref_id = texts.get(id_column)
    name = texts.get(name_column)
    if ref_id:
        if name:
            bad.add(name_column, "both an id and a name", f"only one of {id_column}, {name_column}")
            return None
        if id_shape.fullmatch(ref_id) is None:
            bad.add(id_column, show(ref_id), shape_text)
            return None
        return Ref(id=ref_id)
    if name:
        return Ref(name=name)
    if not bad.has(id_column, name_column):
        bad.add(id_column, "nothing", f"an id in {id_column} or a name in {name_column}")
    return None


def suggesting(expected: str, found: str, names: Iterable[str]) -> str:
    """`expected`, and the closest valid names when some are close to what was found."""
    hint = did_you_mean(found, names)
    return f"{expected} ({hint})" if hint else expected


def check_target(
    texts: Mapping[str | None, str | None], bad: RowProblems
) -> tuple[ObjectType | None, Ref | None]:
    """The object type, and the custom type it names when it needs one (and only then)."""
    text = texts.get("object_type")
    object_type = None
    if not text:
        if not bad.has("object_type"):
            bad.add("object_type", "nothing", ONE_OF_OBJECT_TYPES)
    else:
        object_type = OBJECT_TYPES.get(text) or OBJECT_TYPES.get(text.lower())
        if object_type is None:
            bad.add("object_type", show(text), suggesting(ONE_OF_OBJECT_TYPES, text, OBJECT_TYPES))
    refs = TYPE_REFS.get(object_type) if object_type is not None else None
    type_ref = None
    if refs is not None:
        id_column, name_column, id_shape, shape_text = refs
        type_ref = _either(
            texts, id_column, name_column, id_shape=id_shape, shape_text=shape_text, bad=bad
        )
    if object_type is not None:
        for column in TYPE_REF_COLUMNS:
            value = texts.get(column)
            if value and (refs is None or column not in refs):
                bad.add(column, show(value), f"nothing with object_type {object_type.value}")
    return object_type, type_ref
