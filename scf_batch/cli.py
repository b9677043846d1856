"""The command line: parse, build, run, return an exit code. Thin on purpose."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from scf_batch import __version__
from scf_batch.sim.command import sim_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scf-batch")
def cli() -> None:
    """Bulk, resumable changes to Close Shared Custom Field associations."""


cli.add_command(sim_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting (so tests can call it)."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="scf-batch",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0
