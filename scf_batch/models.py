"""The domain values every other module speaks in: operations, row errors, statuses. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    ASSOCIATE = "associate"
    UPDATE = "update"
    DISASSOCIATE = "disassociate"
    ENSURE = "ensure"


class UndoLabel(StrEnum):
    """What undoing one change of a pass gives back (the `undo` key of an undo job's lines)."""

    REVERSIBLE = "reversible"  # the settings come back as they were
    LOSSY = "lossy"  # undoing it deletes the values people entered since the pass
    IRREVERSIBLE = "irreversible"  # the settings come back, not the values the pass deleted

    @property
    def why(self) -> str:
        """What the label means, as `plan` shows it beside the step."""
        return UNDO_WHY[self]


UNDO_WHY = {
    UndoLabel.REVERSIBLE: "reversible",
    UndoLabel.LOSSY: "lossy: deletes the values entered since the pass",
    UndoLabel.IRREVERSIBLE: "irreversible: the values the pass deleted are gone",
}


class ObjectType(StrEnum):
    LEAD = "lead"
    CONTACT = "contact"
    OPPORTUNITY = "opportunity"
    CUSTOM_ACTIVITY_TYPE = "custom_activity_type"
    CUSTOM_OBJECT_TYPE = "custom_object_type"

    @property
    def needs_type_ref(self) -> bool:
        """Custom activity and custom object types name a specific type besides the bare word."""
        return self in (ObjectType.CUSTOM_ACTIVITY_TYPE, ObjectType.CUSTOM_OBJECT_TYPE)


# the roles every Close org has, named by these words rather than by a role id
BUILTIN_ROLES = frozenset({"admin", "superuser", "user", "restricted_user"})


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    INVALID = "invalid"


class StepKind(StrEnum):
    """What the plan of one row does to the org."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOTHING = "nothing"
    FAIL = "fail"

    @property
    def writes(self) -> bool:
        return self in (StepKind.CREATE, StepKind.UPDATE, StepKind.DELETE)


# (setting, value before, value after) of an update
Change = tuple[str, Any, Any]


# why a row that would disassociate or delete what a job spec's `protect` names fails
PROTECTED_REASON = "protected by the job spec's protect"


class Outcome(StrEnum):
    """How a row ended. `created` is never the label of a pair that existed before the run: one
    the snapshot held and someone else removed meanwhile, then created again, is `recreated`."""

    CREATED = "created"
    RECREATED = "recreated"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    ALREADY_ASSOCIATED = "already_associated"
    NOT_ASSOCIATED = "not_associated"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    GAVE_UP = "gave_up"
    INVALID = "invalid"
    PROTECTED = "protected"  # a disassociate of a pair the job spec's `protect` names: not sent


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to an object of the org by id or by exact name; exactly one is set."""

    id: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        return self.id if self.id is not None else f"name:{self.name}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One validated row of an operations file.

    `row` is the 1-based data row, `line` the physical line it starts on. `required` and
    `editable_with_roles` are None when the row leaves them unset; roles are references
    (role ids, built-in slugs or role names) to be resolved against the org.
    """

    row: int
    line: int
    action: Action
    field: Ref
    object_type: ObjectType
    type_ref: Ref | None = None
    required: bool | None = None
    editable_with_roles: tuple[str, ...] | None = None
    key: str | None = None
    undo: UndoLabel | None = None  # the label an undo job gives the row; not planned on


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one row: where, what was found, what would be valid."""

    path: str
    line: int
    column: str
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.detail()}"

    def detail(self) -> str:
        """What was found and what would be valid, for a line that already says where."""
        return f"{self.column}: found {self.found}; expected {self.expected}"


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not become an Operation, with every problem found in it."""

    row: int
    line: int
    problems: tuple[Problem, ...]
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What a field is associated with: an object type and, for custom types, the type's id."""

    object_type: ObjectType
    type_id: str | None = None

    @property
    def path(self) -> str:
        """The `{object_type}` URL part: `lead`, or `custom_activity_type/actitype_...`."""
        if self.type_id is None:
            return self.object_type.value
        return f"{self.object_type.value}/{self.type_id}"


@dataclass(frozen=True, slots=True)
class ResolvedOperation:
    """An Operation whose names were resolved to ids in the org it will run against.

    `editable_with_roles` holds role ids and built-in slugs only; None means "not set".
    """

    op: Operation
    scf_id: str
    target: Target
    editable_with_roles: tuple[str, ...] | None = None

    @property
    def pair(self) -> tuple[str, str]:
        """(field id, target path): rows with the same pair must run in input order."""
        return (self.scf_id, self.target.path)


@dataclass(frozen=True, slots=True)
class Association:
    """The settings of an existing association: what the plan compares rows with."""

    required: bool
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class RowResult:
    """What happened to one input row: the line `results.jsonl` gets for it.

    `requests` counts what was sent for the row (0 when the snapshot showed nothing to do),
    `retries` those of them that repeated a request after a 429 or a transient error; `note`
    says what the outcome alone does not (a `recreated` pair: removed after the snapshot).
    """

    row: int
    line: int
    key: str | None
    action: str
    status: Status
    outcome: Outcome
    scf_id: str | None = None
    scf_name: str | None = None
    object_type: str | None = None
    target: str | None = None
    target_name: str | None = None
    org: str | None = None
    http_status: int | None = None
    requests: int = 0
    retries: int = 0
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()
    duration_ms: int = 0
    finished_at: str = ""
    note: str | None = None  # what a reader should know of an ok row (e.g. removed meanwhile)


@dataclass(frozen=True, slots=True)
class SchemaField:
    """One entry of an object's custom field schema (display order): regular or shared."""

    id: str
    name: str
    is_shared: bool


# a `custom_object` field names the custom object type it points to, in this definition column
REFERENCING_TYPE = "custom_object"
REFERENCE_COLUMN = "referenced_custom_object_type_name"


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    """One definition line: the field as the job wants it; None = "as it is" (create: omitted).

    `referenced_type` names the custom object type of a `custom_object` field.
    `remove_missing_choices`: choices the org's field has and the definition lacks are removed
    (by default they are kept and reported: removing one can orphan stored values).
    """

    row: int
    line: int
    name: str
    type: str
    choices: tuple[str, ...] | None = None
    accepts_multiple_values: bool | None = None
    description: str | None = None
    referenced_type: str | None = None
    remove_missing_choices: bool = False
    key: str | None = None
    delete: bool = False  # the field is deleted, with every value stored in it
    undo: UndoLabel | None = None  # the label an undo job gives the line; not planned on


# the column (or JSONL key) that names the custom type of an object, by its object type
TYPE_NAME_KEYS = {
    ObjectType.CUSTOM_ACTIVITY_TYPE: "custom_activity_type_name",
    ObjectType.CUSTOM_OBJECT_TYPE: "custom_object_type_name",
}


@dataclass(frozen=True, slots=True)
class FieldOrder:
    """One order line: the object (its custom type by name) and its shared fields' order."""

    row: int
    line: int
    object_type: ObjectType
    type_name: str | None
    fields: tuple[str, ...]
    key: str | None = None

    @property
    def label(self) -> str:
        """How the plan names the object: `lead`, `custom_activity_type "Demo"`."""
        if self.type_name is None:
            return self.object_type.value
        return f'{self.object_type.value} "{self.type_name}"'
