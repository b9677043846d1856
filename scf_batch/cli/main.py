"""The command line: parse, build, run, return an exit code. Thin on purpose."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import anyio
import click

from scf_batch import __version__, logs
from scf_batch.cli.show import show_command
from scf_batch.close.credentials import Credentials, is_close_or_loopback
from scf_batch.errors import (
    AuthError,
    CloseError,
    CredentialsRefused,
    LockHeldError,
    ScfBatchError,
    UsageError,
)
from scf_batch.exitcodes import ExitCode
from scf_batch.job.opsfile import ENCODINGS, check_operations
from scf_batch.job.spec import load_job
from scf_batch.models import Outcome
from scf_batch.options import RunSettings, build_settings, click_options
from scf_batch.plan.prepare import Prepared, Report
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.view import counts_record, plan_json_line, plan_line, plan_summary
from scf_batch.report.html import write_html
from scf_batch.report.passreport import load_report
from scf_batch.report.resultscsv import verdicts, write_results_csv
from scf_batch.report.retryfile import NOT_OK, Selection, select_rows, write_retry
from scf_batch.report.summary import render_summary
from scf_batch.run.demo import DEMO_API_KEY, describe_simulator, find_demo_spec, run_demo
from scf_batch.run.export import export_command
from scf_batch.run.job import (
    DeletesRefused,
    JobInvalid,
    credentials_for,
    exit_code_for,
    plan_job,
    run_job,
)
from scf_batch.run.progress import make_reporter
from scf_batch.run.validation import render_json, render_text, validate_job
from scf_batch.runfolder.passfiles import find_pass, input_encoding, input_file, read_results
from scf_batch.sim.command import sim_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scf-batch")
def cli() -> None:
    """Bulk, resumable changes to Close Shared Custom Field associations."""


cli.add_command(sim_command)
cli.add_command(export_command)
cli.add_command(show_command)


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
    except DeletesRefused as exc:
        for prepared in exc.report.deletes:
            click.echo(f"  line {prepared.line}: {plan_line(prepared, exc.snapshot)}", err=True)
        if exc.report.delete_count > len(exc.report.deletes):
            click.echo(
                f"  … and {exc.report.delete_count - len(exc.report.deletes)} more", err=True
            )
        click.echo(
            f"scf-batch: refused: {exc}; disassociating deletes every value stored in that "
            "field on that object type, for good. Review them (scf-batch plan JOB), then rerun "
            "with --allow-delete (or allow_delete = true in the job spec); nothing was sent",
            err=True,
        )
        return ExitCode.USAGE
    except (ScfBatchError, OSError) as exc:  # OSError: e.g. the disk filled up mid-run
        code, hint = exit_for(exc)
        click.echo(f"scf-batch: {exc}{hint}", err=True)
        return code


def exit_for(exc: ScfBatchError | OSError) -> tuple[ExitCode, str]:
    """The exit code of an error (the one its run's summary.json records), and what to add to
    its message."""
    code = exit_code_for(exc)
    if isinstance(exc, LockHeldError):
        return code, "; nothing was changed"
    if isinstance(exc, OSError):
        return code, "; the run folder's checkpoint is kept, rerun to continue"
    return code, ""


def settings_for(job: Path, flags: dict[str, Any]) -> RunSettings:
    """The job spec's values with the flags laid over them.

    A spec is data someone else may have written: its `base_url` may point at Close or at this
    machine only; any other host must be typed on the command line (--base-url).
    """
    spec = load_job(job)
    spec_url = spec.values.get("base_url")
    if (
        spec_url is not None
        and flags.get("base_url") is None
        and not is_close_or_loopback(spec_url)
    ):
        raise UsageError(
            f"{spec.spec_path}: base_url: found {spec_url!r}; expected Close's API or a loopback "
            "address. The credentials would go there: to use that host, give --base-url on the "
            "command line"
        )
    return build_settings(
        name=spec.name,
        operations=spec.operations,
        spec_values=spec.values,
        flags=flags,
        api_key_env=spec.api_key_env,
        token_env=spec.token_env,
    )


@cli.command("run")
@click.argument("job", type=click.Path(path_type=Path))
@click_options
def run_command(job: Path, **flags: Any) -> int:
    """Run JOB: a job spec (jobs/*.toml) or an operations file (.csv/.jsonl[.gz]).

    Continues the pass an earlier run left unfinished; after a finished pass, starts a new one
    against a fresh snapshot of the org, which sends no write unless the org drifted.
    """

    def body() -> int:
        settings = settings_for(job, flags)
        check_operations(  # an unreadable file or header, or no row: say so first
            settings.operations, encoding=settings.encoding, allow_empty=settings.allow_empty
        )
        credentials = credentials_for(settings)
        logs.configure(log_format=settings.log_format, secrets=[credentials.secret])
        if settings.dry_run:
            plan = show_plan(settings, credentials, everything=False, output_format="text")
            click.echo("dry run: nothing was sent")
            return ExitCode.OK if plan.ok else ExitCode.USAGE
        report = anyio.run(
            lambda: run_job(
                settings, credentials, reporter=lambda: make_reporter(settings.progress)
            ),
            backend="asyncio",
        )
        click.echo(render_summary(report))
        return int(report.exit_code)

    return guarded(body)


@cli.command("plan")
@click.argument("job", type=click.Path(path_type=Path))
@click.option("--all", "everything", is_flag=True, help="list rows with nothing to do too")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--exit-code", is_flag=True, help="exit 1 when the plan would change something")
@click.option("--base-url", default=None, help="Close API base URL (default: spec, then Close)")
def plan_command(
    job: Path, everything: bool, output_format: str, exit_code: bool, base_url: str | None
) -> int:
    """Show what `run` would change, row by row, from one snapshot of the org (read-only)."""

    def body() -> int:
        settings = settings_for(job, {"base_url": base_url})
        check_operations(
            settings.operations, encoding=settings.encoding, allow_empty=settings.allow_empty
        )
        credentials = credentials_for(settings)
        logs.configure(log_format=settings.log_format, secrets=[credentials.secret])
        report = show_plan(
            settings, credentials, everything=everything, output_format=output_format
        )
        if not report.ok:
            return ExitCode.USAGE
        return ExitCode.ROWS_FAILED if exit_code and report.changes else ExitCode.OK

    return guarded(body)


def show_plan(
    settings: RunSettings, credentials: Credentials, *, everything: bool, output_format: str
) -> Report:
    """Print the plan as it is made, then its counts."""

    def each(prepared: Prepared, snapshot: Snapshot) -> None:
        if output_format == "json":
            click.echo(plan_json_line(prepared, snapshot))
            return
        line = plan_line(prepared, snapshot, everything=everything)
        if line is not None:
            click.echo(line)

    report = anyio.run(lambda: plan_job(settings, credentials, each=each), backend="asyncio")
    if output_format == "json":
        click.echo(json.dumps({"summary": counts_record(report)}))
    else:
        click.echo(plan_summary(report))
    return report


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
@click.option("--encoding", type=click.Choice(ENCODINGS), default=None, help="[utf-8]")
@click.option("--allow-empty", is_flag=True, default=None, help="a file without a row is fine")
def validate_command(
    job: Path,
    *,
    output_format: str,
    online: bool,
    base_url: str | None,
    encoding: str | None,
    allow_empty: bool | None,
) -> int:
    """Check a job (spec or operations file) without changing anything; exit 2 on problems."""
    try:
        report = validate_job(
            job,
            online=online,
            base_url=base_url,
            environ=os.environ,
            encoding=encoding,
            allow_empty=allow_empty,
        )
    except (UsageError, CloseError, CredentialsRefused) as exc:
        code = 3 if isinstance(exc, AuthError | CredentialsRefused) else 2
        if output_format == "json":
            click.echo(json.dumps({"path": str(job), "ok": False, "error": str(exc)}, indent=2))
        else:
            click.echo(f"scf-batch validate: {exc}", err=True)
        return code
    click.echo(render_json(report) if output_format == "json" else render_text(report))
    return 0 if report.ok else 2


# what `retry` and `report` both take: which pass, and where its input went
PASS_OPTION = click.option(
    "--pass", "number", type=click.IntRange(1), help="a pass of the history [the last]"
)
INPUT_OPTION = click.option(
    "--input",
    "given",
    type=click.Path(path_type=Path, dir_okay=False),
    help="the pass's operations file, when it moved [as the checkpoint records]",
)


@cli.command("retry")
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="the operations file to write (.csv/.jsonl[.gz])",
)
@PASS_OPTION
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(NOT_OK),
    help="rows of this status (repeatable) [failed]",
)
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    type=click.Choice([o.value for o in Outcome]),
    help="rows of this outcome (repeatable)",
)
@INPUT_OPTION
def retry_command(
    run: Path,
    *,
    out: Path,
    number: int | None,
    statuses: tuple[str, ...],
    outcomes: tuple[str, ...],
    given: Path | None,
) -> int:
    """Write the rows of a pass in RUN (a run folder) that did not end ok, ready to `run`."""

    def body() -> int:
        files = find_pass(run, number)
        source = input_file(files, given)
        if out.exists() and out.resolve() == source.resolve():
            raise UsageError(f"-o {out}: found the pass's own input; expected another file")
        rows = select_rows(read_results(files.results), Selection.of(statuses, outcomes))
        written = write_retry(source, rows, out, encoding=input_encoding(files))
        click.echo(f"scf-batch retry: {written.rows} row(s) of pass {files.number} -> {out}")
        for line in written.unreadable:
            click.echo(f"  {source}:{line}: not written: the row cannot be read", err=True)
        if not files.complete:
            click.echo(f"  pass {files.number} is unfinished: rows it has not run are not in it")
        return ExitCode.OK

    return guarded(body)


@cli.command("report")
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@PASS_OPTION
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="also write the results as CSV: the input's columns, status, outcome, error",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="also write a self-contained page with charts (viewable with no network)",
)
@INPUT_OPTION
def report_command(
    run: Path,
    number: int | None,
    csv_out: Path | None,
    html_out: Path | None,
    given: Path | None,
) -> int:
    """Show the summary of a pass in RUN (a run folder): the last one, or --pass N."""

    def body() -> int:
        files = find_pass(run, number)
        click.echo(render_summary(load_report(files)))
        if csv_out is not None:
            found = verdicts(read_results(files.results))
            source = input_file(files, given)
            rows = write_results_csv(source, found, csv_out, encoding=input_encoding(files))
            click.echo(f"  csv       {rows} row(s) -> {csv_out}")
        if html_out is not None:
            write_html(files.folder, html_out)
            click.echo(f"  html      {html_out}")
        return ExitCode.OK

    return guarded(body)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting (so tests can call it).

    From its first line, SIGTERM is handled as SIGINT is: outside a run (reading the file, the
    org's snapshot) either one ends the command with a one-line message and exit 130; during a
    run, the runner takes both over and stops at a checkpoint. Called as the program (`argv`
    None), both are ignored once the exit code is known, so a late signal cannot change it.
    """
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, _sigterm_as_sigint(received))
    try:
        return _dispatch(argv, received)
    finally:
        if argv is None:  # the process exits next
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(argv: Sequence[str] | None, received: list[int]) -> int:
    """The command's exit code, whatever way it ends."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="scf-batch",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if not isinstance(exc.__cause__, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            return ExitCode.INTERRUPTED
        return _interrupted(received)
    except KeyboardInterrupt:
        return _interrupted(received)
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def _sigterm_as_sigint(received: list[int]) -> Callable[[int, FrameType | None], None]:
    """A SIGTERM handler that does what SIGINT's handler of the moment does: raise
    KeyboardInterrupt, or (inside anyio.run) cancel the main task, which then raises it."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # SIGINT ignored or left to the system: stop all the same
            raise KeyboardInterrupt
        handler(signal.SIGINT, frame)

    return on_sigterm


def _interrupted(received: list[int]) -> int:
    """The message and exit code of a command stopped by SIGINT or SIGTERM outside a run."""
    name = "SIGTERM" if received else "SIGINT"
    click.echo(
        f"scf-batch: interrupted by {name}; no write was in flight "
        "(a run folder keeps its checkpoint: rerun the same command to continue)",
        err=True,
    )
    return ExitCode.INTERRUPTED
