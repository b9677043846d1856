"""The job that undoes one pass, from the pass's snapshot (the org before its first write), its
rows as prepared against that snapshot and what each row ended as. Pure.

| what a row of the pass did (ok)  | the undo line                            | label        |
|----------------------------------|------------------------------------------|--------------|
| created or recreated a pair      | disassociate                             | lossy        |
| updated a pair                   | update: the snapshot's required, roles   | reversible   |
| deleted a pair                   | associate with the snapshot's settings   | irreversible |
| created a field                  | delete the field (its pairs go with it)  | lossy        |
| updated a field                  | its old description and choices          | reversible   |
| deleted a field                  | the field and its pairs made again       | irreversible |

Rows of one pair are followed in input order, so a pair written twice is undone once, back to
the state before the pass's first write to it. Rows that wrote nothing, failed or were invalid
give nothing. `left_alone` then drops the steps of what someone changed since the pass: the
org now differs from the state the pass left.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from scf_batch.job.definitions import DEFINE_FIELD, DEFINE_KEY
from scf_batch.job.rowrules import TYPE_REFS, UNDO_KEY
from scf_batch.models import (
    BUILTIN_ROLES,
    Action,
    Association,
    ObjectType,
    Outcome,
    ResolvedOperation,
    Status,
    Target,
    UndoLabel,
)
from scf_batch.plan.export import definition_record
from scf_batch.plan.fields import FieldStep, fields_by_id
from scf_batch.plan.prepare import Prepared
from scf_batch.plan.snapshot import PLACEHOLDER_PREFIX, Pair, Snapshot, target_of
from scf_batch.plan.steps import plan_step, wanted

# the outcomes of a row that wrote (a field's: created, updated, deleted)
WRITES = frozenset({Outcome.CREATED, Outcome.RECREATED, Outcome.UPDATED, Outcome.DELETED})
DELETE_KEY = "delete"  # `{"define": "field", "scf_name": ..., "delete": true}`


class Done(Protocol):
    """What undo reads of a row's result line (runfolder's ResultLine)."""

    @property
    def row(self) -> int: ...
    @property
    def status(self) -> Status: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def scf_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class UndoStep:
    """One line of the undo job: its label, its JSON object, and what the pass left to compare
    the org with now (`pair` and `left`, or the `field_id` a created field got)."""

    label: UndoLabel
    record: dict[str, Any]
    what: str  # `"Industry" → lead`, `field "Tier"`: how messages name it
    pair: Pair | None = None
    left: Association | None = None
    field_id: str | None = None
    field_left: Mapping[str, Any] | None = None  # the settings an update of the pass left
    recreates: str | None = None  # the name of a field the pass deleted, made again


@dataclass(slots=True)
class _PairTrack:
    """A pair the pass wrote: its state before the first write, as left, and its last row."""

    before: Association | None
    left: Association | None
    rop: ResolvedOperation


def undo_steps(
    snapshot: Snapshot, prepared: Iterable[Prepared], results: Mapping[int, Done]
) -> list[UndoStep]:
    """The undo job's lines: the fields' first, then one per pair the pass left changed."""
    fields: list[UndoStep] = []
    pairs: dict[Pair, _PairTrack] = {}
    old_fields = fields_by_id(snapshot)
    for row in prepared:
        done = results.get(row.row)
        if done is None or done.status is not Status.OK:
            continue
        if row.field_plan is not None and row.error is None:
            fields.extend(_field_undo(snapshot, old_fields, row, done))
        elif row.resolved is not None and done.outcome in WRITES:
            _follow(pairs, snapshot, row.resolved, done.outcome)
    steps = fields
    recreated = {step.field_id for step in fields if step.recreates is not None}
    for pair, track in pairs.items():
        if pair[0].startswith(PLACEHOLDER_PREFIX) or pair[0] in recreated:
            continue  # a field the pass created (its deletion removes its pairs) or deleted
        step = _pair_undo(snapshot, pair, track)
        if step is not None:
            steps.append(step)
    return steps


def _follow(
    pairs: dict[Pair, _PairTrack], snapshot: Snapshot, rop: ResolvedOperation, outcome: Outcome
) -> None:
    """Move the pair on by one row's write, as that row's outcome says it went."""
    track = pairs.get(rop.pair)
    current = snapshot.association(rop.pair) if track is None else track.left
    if outcome is Outcome.RECREATED:
        current = None  # removed by someone after the snapshot, then created by the row
    if outcome is Outcome.DELETED:
        left = None
    elif current is None or outcome is not Outcome.UPDATED:
        left = plan_step(rop, None).after
    else:
        left = wanted(rop).applied_to(current)
    if track is None:
        pairs[rop.pair] = _PairTrack(current, left, rop)
    else:
        track.left, track.rop = left, rop


def _pair_undo(snapshot: Snapshot, pair: Pair, track: _PairTrack) -> UndoStep | None:
    before, left, target = track.before, track.left, track.rop.target
    if before == left:
        return None  # e.g. created and deleted again by the pass
    head = _pair_head(snapshot, pair[0], target)
    what = f'"{snapshot.field_name(pair[0]) or pair[0]}" → {_target_label(snapshot, target)}'
    if before is None:
        record = {"action": Action.DISASSOCIATE.value, **head}
        return UndoStep(UndoLabel.LOSSY, _labelled(record, UndoLabel.LOSSY), what, pair, left)
    label = UndoLabel.IRREVERSIBLE if left is None else UndoLabel.REVERSIBLE
    action = Action.ASSOCIATE if left is None else Action.UPDATE
    record = {
        "action": action.value,
        **head,
        "required": before.required,
        "editable_with_roles": role_names(snapshot, before.roles),
    }
    return UndoStep(label, _labelled(record, label), what, pair, left)


def _labelled(record: dict[str, Any], label: UndoLabel) -> dict[str, Any]:
    return {**record, UNDO_KEY: label.value}


def _pair_head(snapshot: Snapshot, scf_id: str, target: Target) -> dict[str, Any]:
    """The row's field and target, by name where the name is the org's only one of its kind."""
    head: dict[str, Any] = {}
    name = snapshot.field_name(scf_id)
    if name is not None and len(snapshot.fields.by_name.get(name, ())) == 1:
        head["scf_name"] = name
    else:
        head["scf_id"] = scf_id
    head["object_type"] = target.object_type.value
    if target.type_id is not None:
        id_column, name_column = TYPE_REFS[target.object_type][:2]
        type_name = snapshot.target_name(target)
        kind = snapshot.activity_types
        if target.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
            kind = snapshot.object_types
        if type_name is not None and len(kind.by_name.get(type_name, ())) == 1:
            head[name_column] = type_name
        else:
            head[id_column] = target.type_id
    return head


def _target_label(snapshot: Snapshot, target: Target) -> str:
    name = snapshot.target_name(target)
    return f'{target.object_type.value} "{name}"' if name else target.path


def role_names(snapshot: Snapshot, roles: Iterable[str]) -> list[str]:
    """Role ids by the org's name for them where that name is unique; built-in slugs as they
    are; an id otherwise (a row takes all three)."""
    named = []
    for role in roles:
        name = snapshot.roles.names.get(role)
        unique = name is not None and len(snapshot.roles.by_name.get(name, ())) == 1
        named.append(role if role in BUILTIN_ROLES or not unique or name is None else name)
    return sorted(named)


def _field_undo(
    snapshot: Snapshot, old_fields: Mapping[str, Mapping[str, Any]], row: Prepared, done: Done
) -> list[UndoStep]:
    """The line that undoes one definition row's write: none when it wrote nothing."""
    planned = row.field_plan
    if planned is None or planned.resolved is None:
        return []
    name = planned.definition.name
    if done.outcome is Outcome.CREATED:
        record = {DEFINE_KEY: DEFINE_FIELD, "scf_name": name, DELETE_KEY: True}
        label = UndoLabel.LOSSY
        return [UndoStep(label, _labelled(record, label), f'field "{name}"', field_id=done.scf_id)]
    old = old_fields.get(planned.resolved.scf_id or "")
    if done.outcome is Outcome.DELETED and old is not None:
        return _field_recreate(snapshot, name, old)
    if done.outcome is not Outcome.UPDATED or old is None or planned.step is None:
        return []
    return [_field_restore(name, old, planned.step, planned.resolved.scf_id)]


