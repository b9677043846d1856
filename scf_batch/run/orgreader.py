"""Reading the org's snapshot through the client: five reads at once, errors made clear."""

from __future__ import annotations

from typing import Any, Protocol

import anyio

from scf_batch.close.answers import FIELDS_PATH, check_list, check_me
from scf_batch.errors import (
    AuthError,
    CloseError,
    CredentialsRefused,
    ServerRefusing,
    UsageError,
)
from scf_batch.plan.snapshot import Snapshot

ME_PATH = "me/"
__all__ = ["FIELDS_PATH", "fetch_snapshot", "read_snapshot"]
ROLES_PATH = "role/"
ACTIVITY_TYPES_PATH = "custom_activity/"
OBJECT_TYPES_PATH = "custom_object_type/"


class Reader(Protocol):
    """Reads one Close object, and every object of a Close list, following its pages."""

    async def get_object(self, path: str) -> dict[str, Any]: ...
    async def list_all(self, path: str) -> list[dict[str, Any]]: ...


async def read_snapshot(reader: Reader) -> Snapshot:
    """Read the org once: `me/`, roles, custom types and every field with its associations.

    The five reads go out together (each is its own endpoint group, paced on its own); the
    fields' pages follow one another, as paging by `_skip` needs.
    """
    lists: dict[str, list[dict[str, Any]]] = {}
    found: dict[str, dict[str, Any]] = {}

    async def read_list(path: str) -> None:
        items = await reader.list_all(path)
        check_list(path, items)
        lists[path] = items

    async def read_me() -> None:
        me = await reader.get_object(ME_PATH)
        check_me(me)
        found[ME_PATH] = me

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read_me)
            for path in (FIELDS_PATH, ROLES_PATH, ACTIVITY_TYPES_PATH, OBJECT_TYPES_PATH):
                group.start_soon(read_list, path)
    except ExceptionGroup as failed:  # the first read's error stops the others: that one
        raise _first(failed) from None
    return Snapshot.from_lists(
        found[ME_PATH],
        lists[FIELDS_PATH],
        lists[ROLES_PATH],
        lists[ACTIVITY_TYPES_PATH],
        lists[OBJECT_TYPES_PATH],
    )


def _first(failed: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error of a (possibly nested) group."""
    error = failed.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error


async def fetch_snapshot(reader: Reader, base_url: str) -> Snapshot:
    """`read_snapshot`, with refused credentials and an unreachable API as clear errors."""
    try:
        return await read_snapshot(reader)
    except AuthError as exc:
        raise CredentialsRefused(exc.status) from exc
    except ServerRefusing:
        raise  # exit 5: Close asks to wait longer than a run should
    except CloseError as exc:
        raise UsageError(
            f"{base_url}: could not read the org's fields, roles and types ({exc}); "
            "check --base-url and the network"
        ) from exc
