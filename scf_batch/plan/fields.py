"""The plan of a field definition against the org's snapshot: resolve, then one step. Pure.

| the org's field         | step                                                            |
|-------------------------|-----------------------------------------------------------------|
| none with that name     | create                                                          |
| another type            | fail: conflict (a type cannot change)                           |
| custom_object, other ref| fail: conflict (the referenced type cannot change)              |
| same type, differences  | update description / multiplicity / choices                     |
| same type, as defined   | nothing: unchanged                                              |
| any, `"delete": true`   | delete (none with that name: nothing, unchanged)                |

Choices the org's field has and the definition lacks are kept (appended after the defined
ones) and reported, unless the definition sets `remove_missing_choices`.

`FieldPlanner` follows a file's definitions in input order and keeps a projected snapshot in
which a field the job will create already exists (under a placeholder id, `new:<name>`), so
association rows that name it resolve and plan in `validate` and `plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scf_batch.models import (
    PROTECTED_REASON,
    REFERENCE_COLUMN,
    REFERENCING_TYPE,
    Change,
    FieldDefinition,
    Outcome,
    Problem,
    StepKind,
)
from scf_batch.plan.snapshot import PLACEHOLDER_PREFIX, Snapshot
from scf_batch.text import show

REFERENCE_KEY = "referenced_custom_type_id"


@dataclass(frozen=True, slots=True)
class ResolvedDefinition:
    """A definition with the org's field of that name (None: missing) and the referenced type."""

    definition: FieldDefinition
    scf_id: str | None
    referenced_type_id: str | None = None


