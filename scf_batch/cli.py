"""The command line: parse, build, run, return an exit code. Thin on purpose."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import click

from scf_batch import __version__, logs
from scf_batch.demo import DEMO_API_KEY, describe_simulator, find_demo_spec, run_demo
from scf_batch.dryrun import plan_lines
from scf_batch.errors import AuthError, CloseError, LockHeldError, ScfBatchError, UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.job import CredentialsRefused, JobInvalid, run_job
from scf_batch.jobfile import read_operations
from scf_batch.jobspec import load_job
from scf_batch.progress import make_reporter
from scf_batch.settings import build_settings, read_api_key
from scf_batch.sim.command import sim_command
from scf_batch.summary import render_summary
from scf_batch.validation import render_json, render_text, validate_job


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scf-batch")
def cli() -> None:
    """Bulk, resumable changes to Close Shared Custom Field associations."""


cli.add_command(sim_command)


def guarded(body: Callable[[], int]) -> int:
    """Run a command body; turn the project's own errors into messages and exit codes."""
    try:
        return body()
    except JobInvalid as exc:
        click.echo(render_text(exc.report), err=True)
        click.echo(
            "scf-batch: fix them, or rerun with --skip-invalid to record the invalid rows "
            "and run the rest",
            err=True,
        )
        return ExitCode.USAGE
    except (ScfBatchError, OSError) as exc:  # OSError: e.g. the disk filled up mid-run
        code, hint = exit_for(exc)
        click.echo(f"scf-batch: {exc}{hint}", err=True)
        return code


def exit_for(exc: ScfBatchError | OSError) -> tuple[ExitCode, str]:
    """The exit code of an error, and what to add to its message."""
    if isinstance(exc, LockHeldError):
        return ExitCode.LOCKED, "; nothing was changed"
    if isinstance(exc, CredentialsRefused):
        return ExitCode.ABORTED, ""
    if isinstance(exc, OSError):
        return ExitCode.USAGE, "; the run folder's checkpoint is kept, rerun to continue"
    return ExitCode.USAGE, ""


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options `run` shares with the job spec (None = not given, the spec decides)."""
    options = [
        click.option("--base-url", help="Close API base URL [https://api.close.com/api/v1/]"),
        click.option("--out", type=click.Path(path_type=Path), help="run folder [runs/<job>/]"),
        click.option("--concurrency", type=click.IntRange(1, 256), help="requests in flight [16]"),
        click.option(
            "--rate", type=click.FloatRange(min=0.01), help="req/s per endpoint group [20]"
        ),
        click.option(
            "--max-retries", type=click.IntRange(0, 100), help="per row, 429s excluded [5]"
        ),
        click.option("--timeout", type=click.FloatRange(min=0.1), help="seconds per request [30]"),
        click.option(
            "--limit", type=click.IntRange(min=1), help="canary: stop after N rows (exit 4)"
        ),
        click.option("--max-errors", type=click.IntRange(min=1), help="abort after N failed rows"),
        click.option("--max-duration", type=click.FloatRange(min=0), help="stop after S seconds"),
        click.option("--dry-run", is_flag=True, default=None, help="show what would be sent"),
        click.option(
            "--skip-invalid", is_flag=True, default=None, help="record invalid rows, run the rest"
        ),
        click.option(
            "--restart",
            is_flag=True,
            default=False,
            help="start over (earlier results move to previous/)",
        ),
        click.option("--log-format", type=click.Choice(["auto", "json", "console"])),
        click.option("--progress/--no-progress", default=None, help="live progress bar"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("run")
@click.argument("job", type=click.Path(path_type=Path))
@run_options
def run_command(job: Path, **flags: Any) -> int:
    """Run JOB: a job spec (jobs/*.toml) or an operations file (.csv/.jsonl[.gz])."""

    def body() -> int:
        settings = build_settings(load_job(job), flags)
        if settings.dry_run:
            logs.configure(log_format=settings.log_format)
            for line in plan_lines(read_operations(settings.operations)):
                click.echo(line)
            click.echo("dry run: nothing was sent")
            return ExitCode.OK
        read_operations(settings.operations)  # an unreadable file or header: say so first
        api_key = read_api_key(settings.api_key_env)
        logs.configure(log_format=settings.log_format, secrets=[api_key])
        report = anyio.run(
            lambda: run_job(settings, api_key, reporter=lambda: make_reporter(settings.progress)),
            backend="asyncio",
        )
        click.echo(render_summary(report))
        return report.exit_code

    return guarded(body)


@cli.command("demo")
@click.option("--job", type=click.Path(path_type=Path), help="job spec [jobs/demo.toml]")
@click.option("--progress/--no-progress", default=None, help="live progress bar")
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), default="auto")
def demo_command(job: Path | None, progress: bool | None, log_format: str) -> int:
    """Start the simulator in-process and run the demo job against it."""

    def body() -> int:
        spec_path = find_demo_spec(job)
        logs.configure(log_format=log_format, secrets=[DEMO_API_KEY])
        click.echo(f"scf-batch demo: {spec_path} against the simulator on a free loopback port")
        click.echo(f"  simulator: {describe_simulator(spec_path)}")
        report = anyio.run(lambda: run_demo(spec_path, progress=progress), backend="asyncio")
        click.echo(render_summary(report))
        click.echo(f"  run folder {report.folder.resolve()}")
        return report.exit_code

    return guarded(body)


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
