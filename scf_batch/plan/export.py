"""An org's shared fields and their associations as a job, everything by name. Pure.

`export_job(snapshot, ...)` gives the records of a JSONL job: one definition per field
(definitions.py), then one `ensure` row per association, with fields, custom types and roles
by name (built-in roles as their slugs). What cannot be named unambiguously — two fields or
types with one name, a role without a name — is reported, never guessed, and left out.
`add_orders` then gives each object the associations name its shared fields' order (job/order.py),
from the schemas read for `Exported.targets`, so a run on another org reproduces it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scf_batch.job.definitions import DEFINE_FIELD, DEFINE_KEY
from scf_batch.job.order import DEFINE_ORDER
from scf_batch.job.rowrules import TYPE_REFS
from scf_batch.models import (
    BUILTIN_ROLES,
    REFERENCE_COLUMN,
    REFERENCING_TYPE,
    TYPE_NAME_KEYS,
    ObjectType,
    SchemaField,
    Target,
)
from scf_batch.plan.snapshot import Kind, Snapshot, target_of
from scf_batch.text import did_you_mean, show


@dataclass(slots=True)
class Exported:
    """The job's records, and what was left out because it has no unambiguous name."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # --field/--object-type matching nothing
    definitions: int = 0
    associations: int = 0
    orders: int = 0
    # the objects the association rows name, in order, each with its order line's object keys
    targets: dict[Target, dict[str, str]] = field(default_factory=dict)


def unique_name(kind: Kind, object_id: str) -> str | None:
    """The object's name when it has one that no other object of its kind shares."""
    name = kind.names.get(object_id)
    if name is None or len(kind.by_name.get(name, ())) != 1:
        return None
    return name


def _no_match(option: str, name: str, why: str, candidates: Iterable[str]) -> str:
    """`--field "Industy": no field of the org has that name; did you mean "Industry"?`"""
    close = did_you_mean(name, candidates)
    return f"{option} {show(name)}: {why}" + (f"; {close}" if close else "")


def export_job(
    snapshot: Snapshot,
    *,
    fields: Collection[str] = (),
    object_types: Collection[str] = (),
) -> Exported:
    """The records for the picked fields (names; empty = all) and object types (`lead`, ...,
    or a custom type's name; empty = all)."""
    out = Exported()
    known = snapshot.fields.by_name
    out.unmatched.extend(
        _no_match("--field", name, "no field of the org has that name", known)
        for name in fields
        if name not in known
    )
    targets = [kind.value for kind in ObjectType]
    targets += [*snapshot.activity_types.by_name, *snapshot.object_types.by_name]
    out.unmatched.extend(
        _no_match("--object-type", name, "no object type or custom type has that name", targets)
        for name in object_types
        if name not in targets
    )
    associations: list[dict[str, Any]] = []
    for obj in _field_objects(snapshot):
        name = unique_name(snapshot.fields, str(obj.get("id")))
        if fields and obj.get("name") not in fields:
            continue
        if name is None:
            out.problems.append(_ambiguous("field", obj, snapshot.fields))
            continue
        rows = list(_association_rows(snapshot, obj, name, object_types, out))
        if object_types and not rows:
            continue
        definition = definition_record(snapshot, obj, name, out.problems)
        if definition is None:
            continue
        out.records.append(definition)
        associations.extend(rows)
    out.definitions = len(out.records)
    out.associations = len(associations)
    out.records.extend(associations)
    return out


def add_orders(exported: Exported, schemas: Mapping[Target, Sequence[SchemaField]]) -> None:
    """After the rows, one order line per object with two or more of the exported fields: their
    order as the object's schema (`schemas`, read for `exported.targets`) shows them."""
    names = {str(r["scf_name"]) for r in exported.records if r.get(DEFINE_KEY) == DEFINE_FIELD}
    for target, head in exported.targets.items():
        schema = schemas.get(target, ())
        ordered = [f.name for f in schema if f.is_shared and f.name in names]
        if len(ordered) > 1:
            exported.records.append({DEFINE_KEY: DEFINE_ORDER, **head, "fields": ordered})
            exported.orders += 1


def _field_objects(snapshot: Snapshot) -> Iterator[Mapping[str, Any]]:
    for obj in snapshot.document.get("fields") or ():
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            yield obj


def _ambiguous(noun: str, obj: Mapping[str, Any], kind: Kind) -> str:
    name = obj.get("name")
    if not isinstance(name, str):
        return f"{noun} {obj.get('id')}: has no name; left out"
    ids = ", ".join(kind.by_name.get(name, ()))
    return f'{noun} "{name}" ({obj.get("id")}): the name of several ({ids}); left out'


