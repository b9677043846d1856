"""The shape of every part of Close's answers the snapshot relies on, checked once at the edge.

A list item without a string `id`, a field whose `associations` is not a list of objects naming
an `object_type`, roles that are not strings, a `me/` without an organization: each is a
`CloseError` naming the path, the item and what was found, raised before the snapshot is built,
so nothing downstream meets a value of the wrong type.
"""

from __future__ import annotations

from typing import Any

from scf_batch.errors import CloseError
from scf_batch.text import show

FIELDS_PATH = "custom_field/shared/"


def check_list(path: str, items: list[dict[str, Any]]) -> None:
    """CloseError unless every item has a string id (and, for fields, well-shaped associations)."""
    for number, item in enumerate(items, 1):
        where = f"GET {path}: item {number}"
        if not isinstance(item.get("id"), str):
            raise CloseError(f"{where}: 'id' is {_found(item.get('id'))}; expected a string")
        if path == FIELDS_PATH:
            _check_field(f"{where} ({show(item['id'])})", item)


def check_me(body: dict[str, Any]) -> None:
    """CloseError unless `me/` names at least one organization with a string id."""
    orgs = body.get("organizations")
    if not isinstance(orgs, list) or not orgs:
        raise CloseError(
            f"GET me/: 'organizations' is {_found(orgs)}; expected a list of at least one org"
        )
    for number, org in enumerate(orgs, 1):
        if not isinstance(org, dict) or not isinstance(org.get("id"), str):
            raise CloseError(
                f"GET me/: organization {number} is {_found(org)}; "
                "expected an object with a string 'id'"
            )


def _check_field(where: str, field: dict[str, Any]) -> None:
    associations = field.get("associations")
    if associations is None:
        return
    if not isinstance(associations, list):
        raise CloseError(f"{where}: 'associations' is {_found(associations)}; expected a list")
    for number, assoc in enumerate(associations, 1):
        at = f"{where}: association {number}"
        if not isinstance(assoc, dict):
            raise CloseError(f"{at} is {_found(assoc)}; expected an object")
        if not isinstance(assoc.get("object_type"), str):
            found = _found(assoc.get("object_type"))
            raise CloseError(f"{at}: 'object_type' is {found}; expected a string")
        roles = assoc.get("editable_with_roles")
        if roles is not None and not (
            isinstance(roles, list) and all(isinstance(r, str) for r in roles)
        ):
            raise CloseError(
                f"{at}: 'editable_with_roles' is {_found(roles)}; expected a list of role ids"
            )


def _found(value: object) -> str:
    """A found value with its JSON type, for a message."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
    return f"{kind} {show(value)}" if value is not None else kind
