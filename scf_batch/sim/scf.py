"""The API's behaviour on one org: Shared Custom Fields, their associations and the lookups.

Each operation takes the parsed request and returns (status, body) or raises ApiError with
Close's error body. No HTTP here, so every rule is testable as a plain call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from scf_batch.sim.ids import random_id
from scf_batch.sim.store import (
    BUILTIN_ROLES,
    FIELD_TYPES,
    MULTI_VALUE_TYPES,
    OBJECT_TYPES,
    REFERENCING_TYPE,
    TYPE_ID_KEYS,
    Association,
    AssocKey,
    Org,
    SharedField,
    utc_now_iso,
)

Reply = tuple[int, Any]
T = TypeVar("T")
DEFAULT_PAGE = 100
MAX_PAGE = 100
REFERENCE_KEY = "referenced_custom_type_id"


class ApiError(Exception):
    """An error answer: the status and Close's body for it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def invalid(field_errors: dict[str, str], errors: list[str] | None = None) -> ApiError:
    """A 400 validation error in Close's `errors` / `field-errors` shape."""
    return ApiError(400, {"errors": errors or [], "field-errors": field_errors})


def not_found(what: str) -> ApiError:
    """A 404 in Close's `{"error": ...}` shape."""
    return ApiError(404, {"error": f"{what} not found"})


def page(
    items: Sequence[T],
    query: dict[str, str],
    render: Callable[[T], dict[str, Any]],
    *,
    has_more_key: bool = True,
) -> Reply:
    """A `{"data", "has_more"}` page from `_skip`/`_limit`; without `has_more_key` the last
    page omits `has_more`, as some Close lists do. Only the page's items are rendered, so
    reading a list page by page costs its length once, not once per page."""
    skip = _page_param(query, "_skip", 0)
    limit = min(_page_param(query, "_limit", DEFAULT_PAGE), MAX_PAGE)
    if limit == 0:
        raise invalid({"_limit": "must be at least 1"})
    data = [render(item) for item in items[skip : skip + limit]]
    has_more = skip + limit < len(items)
    body: dict[str, Any] = {"data": data}
    if has_more or has_more_key:
        body["has_more"] = has_more
    return 200, body


