"""Exact sync (a job spec's `prune`): every association in the prune scope that no row of the job
names becomes a disassociate row of the same run, numbered after the file's rows. Pure.

The prune rows come from the pass's first snapshot and the pairs the file's rows name, in a
fixed order (field name, then target as `plan` shows it), so every run of a pass (a resume
included) has the same prune rows under the same numbers. They are rows like the others: line 0
(no line of the file), key `prune-1`, `prune-2`, …, planned as deletes and guarded like any
(--allow-delete). A protected pair (plan/protect.py) is never pruned, and a job with a row that
cannot be read or resolved prunes nothing: that row may name a pair prune would remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from scf_batch.errors import JobHeaderError
from scf_batch.job.scope import TargetName, parse_field, parse_target
from scf_batch.models import Action, Operation, Ref, Target
from scf_batch.options import RunSettings
from scf_batch.plan.prepare import PRUNE_LINE, Item, prepare
from scf_batch.plan.protect import Protection, missing_field, missing_target
from scf_batch.plan.snapshot import Pair, Snapshot, target_of

PRUNE_KEY = "prune-{}"


@dataclass(frozen=True, slots=True)
class PruneScope:
    """The fields and targets prune looks at; empty = every one (both empty: the whole org).
    With both, an association is in scope when its field and its target are."""

    fields: frozenset[str] = frozenset()
    targets: tuple[TargetName, ...] = ()

    @classmethod
    def from_names(cls, fields: Iterable[str], object_types: Iterable[str]) -> PruneScope:
        """The spec's `prune_fields` and `prune_object_types` (checked when it was read)."""
        field_names = frozenset(filter(None, map(parse_field, fields)))
        targets = tuple(filter(None, map(parse_target, object_types)))
        return cls(field_names, targets)

    def holds(self, field_name: str, target: TargetName) -> bool:
        """Whether the association (field, target) by name is in scope."""
        if self.fields and field_name not in self.fields:
            return False
        return not self.targets or any(scope.covers(target) for scope in self.targets)

    def warnings(self, snapshot: Snapshot) -> list[str]:
        """One line per scope name the org does not have: it prunes nothing there."""
        found = [
            f"prune_fields: {problem}"
            for name in sorted(self.fields)
            if (problem := missing_field(name, snapshot)) is not None
        ]
        found += [
            f"prune_object_types: {problem}"
            for target in self.targets
            if (problem := missing_target(target, snapshot)) is not None
        ]
        return found


@dataclass(frozen=True, slots=True)
class Pruned:
    """The prune rows, the protected associations in scope left alone, and what to tell."""

    operations: tuple[Operation, ...] = ()
    kept: int = 0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


NOTHING_PRUNED = Pruned()


class Rows(Protocol):
    """A job's rows, streamed once per call of `items`, and the files they come from (the
    association rows' file, and the define lines')."""

    @property
    def where(self) -> str: ...
    @property
    def defines_where(self) -> str: ...
    def items(self, *, role_name: Callable[[str], str] = ...) -> Iterator[Item]: ...


@dataclass(frozen=True, slots=True)
class PrunedJob:
    """The job's rows, then its prune rows: what a pass with `prune` plans and runs."""

    rows: Rows
    pruned: Pruned = NOTHING_PRUNED

    @property
    def where(self) -> str:
        return self.rows.where

    @property
    def defines_where(self) -> str:
        return self.rows.defines_where

    def items(self, *, role_name: Callable[[str], str] = str) -> Iterator[Item]:
        """The job's rows (a conflict's roles shown by `role_name`), then the prune rows."""
        yield from self.rows.items(role_name=role_name)
        yield from self.pruned.operations


def prune_rows(rows: Rows, baseline: Snapshot, scope: PruneScope, protection: Protection) -> Pruned:
    """The prune rows of a job against the pass's first snapshot (`baseline`)."""
    warnings = tuple(scope.warnings(baseline))
    named, last_row, unreadable = _named_pairs(rows, baseline)
    if unreadable:
        note = (
            f"prune: nothing pruned: {unreadable} row(s) cannot be read or resolved, and each "
            "may name a pair prune would remove"
        )
        return Pruned(notes=(note,), warnings=warnings)
    candidates, kept = [], 0
    for field_name, target_name, scf_id, target in _associations(baseline):
        if (scf_id, target.path) in named or not scope.holds(field_name, target_name):
            continue
        if protection.guards(field_name, target_name):
            kept += 1
            continue
        candidates.append((field_name, str(target_name), scf_id, target))
    candidates.sort(key=lambda c: (c[0], c[1], c[2], c[3].path))
    operations = tuple(
        _prune_operation(last_row + index, index, scf_id, target)
        for index, (_, _, scf_id, target) in enumerate(candidates, start=1)
    )
    notes = [f"prune: {_count(len(operations), 'association')} not in the job to disassociate"]
    if kept:
        notes.append(f"prune: {_count(kept, 'protected association')} kept")
    return Pruned(operations, kept, tuple(notes), warnings)


def pruned_job(settings: RunSettings, rows: Rows, baseline: Snapshot) -> PrunedJob:
    """The job's rows, with its prune rows when the settings ask for `prune`."""
    if not settings.prune:
        return PrunedJob(rows)
    scope = PruneScope.from_names(settings.prune_fields, settings.prune_object_types)
    protection = Protection.from_names(settings.protect)
    return PrunedJob(rows, prune_rows(rows, baseline, scope, protection))


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _named_pairs(rows: Rows, baseline: Snapshot) -> tuple[set[Pair], int, int]:
    """The pairs the file's rows name (resolved as the pass's first snapshot has them, fields
    the file defines included), its last row's number, and how many rows did not resolve."""
    named: set[Pair] = set()
    last_row = unreadable = 0
    try:
        prepared_rows = prepare(
            rows.items(), baseline, where=rows.where, defines_where=rows.defines_where, plan=False
        )
        for prepared in prepared_rows:
            last_row = max(last_row, prepared.row)
            if prepared.error is not None:
                unreadable += 1
            elif prepared.resolved is not None:
                named.add(prepared.resolved.pair)
    except JobHeaderError:
        unreadable += 1
    return named, last_row, unreadable


def _associations(snapshot: Snapshot) -> Iterator[tuple[str, TargetName, str, Target]]:
    """Each association of the snapshot: the field's name and id, the target by name and id."""
    for field in snapshot.document.get("fields") or ():
        scf_id, field_name = field.get("id"), field.get("name")
        if not isinstance(scf_id, str) or not isinstance(field_name, str):
            continue
        for assoc in field.get("associations") or ():
            target = target_of(assoc)
            if target is not None:
                name = TargetName(target.object_type, snapshot.target_name(target))
                yield field_name, name, scf_id, target


def _prune_operation(row: int, index: int, scf_id: str, target: Target) -> Operation:
    """A disassociate row by ids (they resolve against any later snapshot of the org)."""
    type_ref = Ref(id=target.type_id) if target.type_id is not None else None
    return Operation(
        row=row,
        line=PRUNE_LINE,
        action=Action.DISASSOCIATE,
        field=Ref(id=scf_id),
        object_type=target.object_type,
        type_ref=type_ref,
        key=PRUNE_KEY.format(index),
    )