@dataclass(frozen=True, slots=True)
class FieldStep:
    """What one definition does: the write's kind and body, the differences, kept choices."""

    kind: StepKind
    outcome: Outcome
    body: dict[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    kept_choices: tuple[str, ...] = ()
    reason: str | None = None


def resolve_definition(
    definition: FieldDefinition, snapshot: Snapshot, path: str
) -> ResolvedDefinition | tuple[Problem, ...]:
    """The org's field by the definition's name, and the custom object type it references."""
    problems: list[Problem] = []
    line = definition.line
    found = snapshot.fields.by_name.get(definition.name, ())
    if len(found) > 1:
        found_text = f"{show(definition.name)}, the name of {len(found)} shared custom fields"
        problems.append(Problem(path, line, "scf_name", found_text, "a name only one field has"))
    type_id = None
    if definition.referenced_type is not None:
        types = snapshot.object_types.by_name.get(definition.referenced_type, ())
        if len(types) != 1:
            what = "no" if not types else f"{len(types)}"
            found_text = f"{show(definition.referenced_type)}, the name of {what} object type(s)"
            expected = snapshot.object_types.known()
            problems.append(Problem(path, line, REFERENCE_COLUMN, found_text, expected))
        else:
            type_id = types[0]
    if problems:
        return tuple(problems)
    return ResolvedDefinition(definition, found[0] if found else None, type_id)


def plan_field(
    resolved: ResolvedDefinition, current: Mapping[str, Any] | None, *, protected: bool = False
) -> FieldStep:
    """The one step that brings the org's field (`current`, None: missing) in line;
    `protected`: the field may never be deleted (plan/protect.py says which)."""
    definition = resolved.definition
    if definition.delete:
        return _deletion(current, protected=protected)
    if current is None:
        return FieldStep(StepKind.CREATE, Outcome.CREATED, create_body(resolved))
    if current.get("type") != definition.type:
        reason = (
            f"the org's field is of type {current.get('type')}, the definition says "
            f"{definition.type}; a field's type cannot change"
        )
        return FieldStep(StepKind.FAIL, Outcome.CONFLICT, reason=reason)
    if definition.type == REFERENCING_TYPE and (
        current.get(REFERENCE_KEY) != resolved.referenced_type_id
    ):
        reason = "the org's field references another custom object type, which cannot change"
        return FieldStep(StepKind.FAIL, Outcome.CONFLICT, reason=reason)
    changes, kept = _changes(definition, current)
    if not changes:
        return FieldStep(StepKind.NOTHING, Outcome.UNCHANGED, kept_choices=kept)
    body = {name: after for name, _, after in changes}
    return FieldStep(StepKind.UPDATE, Outcome.UPDATED, body, changes, kept)


def _deletion(current: Mapping[str, Any] | None, *, protected: bool) -> FieldStep:
    """Delete the field; nothing to do when there is none of the name; a protected field
    fails `protected`, never sent."""
    if current is None:
        return FieldStep(StepKind.NOTHING, Outcome.UNCHANGED)
    if protected:
        return FieldStep(StepKind.FAIL, Outcome.PROTECTED, reason=PROTECTED_REASON)
    return FieldStep(StepKind.DELETE, Outcome.DELETED)


def create_body(resolved: ResolvedDefinition) -> dict[str, Any]:
    """The POST custom_field/shared/ body of a definition."""
    definition = resolved.definition
    body: dict[str, Any] = {"name": definition.name, "type": definition.type}
    if definition.description is not None:
        body["description"] = definition.description
    if definition.choices is not None:
        body["choices"] = list(definition.choices)
    if definition.accepts_multiple_values is not None:
        body["accepts_multiple_values"] = definition.accepts_multiple_values
    if resolved.referenced_type_id is not None:
        body[REFERENCE_KEY] = resolved.referenced_type_id
    return body


def _changes(
    definition: FieldDefinition, current: Mapping[str, Any]
) -> tuple[tuple[Change, ...], tuple[str, ...]]:
    found: list[Change] = []
    if definition.description is not None and definition.description != current.get("description"):
        found.append(("description", current.get("description"), definition.description))
    multiple = definition.accepts_multiple_values
    if multiple is not None and multiple != bool(current.get("accepts_multiple_values")):
        found.append(("accepts_multiple_values", not multiple, multiple))
    kept: tuple[str, ...] = ()
    if definition.choices is not None:
        had = [str(c) for c in current.get("choices") or ()]
        extra = tuple(c for c in had if c not in definition.choices)
        wanted = list(definition.choices)
        if not definition.remove_missing_choices:
            wanted += extra
            kept = extra
        if wanted != had:
            found.append(("choices", had, wanted))
    return tuple(found), kept


def fields_by_id(snapshot: Snapshot) -> dict[str, Mapping[str, Any]]:
    """The snapshot's field objects by id."""
    fields = snapshot.document.get("fields") or []
    return {f["id"]: f for f in fields if isinstance(f, dict) and isinstance(f.get("id"), str)}


def with_fields(snapshot: Snapshot, fields: Iterable[Mapping[str, Any]]) -> Snapshot:
    """The snapshot with these field objects added, or put in place of those with their id."""
    merged = dict(fields_by_id(snapshot))
    for obj in fields:
        merged[str(obj["id"])] = {**obj, "associations": obj.get("associations") or []}
    document = {**snapshot.document, "fields": list(merged.values())}
    return Snapshot.from_document(document)


def projected_field(resolved: ResolvedDefinition) -> dict[str, Any]:
    """The field a create would make, under a placeholder id, without associations."""
    body = create_body(resolved)
    return {**body, "id": PLACEHOLDER_PREFIX + resolved.definition.name, "associations": []}


@dataclass(frozen=True, slots=True)
class PlannedField:
    """One definition after the pass: resolved and planned, or its problems."""

    definition: FieldDefinition
    resolved: ResolvedDefinition | None
    step: FieldStep | None
    problems: tuple[Problem, ...] = ()


def first_steps(
    definitions: Iterable[FieldDefinition], baseline: Snapshot, path: str
) -> dict[int, FieldStep]:
    """Each definition's step as planned against the pass's first snapshot, by row: what a
    resumed pass labels a write by when an earlier run stopped before recording it."""
    planner = FieldPlanner(baseline)
    steps = {}
    for definition in definitions:
        first = planner.plan(definition, path)
        if first.step is not None:
            steps[definition.row] = first.step
    return steps


class FieldPlanner:
    """Plans a file's definitions in input order; `snapshot` is the org as they would leave it
    (with `project`) for the association rows after them. Memory grows with definitions only."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        project: bool = True,
        protected: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self._protected = protected  # by a field's name: it may never be deleted
        self._base = snapshot
        self._current = fields_by_id(snapshot)
        self._project = project
        self._created: list[dict[str, Any]] = []
        self._projected: Snapshot | None = snapshot
        self._lines: dict[str, int] = {}

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot association rows resolve against (rebuilt after new definitions)."""
        if self._projected is None:
            self._projected = with_fields(self._base, self._created)
        return self._projected

    def plan(self, definition: FieldDefinition, path: str) -> PlannedField:
        """Resolve and plan one definition; a name defined twice is a problem."""
        earlier = self._lines.get(definition.name)
        if earlier is not None:
            found = f"{show(definition.name)}, defined already on line {earlier}"
            problem = Problem(path, definition.line, "scf_name", found, "each field defined once")
            return PlannedField(definition, None, None, (problem,))
        self._lines[definition.name] = definition.line
        resolved = resolve_definition(definition, self._base, path)
        if isinstance(resolved, tuple):
            return PlannedField(definition, None, None, resolved)
        current = self._current.get(resolved.scf_id) if resolved.scf_id is not None else None
        protected = definition.delete and self._protected(definition.name)
        step = plan_field(resolved, current, protected=protected)
        if step.kind is StepKind.CREATE and self._project:
            self._created.append(projected_field(resolved))
            self._projected = None
        return PlannedField(definition, resolved, step)