def _page_param(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise invalid({name: f"must be a non-negative integer, got {raw!r}"})
    return int(raw)


def find_field(org: Org, scf_id: str) -> SharedField:
    """The org's field by id; another org's id is as unknown as a made-up one."""
    scf = org.fields.get(scf_id)
    if scf is None:
        raise not_found("Shared custom field")
    return scf


# --- fields -------------------------------------------------------------------------------------


def create_field(org: Org, body: dict[str, Any], user_id: str, rng: random.Random) -> Reply:
    """POST custom_field/shared/: a new field without associations (200, as Close answers)."""
    errors: dict[str, str] = {}
    name = _check_name(org, body.get("name"), errors, current=None)
    ftype = body.get("type")
    if ftype not in FIELD_TYPES:
        errors["type"] = f"must be one of {', '.join(FIELD_TYPES)}"
    description = _check_description(body.get("description"), errors)
    multiple = _check_multiple(ftype, body.get("accepts_multiple_values", False), errors)
    choices = _check_choices(str(ftype), body.get("choices"), errors)
    referenced = _check_referenced(org, ftype, body.get(REFERENCE_KEY), errors)
    if errors:
        raise invalid(errors)
    now = utc_now_iso()
    scf = SharedField(
        id=random_id("cf_", rng),
        name=str(name),
        description=description,
        type=str(ftype),
        accepts_multiple_values=multiple,
        choices=choices,
        organization_id=org.id,
        created_by=user_id,
        updated_by=user_id,
        date_created=now,
        date_updated=now,
        referenced_custom_type_id=referenced,
    )
    org.fields[scf.id] = scf
    return 200, scf.to_json()


def update_field(org: Org, scf_id: str, body: dict[str, Any], user_id: str) -> Reply:
    """PUT custom_field/shared/{id}/: partial update of name, description, choices and
    accepts_multiple_values; `type` and the referenced custom object type cannot change."""
    scf = find_field(org, scf_id)
    errors: dict[str, str] = {}
    for immutable, current in (("type", scf.type), (REFERENCE_KEY, scf.referenced_custom_type_id)):
        if immutable in body and body[immutable] != current:
            errors[immutable] = "cannot be changed"
    name = _check_name(org, body.get("name"), errors, current=scf) if "name" in body else scf.name
    description = scf.description
    if "description" in body:
        description = _check_description(body["description"], errors)
    choices = scf.choices
    if "choices" in body:
        choices = _check_choices(scf.type, body["choices"], errors)
    multiple = scf.accepts_multiple_values
    if "accepts_multiple_values" in body:
        multiple = _check_multiple(scf.type, body["accepts_multiple_values"], errors)
    if errors:
        raise invalid(errors)
    scf.name, scf.description, scf.choices = str(name), description, choices
    scf.accepts_multiple_values = multiple
    scf.touch(user_id)
    return 200, scf.to_json()


def delete_field(org: Org, scf_id: str) -> Reply:
    """DELETE custom_field/shared/{id}/: the field and all its associations; 200 `{}`."""
    find_field(org, scf_id)
    del org.fields[scf_id]
    for ids in org.schemas.values():
        if scf_id in ids:
            ids.remove(scf_id)
    return 200, {}


def _check_name(
    org: Org, name: object, errors: dict[str, str], current: SharedField | None
) -> str | None:
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "must be a non-empty string"
        return None
    for other in org.fields.values():
        if other.name == name and other is not current:
            errors["name"] = "a shared custom field with this name already exists"
    return name


def _check_multiple(ftype: object, multiple: object, errors: dict[str, str]) -> bool:
    if not isinstance(multiple, bool):
        errors["accepts_multiple_values"] = "must be a boolean"
        return False
    if multiple and ftype in FIELD_TYPES and ftype not in MULTI_VALUE_TYPES:
        errors["accepts_multiple_values"] = f"is only allowed for {', '.join(MULTI_VALUE_TYPES)}"
    return multiple


def _check_referenced(
    org: Org, ftype: object, referenced: object, errors: dict[str, str]
) -> str | None:
    """A `custom_object` field names one of the org's custom object types; others name none."""
    if ftype != REFERENCING_TYPE:
        if referenced is not None:
            errors[REFERENCE_KEY] = f"is only allowed for fields of type {REFERENCING_TYPE}"
        return None
    if not isinstance(referenced, str) or not referenced:
        errors[REFERENCE_KEY] = f"is required for fields of type {REFERENCING_TYPE}"
        return None
    if referenced not in org.object_types:
        errors[REFERENCE_KEY] = f"no such custom object type in this organization: {referenced}"
        return None
    return referenced


def _check_description(description: object, errors: dict[str, str]) -> str | None:
    if description is not None and not isinstance(description, str):
        errors["description"] = "must be a string or null"
        return None
    return description


def _check_choices(ftype: str, choices: object, errors: dict[str, str]) -> list[str] | None:
    if ftype != "choices":
        if choices not in (None, []):
            errors["choices"] = "is only allowed for fields of type choices"
        return None
    if not isinstance(choices, list) or not choices:
        errors["choices"] = "must be a non-empty list of strings"
        return None
    if not all(isinstance(c, str) and c for c in choices):
        errors["choices"] = "must be a non-empty list of strings"
        return None
    return list(choices)


# --- associations -------------------------------------------------------------------------------


def associate(org: Org, scf_id: str, body: dict[str, Any], user_id: str) -> Reply:
    """POST custom_field/shared/{scf_id}/association/: 201 and the new association."""
    scf = find_field(org, scf_id)
    errors: dict[str, str] = {}
    object_type = body.get("object_type")
    type_id: str | None = None
    if object_type not in OBJECT_TYPES:
        errors["object_type"] = f"must be one of {', '.join(OBJECT_TYPES)}"
    elif object_type in TYPE_ID_KEYS:
        type_id = _check_type_id(org, str(object_type), body, errors)
    required = _check_required(body.get("required", False), errors)
    roles = _check_roles(org, body.get("editable_with_roles", []), errors)
    if not errors and (object_type, type_id) in scf.associations:
        errors["object_type"] = "the field is already associated with this object type"
    if errors:
        raise invalid(errors)
    association = Association(str(object_type), type_id, roles, required)
    scf.associations[(str(object_type), type_id)] = association
    org.schemas.setdefault((str(object_type), type_id), []).append(scf.id)
    scf.touch(user_id)
    return 201, association.to_json()


def get_association(org: Org, scf_id: str, key: AssocKey) -> Reply:
    """GET .../association/{object_type}/: 200 or 404 when not associated."""
    return 200, _find_association(org, scf_id, key)[1].to_json()


def update_association(
    org: Org, scf_id: str, key: AssocKey, body: dict[str, Any], user_id: str
) -> Reply:
    """PUT .../association/{object_type}/: only `required` and `editable_with_roles` change."""
    scf, association = _find_association(org, scf_id, key)
    errors: dict[str, str] = {}
    required = association.required
    if "required" in body:
        required = _check_required(body["required"], errors)
    roles = association.editable_with_roles
    if "editable_with_roles" in body:
        roles = _check_roles(org, body["editable_with_roles"], errors)
    if errors:
        raise invalid(errors)
    association.required, association.editable_with_roles = required, roles
    scf.touch(user_id)
    return 200, association.to_json()


def delete_association(org: Org, scf_id: str, key: AssocKey, user_id: str) -> Reply:
    """DELETE .../association/{object_type}/: 204 without a body."""
    scf, _ = _find_association(org, scf_id, key)
    del scf.associations[key]
    org.schemas[key].remove(scf_id)
    scf.touch(user_id)
    return 204, None


def _find_association(org: Org, scf_id: str, key: AssocKey) -> tuple[SharedField, Association]:
    scf = find_field(org, scf_id)
    association = scf.associations.get(key)
    if association is None:
        raise not_found("Association")
    return scf, association


def _check_type_id(
    org: Org, object_type: str, body: dict[str, Any], errors: dict[str, str]
) -> str | None:
    key = TYPE_ID_KEYS[object_type]
    type_id = body.get(key)
    if not isinstance(type_id, str) or not type_id:
        errors[key] = f"is required when object_type is {object_type}"
        return None
    if type_id not in org.type_ids(object_type):
        errors[key] = f"no such {object_type.replace('_', ' ')} in this organization: {type_id}"
        return None
    return type_id


def _check_required(required: object, errors: dict[str, str]) -> bool:
    if not isinstance(required, bool):
        errors["required"] = "must be a boolean"
        return False
    return required


def _check_roles(org: Org, roles: object, errors: dict[str, str]) -> list[str]:
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        errors["editable_with_roles"] = "must be a list of role ids or built-in role slugs"
        return []
    unknown = [r for r in roles if r not in BUILTIN_ROLES and r not in org.roles]
    if unknown:
        errors["editable_with_roles"] = f"unknown roles: {', '.join(unknown)}"
        return []
    return list(roles)


# --- lookups ------------------------------------------------------------------------------------


def me(org: Org) -> Reply:
    """GET me/: the key's user, with its organization."""
    user = dict(org.users[0])
    user["organizations"] = [{"id": org.id, "name": org.name}]
    return 200, user


def list_fields(org: Org, query: dict[str, str]) -> Reply:
    """GET custom_field/shared/: the org's fields, paged."""
    return page(list(org.fields.values()), query, SharedField.to_json)


def list_lookups(
    items: dict[str, dict[str, Any]], org: Org, query: dict[str, str], *, has_more_key: bool = True
) -> Reply:
    """A lookup list (roles, types) as the API pages it: the seed's items plus
    `organization_id`."""

    def render(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "organization_id": org.id}

    return page(list(items.values()), query, render, has_more_key=has_more_key)


# --- custom field schemas (display order) -------------------------------------------------------


def get_schema(org: Org, key: AssocKey) -> Reply:
    """GET custom_field_schema/{object_type}/: the object's fields, regular and shared, in
    display order; an unknown custom type is a 404."""
    _check_schema_object(org, key)
    return 200, {"fields": [_schema_entry(org, i) for i in org.schemas.get(key, [])]}


def put_schema(org: Org, key: AssocKey, body: dict[str, Any]) -> Reply:
    """PUT custom_field_schema/{object_type}/: `{"fields": [{"id"}, ...]}` reorders; the ids
    left out follow in their current order; an id not on the object is a 400."""
    _check_schema_object(org, key)
    current = org.schemas.get(key, [])
    wanted = _check_schema_ids(body.get("fields"), set(current))
    org.schemas[key] = wanted + [i for i in current if i not in set(wanted)]
    return get_schema(org, key)


def _check_schema_object(org: Org, key: AssocKey) -> None:
    if key[1] is not None and key[1] not in org.type_ids(key[0]):
        raise not_found("Custom field schema")


def _check_schema_ids(fields: object, belongs: set[str]) -> list[str]:
    shape = 'must be a list of objects {"id": ...}'
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise invalid({"fields": shape})
    ids = [f.get("id") for f in fields]
    if not all(isinstance(i, str) for i in ids):
        raise invalid({"fields": shape})
    unknown = [str(i) for i in ids if i not in belongs]
    if unknown:
        raise invalid({"fields": f"not fields of this object: {', '.join(unknown)}"})
    if len(set(ids)) != len(ids):
        raise invalid({"fields": "names a field more than once"})
    return [str(i) for i in ids]


def _schema_entry(org: Org, field_id: str) -> dict[str, Any]:
    shared = org.fields.get(field_id)
    if shared is not None:
        return {"id": shared.id, "name": shared.name, "type": shared.type, "is_shared": True}
    regular = org.regular_fields[field_id]
    return {"id": regular.id, "name": regular.name, "type": regular.type, "is_shared": False}
