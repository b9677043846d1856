"""The command line: parse, build, run, return an exit code. Thin on purpose."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from scf_batch import __version__
from scf_batch.errors import AuthError, CloseError, UsageError
from scf_batch.sim.command import sim_command
from scf_batch.validation import render_json, render_text, validate_job


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scf-batch")
def cli() -> None:
    """Bulk, resumable changes to Close Shared Custom Field associations."""


cli.add_command(sim_command)


@cli.command("validate")
@click.argument("job", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--online", is_flag=True, help="Also check every id and name against the org.")
@click.option("--base-url", default=None, help="Close API base URL (default: spec, then Close).")
def validate_command(job: Path, output_format: str, online: bool, base_url: str | None) -> int:
    """Check a job (spec or operations file) without changing anything; exit 2 on problems."""
    try:
        report = validate_job(job, online=online, base_url=base_url, environ=os.environ)
    except (UsageError, CloseError) as exc:
        code = 3 if isinstance(exc, AuthError) else 2
        if output_format == "json":
            click.echo(json.dumps({"path": str(job), "ok": False, "error": str(exc)}, indent=2))
        else:
            click.echo(f"scf-batch validate: {exc}", err=True)
        return code
    click.echo(render_json(report) if output_format == "json" else render_text(report))
    return 0 if report.ok else 2


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
