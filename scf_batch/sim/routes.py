"""URL paths under `/api/v1/` -> route template and parameters; method + template names the
endpoint group (the unit of rate limiting and of `/_sim/stats`)."""

from __future__ import annotations

from dataclasses import dataclass

from scf_batch.sim.store import TYPE_ID_KEYS, AssocKey, parse_schema_path

FIELDS = "custom_field/shared/"
FIELD = "custom_field/shared/{scf_id}/"
ASSOCIATIONS = "custom_field/shared/{scf_id}/association/"
ASSOCIATION = "custom_field/shared/{scf_id}/association/{object_type}/"
ME = "me/"
ROLES = "role/"
ACTIVITY_TYPES = "custom_activity/"
OBJECT_TYPES = "custom_object_type/"
SCHEMA = "custom_field_schema/{object_type}/"
NO_ROUTE = "(no route)"

METHODS: dict[str, tuple[str, ...]] = {
    FIELDS: ("GET", "POST"),
    FIELD: ("GET", "PUT", "DELETE"),
    ASSOCIATIONS: ("POST",),
    ASSOCIATION: ("GET", "PUT", "DELETE"),
    ME: ("GET",),
    ROLES: ("GET",),
    ACTIVITY_TYPES: ("GET",),
    OBJECT_TYPES: ("GET",),
    SCHEMA: ("GET", "PUT"),
}
GROUPS: dict[tuple[str, str], str] = {
    (method, template): f"{method} {template}"
    for template, methods in METHODS.items()
    for method in methods
}
WRITE_METHODS = frozenset(("POST", "PUT", "DELETE"))
PLAIN_OBJECT_TYPES = frozenset(("lead", "contact", "opportunity"))
LOOKUPS: dict[tuple[str, ...], str] = {
    ("me",): ME,
    ("role",): ROLES,
    ("custom_activity",): ACTIVITY_TYPES,
    ("custom_object_type",): OBJECT_TYPES,
}


@dataclass(frozen=True, slots=True)
class Route:
    """A matched path: its template and the ids it carries."""

    template: str
    scf_id: str = ""
    association: AssocKey | None = None


def resolve(tail: str) -> Route | None:
    """The route for a path below `/api/v1/` (it must end in `/`), or None for an unknown URL."""
    parts = tuple(tail[:-1].split("/")) if tail.endswith("/") else ("",)
    if "" in parts:
        return None
    lookup = LOOKUPS.get(parts)
    if lookup is not None:
        return Route(lookup)
    if parts[0] == "custom_field_schema":
        return _schema_route(parts[1:])
    if parts[:2] != ("custom_field", "shared"):
        return None
    return _field_route(parts[2:])


def _field_route(rest: tuple[str, ...]) -> Route | None:
    if len(rest) <= 1:
        return Route(FIELD, rest[0]) if rest else Route(FIELDS)
    if rest[1] != "association":
        return None
    if len(rest) == 2:
        return Route(ASSOCIATIONS, rest[0])
    key = association_key(rest[2:])
    return None if key is None else Route(ASSOCIATION, rest[0], key)


def _schema_route(rest: tuple[str, ...]) -> Route | None:
    """`custom_field_schema/lead/`, `.../activity/<id>/`, `.../custom_object/<id>/`."""
    try:
        key = parse_schema_path("/".join(rest))
    except ValueError:
        return None
    return Route(SCHEMA, association=key)


def association_key(parts: tuple[str, ...]) -> AssocKey | None:
    """`lead` -> (lead, None); `custom_object_type/cotype_x` -> (custom_object_type, cotype_x)."""
    if len(parts) == 1 and parts[0] in PLAIN_OBJECT_TYPES:
        return parts[0], None
    if len(parts) == 2 and parts[0] in TYPE_ID_KEYS:
        return parts[0], parts[1]
    return None