def definition_record(
    snapshot: Snapshot, obj: Mapping[str, Any], name: str, problems: list[str]
) -> dict[str, Any] | None:
    """The definition line that makes the field `obj` as it is (None, with a problem, when
    the custom object type it references has no unambiguous name)."""
    record: dict[str, Any] = {DEFINE_KEY: DEFINE_FIELD, "scf_name": name, "type": obj.get("type")}
    if obj.get("type") == "choices":
        record["choices"] = list(obj.get("choices") or ())
    record["accepts_multiple_values"] = bool(obj.get("accepts_multiple_values"))
    if isinstance(obj.get("description"), str):
        record["description"] = obj["description"]
    if obj.get("type") == REFERENCING_TYPE:
        type_id = str(obj.get("referenced_custom_type_id"))
        type_name = unique_name(snapshot.object_types, type_id)
        if type_name is None:
            problems.append(
                f'field "{name}": references custom object type {type_id}, which has no '
                "unambiguous name; left out with its associations"
            )
            return None
        record[REFERENCE_COLUMN] = type_name
    return record


def _association_rows(
    snapshot: Snapshot,
    obj: Mapping[str, Any],
    name: str,
    picked: Collection[str],
    out: Exported,
) -> Iterator[dict[str, Any]]:
    problems = out.problems
    for assoc in obj.get("associations") or ():
        target = target_of(assoc)
        if target is None:
            continue
        type_name = None
        if target.type_id is not None:
            kind = snapshot.activity_types
            if target.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
                kind = snapshot.object_types
            type_name = unique_name(kind, target.type_id)
            if type_name is None:
                problems.append(
                    f'"{name}" → {target.path}: the {kind.noun} has no unambiguous name; left out'
                )
                continue
        if picked and target.object_type.value not in picked and type_name not in picked:
            continue
        roles = _role_names(snapshot, assoc.get("editable_with_roles") or (), name, problems)
        if roles is None:
            continue
        row: dict[str, Any] = {
            "action": "ensure",
            "scf_name": name,
            "object_type": target.object_type.value,
        }
        head = {"object_type": target.object_type.value}
        if type_name is not None:
            row[TYPE_REFS[target.object_type][1]] = type_name
            head[TYPE_NAME_KEYS[target.object_type]] = type_name
        out.targets.setdefault(target, head)
        row["required"] = bool(assoc.get("required"))
        row["editable_with_roles"] = roles
        yield row


def _role_names(
    snapshot: Snapshot, roles: Collection[Any], name: str, problems: list[str]
) -> list[str] | None:
    named: list[str] = []
    for role in map(str, roles):
        if role in BUILTIN_ROLES:
            named.append(role)
            continue
        role_name = unique_name(snapshot.roles, role)
        if role_name is None:
            problems.append(f'"{name}": role {role} has no unambiguous name; association left out')
            return None
        named.append(role_name)
    return named


CSV_COLUMNS = (
    "action",
    "scf_name",
    "object_type",
    "custom_activity_type_name",
    "custom_object_type_name",
    "required",
    "editable_with_roles",
)


def split_for_csv(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """`--format csv`: the records a CSV cannot hold (the define lines: field definitions, then
    field orders, as the JSONL definitions file beside it) and the associations as an
    operations CSV a spreadsheet user edits (roles as a JSON array). The order lines may come
    before the rows: any job runs its orders last, once their fields are associated."""
    kept = [record for record in records if DEFINE_KEY in record]
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        if DEFINE_KEY in record:
            continue
        row = {column: record.get(column, "") for column in CSV_COLUMNS}
        row["required"] = "true" if record.get("required") else "false"
        row["editable_with_roles"] = json.dumps(record.get("editable_with_roles") or [])
        writer.writerow(row)
    return kept, out.getvalue()


def csv_job_spec(name: str, *, operations: str, definitions: str, credentials: str) -> str:
    """`--format csv`: the job spec that ties the CSV and its definitions file together, as TOML
    (paths relative to the spec, which is written beside them). `credentials`: the spec's
    line naming the key's variable (`api_key_env = ...`), or empty for the default ones; it
    never holds a key."""
    lines = [
        "# written by `scf-batch export --format csv`: validate, plan or run this file",
        f"name = {toml_string(name)}",
        f"operations = {toml_string(operations)}  # the associations: edit them in a spreadsheet",
        f"definitions = {toml_string(definitions)}  # field definitions and orders, run first",
    ]
    if credentials:
        lines.append(credentials)
    return "\n".join(lines) + "\n"


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: JSON's escapes are TOML's, and DEL, which JSON leaves
    as it is and TOML does not allow bare, is escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
