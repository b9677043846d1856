"""`scf-batch validate`: one preparation pass over a job, offline or against the org, rendered.

Problems are counted in full but only the first `shown` are kept, so memory stays bounded however
broken the file is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import anyio

from scf_batch.close.credentials import Credentials, read_credentials
from scf_batch.errors import UsageError
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.spec import JobSpec, load_job
from scf_batch.options import environment_base_url
from scf_batch.plan.prepare import Report, survey
from scf_batch.plan.snapshot import Snapshot
from scf_batch.text import show


def validate_job(
    job: Path,
    *,
    online: bool,
    base_url: str | None,
    environ: Mapping[str, str],
    encoding: str | None = None,
    allow_empty: bool | None = None,
) -> Report:
    """Check a job: offline, or with `online` resolved against the org the key belongs to.

    `encoding` and `allow_empty` (None: the spec's, then the default) are the run options of
    the same names; a file without a row is a problem unless an empty job is allowed.
    """
    spec = load_job(job)
    encoding = encoding or spec.values.get("encoding") or "utf-8"
    if allow_empty is None:
        allow_empty = bool(spec.values.get("allow_empty"))
    report = _survey(spec, online=online, base_url=base_url, environ=environ, encoding=encoding)
    if not allow_empty:
        report.refuse_empty()
    return report


def _survey(
    spec: JobSpec, *, online: bool, base_url: str | None, environ: Mapping[str, str], encoding: str
) -> Report:
    operations = OperationsFile(spec.operations, encoding, spec.definitions)
    if not online:
        return survey(
            operations.items(),
            None,
            where=operations.where,
            defines_where=operations.defines_where,
        )
    url = base_url or spec.values.get("base_url") or environment_base_url(environ)
    credentials = read_credentials(
        environ, api_key_env=spec.api_key_env, token_env=spec.token_env, base_url=url
    )
    insecure = bool(spec.values.get("allow_insecure_http"))
    snapshot = anyio.run(_fetch, url, credentials, insecure, backend="asyncio")
    _check_pin(snapshot, spec)
    items = operations.items(role_name=snapshot.role_name)
    return survey(items, snapshot, where=operations.where, defines_where=operations.defines_where)


def _check_pin(snapshot: Snapshot, spec: JobSpec) -> None:
    """A spec pinned to an org (`organization_id`/`_name`) refuses a key of another, as run does."""
    wanted_id = spec.values.get("organization_id")
    wanted_name = spec.values.get("organization_name")
    if wanted_id is None and wanted_name is None:
        return
    org = snapshot.org
    if org is not None and wanted_id in (None, org.id) and wanted_name in (None, org.name):
        return
    wanted = " ".join(show(v) for v in (wanted_name, wanted_id) if v is not None)
    found = f"the org {org}" if org is not None else "an org that `me/` does not name"
    raise UsageError(
        f"organization: found a key of {found}; expected a key of the org {wanted} that the "
        "job is pinned to; nothing was validated against it"
    )


async def _fetch(base_url: str, credentials: Credentials, insecure: bool) -> Snapshot:
    from scf_batch.close.client import open_client  # noqa: PLC0415 (offline runs skip aiohttp)
    from scf_batch.run.orgreader import fetch_snapshot  # noqa: PLC0415

    async with open_client(base_url, credentials, allow_insecure_http=insecure) as client:
        return await fetch_snapshot(client, base_url)
