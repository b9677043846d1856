"""The domain values every other module speaks in: operations, row errors, statuses. No I/O.

Also two containers for what a file's passes keep per (field, target) pair: `Interned` (a
value -> a small int) and `PairTable` (exact int keys -> a few small ints, packed in one).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

H = TypeVar("H", bound=Hashable)


class Action(StrEnum):
    ASSOCIATE = "associate"
    UPDATE = "update"
    DISASSOCIATE = "disassociate"
    ENSURE = "ensure"


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


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    INVALID = "invalid"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    CREATED = "created"
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


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one row: where, what was found, what would be valid."""

    path: str
    line: int
    column: str
    found: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: {self.column}"
        return f"{where}: found {self.found}; expected {self.expected}"


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
    `retries` those of them that repeated a request after a 429 or a transient error.
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


class Interned(Generic[H]):
    """Equal values get one small code (1, 2, ...), so a table can hold the code instead."""

    def __init__(self) -> None:
        self._codes: dict[H, int] = {}
        self._values: list[H] = []

    def __len__(self) -> int:
        return len(self._values)

    def code(self, value: H) -> int:
        """The value's code, given the first time it is met."""
        code = self._codes.get(value)
        if code is None:
            self._values.append(value)
            code = self._codes[value] = len(self._values)
        return code

    def value(self, code: int) -> H:
        return self._values[code - 1]


MAX_CODE = (1 << 32) - 1


def pair_key(first: int, second: int) -> int:
    """One exact PairTable key from two codes of 1 .. MAX_CODE (a field's and a target's)."""
    if not (0 < first <= MAX_CODE and 0 < second <= MAX_CODE):
        raise ValueError(f"pair codes must be 1 .. {MAX_CODE}, got {first}, {second}")
    return first << 32 | second


class PairTable:
    """A map from exact int keys (1 ..) to `columns` ints of 0 .. MAX_CODE each.

    What the conflict check remembers per distinct pair: one dict entry whose value packs the
    columns into one int, where a dict of tuples of objects costs several times more.
    """

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self._packed: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._packed)

    def get(self, key: int) -> tuple[int, ...] | None:
        """The values stored for `key`, or None when it has none."""
        packed = self._packed.get(key)
        if packed is None:
            return None
        return tuple((packed >> (32 * column)) & MAX_CODE for column in range(self.columns))

    def put(self, key: int, values: tuple[int, ...]) -> None:
        """Store `values` (one per column, each 0 .. MAX_CODE) for `key` (>= 1), replacing any."""
        if key <= 0:
            raise ValueError(f"PairTable keys start at 1, got {key}")
        if len(values) != self.columns or not all(0 <= v <= MAX_CODE for v in values):
            raise OverflowError(
                f"PairTable values: {self.columns} of 0 .. {MAX_CODE}, got {values}"
            )
        self._packed[key] = sum(value << (32 * column) for column, value in enumerate(values))


@dataclass(frozen=True, slots=True)
class SchemaField:
    """One entry of an object's custom field schema (display order): regular or shared."""

    id: str
    name: str
    is_shared: bool
