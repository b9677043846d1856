"""What `scf-batch export -o FILE` does (its command is cli/export.py): read an org once and
write its fields, associations and field order as a job.

The I/O around export.py: the key from the environment variable the user names (so a source and
a target key can live side by side), one snapshot, the schema of each object the associations
name (for the order lines), the records written as JSONL; with `--format csv` the associations
as an operations CSV, the define lines as JSONL beside it, and a job spec naming both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import click

from scf_batch import logs
from scf_batch.close.client import open_client
from scf_batch.close.credentials import Credentials, read_credentials
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.plan.export import (
    Exported,
    add_orders,
    csv_job_spec,
    export_job,
    split_for_csv,
    toml_string,
)
from scf_batch.plan.snapshot import Snapshot
from scf_batch.run.orgreader import fetch_snapshot


async def read_org(base_url: str, credentials: Credentials) -> Snapshot:
    """One snapshot of the org the key belongs to."""
    async with open_client(base_url, credentials, timeout_s=30.0) as client:
        return await fetch_snapshot(client, base_url)


async def read_export(
    base_url: str,
    credentials: Credentials,
    *,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    orders: bool,
) -> tuple[Snapshot, Exported]:
    """One snapshot of the org and its export; with `orders`, each named object's schema read
    for its order line."""
    async with open_client(base_url, credentials, timeout_s=30.0) as client:
        snapshot = await fetch_snapshot(client, base_url)
        exported = export_job(snapshot, fields=fields, object_types=object_types)
        if orders and not exported.unmatched:
            schemas = {target: await client.get_schema(target) for target in exported.targets}
            add_orders(exported, schemas)
    return snapshot, exported


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    """Write the records one a line, replacing `path` only once they are all written."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def export_org(
    *,
    output: Path,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    skip_ambiguous: bool,
    output_format: str = "jsonl",
) -> int:
    """Write an org's shared fields (definitions) and associations as a job, all by name; the
    exit code (errors are raised, for the CLI's one error path)."""
    if output_format == "csv":
        check_csv_output(output)
    credentials = read_credentials(
        os.environ, api_key_env=api_key_env, token_env=token_env, base_url=base_url
    )
    logs.configure(log_format="auto", secrets=[credentials.secret])
    snapshot, exported = anyio.run(
        lambda: read_export(
            base_url,
            credentials,
            fields=fields,
            object_types=object_types,
            orders=True,
        ),
        backend="asyncio",
    )
    if not _writable(exported, skip_ambiguous=skip_ambiguous):
        return ExitCode.USAGE
    org = f" of {snapshot.org}" if snapshot.org is not None else ""
    try:
        if output_format == "csv":
            variable = _variable_lines(api_key_env, token_env)
            beside, spec = _write_csv(exported, output, variable)
            message = (
                f"wrote {exported.associations} association(s){org} to {output}, "
                f"{exported.definitions} field definition(s) and the field order of "
                f"{exported.orders} object(s) to {beside}, and the job spec {spec} naming "
                f"both; validate, plan or run {spec}"
            )
        else:
            write_jsonl(output, exported.records)
            message = (
                f"wrote {exported.definitions} field definition(s) and "
                f"{exported.associations} association(s){org} to {output}, with the field "
                f"order of {exported.orders} object(s)"
            )
    except OSError as exc:
        click.echo(f"scf-batch export: {output}: cannot write ({exc.strerror})", err=True)
        return ExitCode.USAGE
    click.echo(f"scf-batch export: {message}")
    return ExitCode.OK


def definitions_beside(output: Path) -> Path:
    """Where `--format csv` puts the definitions: `org.csv` -> `org.definitions.jsonl`."""
    return output.with_name(_stem(output) + ".definitions.jsonl")


def spec_beside(output: Path) -> Path:
    """Where `--format csv` puts the job spec naming both files: `org.csv` -> `org.toml`."""
    return output.with_name(_stem(output) + ".toml")


def _stem(output: Path) -> str:
    """`org.csv` (or `ORG.CSV`) -> `org`: the name the files beside it share."""
    name = output.name
    return name[: -len(".csv")] if name.lower().endswith(".csv") else name


def check_csv_output(output: Path) -> None:
    """`--format csv` writes an operations CSV: its name must end in .csv (UsageError), so the
    spec written beside it names a file `run` reads as one, and the spec is not the CSV."""
    if not output.name.lower().endswith(".csv") or output.name.lower() == ".csv":
        raise UsageError(
            f"-o {output}: found a name without the .csv suffix; expected a name such as "
            "org.csv with --format csv (org.definitions.jsonl and org.toml go beside it)"
        )


def _variable_lines(api_key_env: str | None, token_env: str | None) -> str:
    """The spec's lines naming the variables export was told to read its credentials from (a
    spec names a variable, never a key); empty for the default ones."""
    lines = [
        f"{key} = {toml_string(value)}  # the variable export read the {noun} from"
        for key, value, noun in (
            ("api_key_env", api_key_env, "key"),
            ("token_env", token_env, "token"),
        )
        if value is not None
    ]
    return "\n".join(lines)


def _writable(exported: Exported, *, skip_ambiguous: bool) -> bool:
    """Whether the export may be written; says why not (a filter matching nothing, a problem)."""
    if exported.unmatched:
        for unmatched in exported.unmatched:
            click.echo(f"scf-batch export: {unmatched}", err=True)
        click.echo("scf-batch export: a filter matches nothing; nothing was written", err=True)
        return False
    for problem in exported.problems:
        click.echo(f"scf-batch export: {problem}", err=True)
    if exported.problems and not skip_ambiguous:
        click.echo(
            f"scf-batch export: {len(exported.problems)} problem(s); nothing was written. "
            "Rename in Close what has no unambiguous name, or rerun with --skip-ambiguous "
            "to leave it out",
            err=True,
        )
        return False
    return True


def _write_csv(exported: Exported, output: Path, variable: str) -> tuple[Path, Path]:
    """The associations as an operations CSV at `output`, the define lines as JSONL beside it,
    and the job spec naming both (written last: a spec names files that exist); each file
    replaced only once it is whole. The definitions file and the spec, by their paths."""
    definitions, text = split_for_csv(exported.records)
    beside, spec = definitions_beside(output), spec_beside(output)
    write_jsonl(beside, definitions)
    _write_text(output, text)
    name = _stem(output)[:100] or "export"
    spec_text = csv_job_spec(
        name, operations=output.name, definitions=beside.name, credentials=variable
    )
    _write_text(spec, spec_text)
    return beside, spec


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
