"""`scf-batch export -o FILE`: read an org once and write its fields and associations as a job.

The I/O around export.py: the key from the environment variable the user names (so a source and
a target key can live side by side), one snapshot, the records written as JSONL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import click

from scf_batch import logs
from scf_batch.close.client import open_client
from scf_batch.close.credentials import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_TOKEN_ENV,
    Credentials,
    read_credentials,
)
from scf_batch.errors import CredentialsRefused, ScfBatchError
from scf_batch.exitcodes import ExitCode
from scf_batch.options import DEFAULT_BASE_URL
from scf_batch.plan.export import Exported, export_job
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.orgreader import fetch_snapshot


async def read_org(base_url: str, credentials: Credentials) -> Snapshot:
    """One snapshot of the org the key belongs to."""
    async with open_client(base_url, credentials, timeout_s=30.0) as client:
        return await fetch_snapshot(client, base_url)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    """Write the records one a line, replacing `path` only once they are all written."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


@click.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="the JSONL job to write",
)
@click.option(
    "--api-key-env",
    default=None,
    show_default=DEFAULT_API_KEY_ENV,
    help="the environment variable holding the org's API key",
)
@click.option(
    "--token-env",
    default=None,
    show_default=DEFAULT_TOKEN_ENV,
    help="the environment variable holding an OAuth access token (instead of an API key)",
)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="Close API base URL")
@click.option("--field", "fields", multiple=True, help="export only this field (repeatable)")
@click.option(
    "--object-type",
    "object_types",
    multiple=True,
    help="only associations with this object type (lead, ..., or a custom type's name; repeatable)",
)
@click.option(
    "--skip-ambiguous", is_flag=True, help="leave out what has no unambiguous name (else: exit 2)"
)
def export_command(
    *,
    output: Path,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    skip_ambiguous: bool,
) -> int:
    """Write an org's shared fields (definitions) and associations as a job, all by name."""
    try:
        credentials = read_credentials(
            os.environ, api_key_env=api_key_env, token_env=token_env, base_url=base_url
        )
        logs.configure(log_format="auto", secrets=[credentials.secret])
        snapshot = anyio.run(read_org, base_url, credentials, backend="asyncio")
    except CredentialsRefused as exc:
        click.echo(f"scf-batch export: {exc}", err=True)
        return ExitCode.ABORTED
    except ScfBatchError as exc:
        click.echo(f"scf-batch export: {exc}", err=True)
        return ExitCode.USAGE
    exported = export_job(snapshot, fields=fields, object_types=object_types)
    return _write(exported, output, snapshot, skip_ambiguous=skip_ambiguous)


def _write(exported: Exported, output: Path, snapshot: Snapshot, *, skip_ambiguous: bool) -> int:
    if exported.unmatched:
        for unmatched in exported.unmatched:
            click.echo(f"scf-batch export: {unmatched}", err=True)
        click.echo("scf-batch export: a filter matches nothing; nothing was written", err=True)
        return ExitCode.USAGE
    for problem in exported.problems:
        click.echo(f"scf-batch export: {problem}", err=True)
    if exported.problems and not skip_ambiguous:
        click.echo(
            f"scf-batch export: {len(exported.problems)} problem(s); nothing was written. "
            "Rename in Close what has no unambiguous name, or rerun with --skip-ambiguous "
            "to leave it out",
            err=True,
        )
        return ExitCode.USAGE
    try:
        write_jsonl(output, exported.records)
    except OSError as exc:
        click.echo(f"scf-batch export: {output}: cannot write ({exc.strerror})", err=True)
        return ExitCode.USAGE
    org = f" of {snapshot.org}" if snapshot.org is not None else ""
    click.echo(
        f"scf-batch export: wrote {exported.definitions} field definition(s) and "
        f"{exported.associations} association(s){org} to {output}"
    )
    return ExitCode.OK
