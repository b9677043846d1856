"""`export`: an org's shared fields and associations written as a job, all by name."""

from __future__ import annotations

import os
from pathlib import Path

import click

from scf_batch.cli.common import guarded
from scf_batch.cli.credentialflags import credential_flags
from scf_batch.options import click_options_for, environment_base_url


@click.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="the JSONL job to write (with --format csv: the CSV) [required]",
)
@credential_flags
@click_options_for("base_url")
@click.option(
    "--field", "fields", multiple=True, help="export only this field (repeatable) [default: all]"
)
@click.option(
    "--object-type",
    "object_types",
    multiple=True,
    help="only associations with this object type (lead, ..., or a custom type's name; "
    "repeatable) [default: all]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("jsonl", "csv")),
    default="jsonl",
    help="csv: the associations as an operations CSV a spreadsheet edits (-o ORG.csv), the "
    "definitions and field orders as JSONL beside it (ORG.definitions.jsonl) and a job spec "
    "naming both (ORG.toml) [default: jsonl]",
)
@click.option(
    "--skip-ambiguous",
    is_flag=True,
    help="leave out what has no unambiguous name, instead of exit 2 [default: off]",
)
def export_command(
    *,
    output: Path,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str | None,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    skip_ambiguous: bool,
    output_format: str,
) -> int:
    """Write an org's shared fields (definitions) and associations as a job, all by name."""

    def body() -> int:
        from scf_batch.run.export import export_org  # noqa: PLC0415 (imported when it runs)

        return export_org(
            output=output,
            api_key_env=api_key_env,
            token_env=token_env,
            base_url=base_url or environment_base_url(os.environ),
            fields=fields,
            object_types=object_types,
            skip_ambiguous=skip_ambiguous,
            output_format=output_format,
        )

    return guarded(body)
