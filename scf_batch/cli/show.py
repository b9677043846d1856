"""`scf-batch show`: read the org once and print its fields x targets, by name (read-only)."""

from __future__ import annotations

import os
import sys

import anyio
import click
from rich.console import Console
from rich.table import Table

from scf_batch import logs
from scf_batch.close.credentials import DEFAULT_API_KEY_ENV, read_credentials
from scf_batch.errors import CredentialsRefused, ScfBatchError
from scf_batch.exitcodes import ExitCode
from scf_batch.options import DEFAULT_BASE_URL
from scf_batch.plan.show import (
    TABLE_HEADERS,
    ShownRow,
    filter_rows,
    render_csv,
    render_json,
    show_rows,
    table_cells,
)
from scf_batch.run.export import read_org

FORMATS = ("table", "csv", "json")


@click.command("show")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default=None,
    help="table on a terminal, csv when piped, unless given",
)
@click.option("--field", "fields", multiple=True, help="only this field, by name (repeatable)")
@click.option(
    "--object-type",
    "object_types",
    multiple=True,
    help="only this object type or custom type name (repeatable)",
)
@click.option(
    "--api-key-env",
    default=DEFAULT_API_KEY_ENV,
    show_default=True,
    help="the environment variable holding the org's API key",
)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="Close API base URL")
def show_command(
    *,
    output_format: str | None,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    api_key_env: str,
    base_url: str,
) -> int:
    """The org at a glance: every shared field x target with its settings, by name."""
    try:
        credentials = read_credentials(
            os.environ, api_key_env=api_key_env, token_env=None, base_url=base_url
        )
        logs.configure(log_format="auto", secrets=[credentials.secret])
        snapshot = anyio.run(read_org, base_url, credentials, backend="asyncio")
    except CredentialsRefused as exc:
        click.echo(f"scf-batch show: {exc}", err=True)
        return ExitCode.ABORTED
    except ScfBatchError as exc:
        click.echo(f"scf-batch show: {exc}", err=True)
        return ExitCode.USAGE
    rows, problems = filter_rows(show_rows(snapshot), fields=fields, object_types=object_types)
    for problem in problems:
        click.echo(f"scf-batch show: {problem}", err=True)
    if problems:
        return ExitCode.USAGE
    chosen = output_format or ("table" if sys.stdout.isatty() else "csv")
    if chosen == "table":
        _print_table(rows)
    else:
        click.echo(render_csv(rows) if chosen == "csv" else render_json(rows), nl=False)
    return ExitCode.OK


def _print_table(rows: list[ShownRow]) -> None:
    """A rich table that wraps to the terminal's width (plain text when piped)."""
    table = Table()
    for header in TABLE_HEADERS:
        # names stay whole; settings and choices wrap to fit the width
        table.add_column(header, no_wrap=header in ("field", "type"))
    for cells in table_cells(rows):
        table.add_row(*cells)
    Console(soft_wrap=False).print(table)
