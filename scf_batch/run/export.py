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
from scf_batch.close.credentials import DEFAULT_API_KEY_ENV, Credentials, read_credentials
from scf_batch.errors import CredentialsRefused, ScfBatchError
from scf_batch.exitcodes import ExitCode
from scf_batch.options import DEFAULT_BASE_URL
from scf_batch.plan.export import Exported, export_job, split_for_csv
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
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the JSONL job to write")  # fmt: skip
@click.option("--api-key-env", default=DEFAULT_API_KEY_ENV, show_default=True,
              help="the environment variable holding the org's API key")  # fmt: skip
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="Close API base URL")
@click.option("--field", "fields", multiple=True, help="export only this field (repeatable)")
@click.option("--object-type", "object_types", multiple=True,
              help="only associations with this object type (lead, ..., or a custom type's "
                   "name; repeatable)")  # fmt: skip
@click.option("--format", "output_format", type=click.Choice(("jsonl", "csv")), default="jsonl",
              show_default=True,
              help="csv: the associations as an operations CSV, the definitions as JSONL "
                   "beside it (FILE with .definitions.jsonl)")  # fmt: skip
@click.option("--skip-ambiguous", is_flag=True,
              help="leave out what has no unambiguous name (else: exit 2)")  # fmt: skip
def export_command(
    *,
    output: Path,
    api_key_env: str,
    base_url: str,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    skip_ambiguous: bool,
    output_format: str = "jsonl",
) -> int:
    """Write an org's shared fields (definitions) and associations as a job, all by name."""
    try:
        credentials = read_credentials(
            os.environ, api_key_env=api_key_env, token_env=None, base_url=base_url
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
    if output_format == "csv" and not exported.problems:
        return _write_csv(exported, output, snapshot)
    return _write(exported, output, snapshot, skip_ambiguous=skip_ambiguous)


def definitions_beside(output: Path) -> Path:
    """Where `--format csv` puts the definitions: `org.csv` -> `org.definitions.jsonl`."""
    return output.with_name(output.name.removesuffix(".csv") + ".definitions.jsonl")


def _write_csv(exported: Exported, output: Path, snapshot: Snapshot) -> int:
    definitions, text = split_for_csv(exported.records)
    beside = definitions_beside(output)
    try:
        write_jsonl(beside, definitions)
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
    except OSError as exc:
        click.echo(f"scf-batch export: {output}: cannot write ({exc.strerror})", err=True)
        return ExitCode.USAGE
    org = f" of {snapshot.org}" if snapshot.org is not None else ""
    click.echo(
        f"scf-batch export: wrote {exported.associations} association(s){org} to {output} and "
        f"{exported.definitions} field definition(s) to {beside}; run the definitions first"
    )
    return ExitCode.OK


def _write(exported: Exported, output: Path, snapshot: Snapshot, *, skip_ambiguous: bool) -> int:
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