def _field_recreate(snapshot: Snapshot, name: str, old: Mapping[str, Any]) -> list[UndoStep]:
    """A field the pass deleted: its definition and each association it had, labelled
    irreversible (the values stored in it are gone); none when it cannot be named."""
    label = UndoLabel.IRREVERSIBLE
    record = definition_record(snapshot, old, name, [])
    if record is None:
        return []
    scf_id = str(old["id"])
    what = f'field "{name}"'
    steps = [UndoStep(label, _labelled(record, label), what, field_id=scf_id, recreates=name)]
    for assoc in old.get("associations") or ():
        target = target_of(assoc)
        if target is None:
            continue
        head = {**_pair_head(snapshot, scf_id, target), "scf_name": name}
        head.pop("scf_id", None)
        roles = role_names(snapshot, map(str, assoc.get("editable_with_roles") or ()))
        settings = {"required": bool(assoc.get("required")), "editable_with_roles": roles}
        row = _labelled({"action": Action.ASSOCIATE.value, **head, **settings}, label)
        what = f'"{name}" → {_target_label(snapshot, target)}'
        steps.append(UndoStep(label, row, what, recreates=name))
    return steps


def _field_restore(
    name: str, old: Mapping[str, Any], step: FieldStep, scf_id: str | None
) -> UndoStep:
    """The definition that gives an updated field its old description and choices back;
    `remove_missing_choices` when the pass added choices."""
    record = {DEFINE_KEY: DEFINE_FIELD, "scf_name": name, "type": old.get("type")}
    record["description"] = old.get("description") or ""
    if old.get("type") == "choices":
        had = [str(choice) for choice in old.get("choices") or ()]
        record["choices"] = had
        left = [after for setting, _, after in step.changes if setting == "choices"]
        if any(choice not in had for choices in left for choice in choices):
            record["remove_missing_choices"] = True
    record["accepts_multiple_values"] = bool(old.get("accepts_multiple_values"))
    label = UndoLabel.REVERSIBLE
    return UndoStep(
        label,
        _labelled(record, label),
        f'field "{name}"',
        field_id=scf_id,
        field_left=dict(step.body),
    )


