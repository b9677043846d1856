"""The org a job talks to: the credentials its variables hold, the client with the job's
settings, and the snapshot read once, refused when the key is of another org than the pinned one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from scf_batch.close.client import CloseClient, open_client
from scf_batch.close.credentials import Credentials, read_credentials
from scf_batch.close.inflight import InFlightLimit
from scf_batch.errors import UsageError
from scf_batch.options import RunSettings
from scf_batch.plan.snapshot import Org, Snapshot
from scf_batch.run.orgreader import fetch_snapshot


class Seen(Protocol):
    """Who is told which org the key belongs to, before the pin may refuse it."""

    org: Org | None


async def read_pinned(
    client: CloseClient, settings: RunSettings, *, seen: Seen | None = None
) -> Snapshot:
    """The org's snapshot, once its org is the one the job is pinned to (UsageError if not);
    `seen.org` names the org read, refused or not (a run's summary says whose key it was)."""
    snapshot = await fetch_snapshot(client, settings.base_url)
    if seen is not None:
        seen.org = snapshot.org
    check_org(snapshot, settings)
    return snapshot


def check_org(snapshot: Snapshot, settings: RunSettings) -> None:
    """A job pinned to an org refuses a key of another (or an org it cannot tell)."""
    wanted_id, wanted_name = settings.organization_id, settings.organization_name
    if wanted_id is None and wanted_name is None:
        return
    org = snapshot.org
    matches = org is not None and (
        (wanted_id is None or org.id == wanted_id)
        and (wanted_name is None or org.name == wanted_name)
    )
    if not matches:
        wanted = " ".join(f'"{v}"' for v in (wanted_name, wanted_id) if v is not None)
        found = f"the org {org}" if org is not None else "an org that `me/` does not name"
        raise UsageError(
            f"organization: found a key of {found}; expected a key of the org {wanted} that "
            f"the job is pinned to. Nothing was sent: check {settings.api_key_env or 'the key'}"
        )


def credentials_for(settings: RunSettings, environ: Mapping[str, str] = os.environ) -> Credentials:
    """The key or token the job's variables hold, checked against where it would be sent."""
    return read_credentials(
        environ,
        api_key_env=settings.api_key_env,
        token_env=settings.token_env,
        base_url=settings.base_url,
    )


def client_for(
    settings: RunSettings, credentials: Credentials
) -> AbstractAsyncContextManager[CloseClient]:
    """The client a run or a plan uses, with every setting that concerns it."""
    return open_client(
        settings.base_url,
        credentials,
        timeout_s=settings.timeout_s,
        rate_per_s=settings.rate_per_s,
        max_connections=settings.concurrency,
        allow_insecure_http=settings.allow_insecure_http,
        max_wait_s=settings.row_deadline_s,
        in_flight=InFlightLimit(settings.rate_per_s, max_in_flight=settings.concurrency),
    )
