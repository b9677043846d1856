"""--dry-run: what each row would send, from the file alone (nothing is sent)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from scf_batch.models import Action, ObjectType, Operation, Ref, RowError

_ASSOCIATION = "custom_field/shared/{scf}/association/"


def _ref(ref: Ref | None) -> str:
    if ref is None:
        return ""
    return ref.id if ref.id is not None else "{" + f"name:{ref.name}" + "}"


def _target(op: Operation) -> str:
    if op.object_type.needs_type_ref:
        return f"{op.object_type.value}/{_ref(op.type_ref)}"
    return op.object_type.value


def _body(op: Operation, *, create: bool) -> str:
    body: dict[str, object] = {}
    if create:
        body["object_type"] = op.object_type.value
        if op.object_type is ObjectType.CUSTOM_ACTIVITY_TYPE:
            body["custom_activity_type_id"] = _ref(op.type_ref)
        elif op.object_type is ObjectType.CUSTOM_OBJECT_TYPE:
            body["custom_object_type_id"] = _ref(op.type_ref)
        body["required"] = bool(op.required)
    elif op.required is not None:
        body["required"] = op.required
    if op.editable_with_roles is not None:
        body["editable_with_roles"] = list(op.editable_with_roles)
    return json.dumps(body, ensure_ascii=False)


def describe(op: Operation) -> str:
    """One line: the requests a row would make (names are resolved at run time)."""
    base = _ASSOCIATION.format(scf=_ref(op.field))
    one = f"{base}{_target(op)}/"
    if op.action is Action.ASSOCIATE:
        return f"POST {base} {_body(op, create=True)}"
    if op.action is Action.UPDATE:
        return f"PUT {one} {_body(op, create=False)}"
    if op.action is Action.DISASSOCIATE:
        return f"DELETE {one}"
    return (
        f"GET {one}, then POST {base} {_body(op, create=True)} if absent, "
        f"or PUT {one} {_body(op, create=False)} if different"
    )


def plan_lines(items: Iterable[Operation | RowError]) -> Iterator[str]:
    """A line per row: `row N (line L): requests`, or the row's problems."""
    for item in items:
        if isinstance(item, RowError):
            problems = "; ".join(str(p) for p in item.problems)
            yield f"row {item.row} (line {item.line}): invalid, would be skipped: {problems}"
        else:
            yield f"row {item.row} (line {item.line}): {describe(item)}"