def left_alone(steps: Iterable[UndoStep], now: Snapshot) -> tuple[list[UndoStep], list[str]]:
    """The steps whose pair (or field) is still as the pass left it, and a message for each
    of the others, which someone changed since: `"X" → lead: required is now true, the pass
    left false`."""
    kept: list[UndoStep] = []
    messages: list[str] = []
    fields = fields_by_id(now)
    for step in steps:
        drift = _drift(step, now) if step.pair is not None else _field_drift(step, fields, now)
        if drift is None:
            kept.append(step)
        else:
            messages.append(f"{step.what}: {drift}")
    return kept, messages


def _drift(step: UndoStep, now: Snapshot) -> str | None:
    """How the pair now differs from what the pass left, or None when it does not."""
    current = now.association(step.pair) if step.pair is not None else None
    left = step.left
    if current == left:
        return None
    if current is None:
        return "is no longer associated, the pass left it associated"
    if left is None:
        return "is associated again, the pass left it disassociated"
    parts = []
    if current.required != left.required:
        now_required, left_required = _bool(current.required), _bool(left.required)
        parts.append(f"required is now {now_required}, the pass left {left_required}")
    if current.roles != left.roles:
        parts.append(
            f"editable_with_roles is now {_roles(now, current.roles)}, "
            f"the pass left {_roles(now, left.roles)}"
        )
    return "; ".join(parts)


def _field_drift(
    step: UndoStep, fields: Mapping[str, Mapping[str, Any]], now: Snapshot
) -> str | None:
    """How the field now differs from what the pass left (gone, back, or a setting it wrote)."""
    if step.recreates is not None:
        back = step.recreates in now.fields.by_name
        return "a field of that name exists again" if back else None
    current = fields.get(step.field_id or "")
    if current is None:
        return "no longer exists"
    left = step.field_left or {}
    changed = [name for name, value in left.items() if current.get(name) != value]
    return (
        "; ".join(
            f"{name} is now {_shown(current.get(name))}, the pass left {_shown(left[name])}"
            for name in changed
        )
        or None
    )


def _shown(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _roles(snapshot: Snapshot, roles: Iterable[str]) -> str:
    return "[" + ", ".join(role_names(snapshot, roles)) + "]"


@dataclass(frozen=True, slots=True)
class UndoCounts:
    """How many lines of each label an undo job holds."""

    by_label: Mapping[UndoLabel, int]

    @classmethod
    def of(cls, steps: Iterable[UndoStep]) -> UndoCounts:
        counts = dict.fromkeys(UndoLabel, 0)
        for step in steps:
            counts[step.label] += 1
        return cls(counts)

    def __str__(self) -> str:
        return ", ".join(f"{count} {label.value}" for label, count in self.by_label.items())
