"""`scf-batch show`: read the org once and print its fields x targets, by name (read-only)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from scf_batch.cli.common import guarded
from scf_batch.cli.credentialflags import credential_flags
from scf_batch.exitcodes import ExitCode
from scf_batch.options import click_options_for, environment_base_url

if TYPE_CHECKING:
    from scf_batch.plan.show import ShownRow

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
@credential_flags
@click_options_for("base_url")
def show_command(
    *,
    output_format: str | None,
    fields: tuple[str, ...],
    object_types: tuple[str, ...],
    api_key_env: str | None,
    token_env: str | None,
    base_url: str | None,
) -> int:
    """The org at a glance: every shared field x target with its settings, by name."""

    def body() -> int:
        import anyio  # noqa: PLC0415 (imported when it runs)

        from scf_batch import logs  # noqa: PLC0415
        from scf_batch.close.credentials import read_credentials  # noqa: PLC0415
        from scf_batch.plan.show import (  # noqa: PLC0415
            filter_rows,
            render_csv,
            render_json,
            show_rows,
        )
        from scf_batch.run.export import read_org  # noqa: PLC0415

        url = base_url or environment_base_url(os.environ)
        credentials = read_credentials(
            os.environ, api_key_env=api_key_env, token_env=token_env, base_url=url
        )
        logs.configure(log_format="auto", secrets=[credentials.secret])
        snapshot = anyio.run(read_org, url, credentials, backend="asyncio")
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

    return guarded(body)


def _print_table(rows: list[ShownRow]) -> None:
    """A rich table that wraps to the terminal's width (plain text when piped)."""
    from rich.console import Console  # noqa: PLC0415 (imported when it runs)
    from rich.table import Table  # noqa: PLC0415

    from scf_batch.plan.show import TABLE_HEADERS, table_cells  # noqa: PLC0415

    table = Table()
    for header in TABLE_HEADERS:
        # names stay whole; settings and choices wrap to fit the width
        table.add_column(header, no_wrap=header in ("field", "type"))
    for cells in table_cells(rows):
        table.add_row(*cells)
    Console(soft_wrap=False).print(table)
