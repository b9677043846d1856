"""Protected fields and pairs (a job spec's `protect`): what no run, prune or undo disassociates
or deletes. Checked by name against the org's state, never against the job's rows, so the
protection holds when the rows are gone from the job. Pure.

    protection = Protection.from_names(settings.protect)  # the spec's entries (job/scope.py)
    protection.guards("Industry", "lead")                 # True: never disassociate the pair
    protection.guards("Plan", 'custom_object_type "Subscription"')
    protection.guards_field("Renewal Risk")               # True: never delete the field
    protection.covers(rop, snapshot)                      # a resolved row's pair, by its names

`guards` takes the field's name and the target as `plan` shows it (`lead`, `contact`,
`opportunity`, `custom_activity_type "Discovery Call"`, `custom_object_type "Subscription"`;
quotes optional) or a `TargetName`. `guards_field` is True when an entry names the field, or
any pair of it: deleting a field removes every pair it has. A name the org lacks is no error (the
field may come later): `warnings` lists those, with the closest names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scf_batch.job.scope import PAIR_EXPECTED, PairName, TargetName, parse_pair, parse_target
from scf_batch.models import ObjectType, ResolvedOperation
from scf_batch.plan.snapshot import PLACEHOLDER_PREFIX, Kind, Snapshot
from scf_batch.text import show


@dataclass(frozen=True, slots=True)
class Protection:
    """The protected fields (every target) and pairs, by name; empty protects nothing."""

    entries: tuple[PairName, ...] = ()

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Protection:
        """The entries as the spec writes them; ValueError for one the grammar refuses (a spec
        is checked when it is read, so a run never meets one)."""
        entries = []
        for name in names:
            entry = parse_pair(name)
            if entry is None:
                raise ValueError(f"protect: found {show(name)}; expected {PAIR_EXPECTED}")
            entries.append(entry)
        return cls(tuple(entries))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def guards(self, field_name: str, target: str | TargetName) -> bool:
        """Whether the pair (field, target) by name may never be disassociated."""
        wanted = parse_target(target) if isinstance(target, str) else target
        for entry in self.entries:
            if entry.field != field_name:
                continue
            if entry.target is None or (wanted is not None and entry.target.covers(wanted)):
                return True
        return False

    def guards_field(self, field_name: str) -> bool:
        """Whether the field may never be deleted: it, or one of its pairs, is protected."""
        return any(entry.field == field_name for entry in self.entries)

    def covers(self, rop: ResolvedOperation, snapshot: Snapshot) -> bool:
        """Whether the resolved row's pair is protected, by its names in `snapshot`."""
        if not self.entries:
            return False
        field = snapshot.field_name(rop.scf_id) or rop.scf_id.removeprefix(PLACEHOLDER_PREFIX)
        return self.guards(field, target_name(rop, snapshot))

    def warnings(self, snapshot: Snapshot) -> list[str]:
        """One line per entry naming a field or custom type the org does not have (yet)."""
        found: list[str] = []
        for index, entry in enumerate(self.entries):
            where = f"protect[{index}]"
            problem = missing_field(entry.field, snapshot)
            if problem is None and entry.target is not None:
                problem = missing_target(entry.target, snapshot)
            if problem is not None:
                found.append(f"{where}: {problem}; it protects nothing until it exists")
        return found


NO_PROTECTION = Protection()


def target_name(rop: ResolvedOperation, snapshot: Snapshot) -> TargetName:
    """The row's target by name (a custom type the snapshot cannot name: by none)."""
    target = rop.target
    if target.type_id is None:
        return TargetName(target.object_type)
    return TargetName(target.object_type, snapshot.target_name(target))


def missing_field(name: str, snapshot: Snapshot) -> str | None:
    """`found "Industy", the name of no field of the org; did you mean …`, or None."""
    return _missing(name, snapshot.fields)


def missing_target(target: TargetName, snapshot: Snapshot) -> str | None:
    """The same for a custom type named by a target; None when it exists or names no type."""
    if target.type_name is None:
        return None
    kind = snapshot.activity_types
    if target.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
        kind = snapshot.object_types
    return _missing(target.type_name, kind)


def _missing(name: str, kind: Kind) -> str | None:
    if name in kind.by_name:
        return None
    return f"found {show(name)}, the name of no {kind.noun} of the org; expected {kind.known(name)}"
