"""`scf-batch show`: the org at a glance, one row per field x target, everything by name. Pure.

The CSV form has the operations file's columns (action `ensure`), so what `show --format csv`
prints is a job that, run against the same org, changes nothing.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from scf_batch.models import ObjectType
from scf_batch.plan.snapshot import Snapshot, target_of

CSV_COLUMNS = (
    "action",
    "scf_name",
    "object_type",
    "custom_activity_type_name",
    "custom_object_type_name",
    "required",
    "editable_with_roles",
)
TYPE_NAME_COLUMNS = {
    ObjectType.CUSTOM_ACTIVITY_TYPE: "custom_activity_type_name",
    ObjectType.CUSTOM_OBJECT_TYPE: "custom_object_type_name",
}


@dataclass(frozen=True, slots=True)
class ShownRow:
    """One association, by name: the field, its type and choices, the target and settings."""

    field: str
    type: str
    choices: tuple[str, ...]
    object_type: str
    target_name: str | None
    required: bool
    editable_with_roles: tuple[str, ...]

    @property
    def target_label(self) -> str:
        """`lead`, or `custom_object_type "Subscription"`."""
        if self.target_name is None:
            return self.object_type
        return f'{self.object_type} "{self.target_name}"'


def show_rows(snapshot: Snapshot) -> list[ShownRow]:
    """Every association of the org, by field name then target, with names for ids."""
    rows: list[ShownRow] = []
    for scf in snapshot.document.get("fields", []):
        choices = tuple(str(c) for c in scf.get("choices") or ())
        for assoc in scf.get("associations") or ():
            target = target_of(assoc)
            if target is None:
                continue
            roles = tuple(
                snapshot.roles.names.get(str(r)) or str(r)
                for r in assoc.get("editable_with_roles") or ()
            )
            name = snapshot.target_name(target) if target.type_id is not None else None
            shown = ShownRow(
                field=str(scf.get("name")),
                type=str(scf.get("type")),
                choices=choices,
                object_type=target.object_type.value,
                target_name=name,
                required=bool(assoc.get("required")),
                editable_with_roles=roles,
            )
            rows.append(shown)
    return sorted(rows, key=lambda r: (r.field, r.object_type, r.target_name or ""))


def filter_rows(
    rows: Sequence[ShownRow], *, fields: Sequence[str], object_types: Sequence[str]
) -> tuple[list[ShownRow], list[str]]:
    """The rows the filters keep (a field by name; an object type by word or custom type name),
    and one problem per filter value that matches nothing, with the closest names."""
    problems = _unmatched("--field", fields, {r.field for r in rows})
    targets = {r.object_type for r in rows} | {r.target_name for r in rows if r.target_name}
    problems += _unmatched("--object-type", object_types, targets)
    kept = [
        r
        for r in rows
        if (not fields or r.field in fields)
        and (not object_types or r.object_type in object_types or r.target_name in object_types)
    ]
    return kept, problems


def _unmatched(option: str, wanted: Sequence[str], known: set[str]) -> list[str]:
    problems = []
    for value in wanted:
        if value in known:
            continue
        close = difflib.get_close_matches(value, sorted(known), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        problems.append(f"{option}: found {value!r}, which the org does not have{hint}")
    return problems


def render_csv(rows: Sequence[ShownRow]) -> str:
    """The rows as an operations CSV (action `ensure`), roles `;`-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        activity = r.target_name if r.object_type == ObjectType.CUSTOM_ACTIVITY_TYPE else ""
        cobject = r.target_name if r.object_type == ObjectType.CUSTOM_OBJECT_TYPE else ""
        writer.writerow(
            [
                "ensure",
                r.field,
                r.object_type,
                activity,
                cobject,
                "true" if r.required else "false",
                json.dumps(list(r.editable_with_roles)) if r.editable_with_roles else "[]",
            ]
        )
    return out.getvalue()


def render_json(rows: Sequence[ShownRow]) -> str:
    """The rows as a JSON array of objects."""
    return json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n"


TABLE_HEADERS = ("field", "type", "target", "required", "editable by", "choices")


def table_cells(rows: Sequence[ShownRow]) -> list[tuple[str, ...]]:
    """The cells of the table form, one tuple per row, in TABLE_HEADERS' order."""
    return [
        (
            r.field,
            r.type,
            r.target_label,
            "yes" if r.required else "",
            ", ".join(r.editable_with_roles) or "everyone",
            ", ".join(r.choices),
        )
        for r in rows
    ]
