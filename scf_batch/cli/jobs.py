"""`run`, `plan` and `validate`: the commands that read a job. Each imports the pipeline only
when it runs; `validate` offline imports no HTTP client."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scf_batch.cli.common import guarded, report_summary, settings_for
from scf_batch.cli.saved import is_plan, run_saved, save_plan, show_saved
from scf_batch.exitcodes import ExitCode
from scf_batch.options import click_options, click_options_for

if TYPE_CHECKING:
    from scf_batch.close.credentials import Credentials
    from scf_batch.job.opsfile import OperationsFile
    from scf_batch.options import RunSettings
    from scf_batch.plan.prepare import Prepared, Report
    from scf_batch.plan.snapshot import Snapshot
    from scf_batch.report.summary import RunReport
    from scf_batch.run.monitoring import Watch

FORMAT_HELP = "what to print on stdout: text for a person, json for a program [default: text]"


@click.command("run")
@click.argument("job", type=click.Path(path_type=Path))
@click_options
def run_command(job: Path, **flags: Any) -> int:
    """Run JOB: a job spec (jobs/*.toml), an operations file (.csv/.jsonl[.gz]) or a saved plan.

    Continues the pass an earlier run left unfinished; after a finished pass, starts a new one
    against a fresh snapshot of the org, which sends no write unless the org drifted.
    """
    from scf_batch.run.monitoring import Watch  # noqa: PLC0415

    watch = Watch()

    def body() -> int:
        if is_plan(job):
            return run_saved(job, flags, watch, _run)
        settings = settings_for(job, flags)
        if settings.dry_run:
            return _dry_run(settings)
        watch.begin(settings)
        try:
            return _run(settings, watch)
        except BaseException as exc:  # interrupted too: the metrics say how, then it goes on
            watch.failed(exc)
            raise

    return watch.exit_status(guarded(body))


def _dry_run(settings: RunSettings) -> int:
    """Print the plan and send nothing (no metrics, no heartbeat: nothing ran)."""
    from scf_batch import logs  # noqa: PLC0415
    from scf_batch.job.opsfile import check_operations  # noqa: PLC0415
    from scf_batch.run.org import credentials_for  # noqa: PLC0415

    operations = check_operations(
        settings.operations,
        encoding=settings.encoding,
        allow_empty=settings.allow_empty,
        definitions=settings.definitions,
    )
    credentials = credentials_for(settings)
    logs.configure(log_format=settings.log_format, secrets=[credentials.secret])
    plan = show_plan(settings, operations, credentials, everything=False, output_format="text")
    click.echo("dry run: nothing was sent")
    return ExitCode.OK if plan.ok else ExitCode.USAGE


def _run(
    settings: RunSettings,
    watch: Watch,
    *,
    precheck: Callable[[Snapshot], None] | None = None,
    after: Callable[[RunReport], None] | None = None,
) -> int:
    """The run, told to the watch, then its summary printed and its summary event; `precheck`
    and `after` (a saved plan's) see the snapshot before any write and the report at the end."""
    import anyio  # noqa: PLC0415 (imported when the command runs)

    from scf_batch import logs  # noqa: PLC0415
    from scf_batch.job.opsfile import check_operations  # noqa: PLC0415
    from scf_batch.report.summary import render_summary  # noqa: PLC0415
    from scf_batch.run.job import run_job  # noqa: PLC0415
    from scf_batch.run.org import credentials_for  # noqa: PLC0415
    from scf_batch.run.progress import make_reporter  # noqa: PLC0415

    operations = check_operations(  # an unreadable file or header, or no row: say so first
        settings.operations,
        encoding=settings.encoding,
        allow_empty=settings.allow_empty,
        definitions=settings.definitions,
    )
    credentials = credentials_for(settings)
    logs.configure(log_format=settings.log_format, secrets=[credentials.secret])
    watch.start(credentials.secret)
    report = anyio.run(
        lambda: run_job(
            settings,
            credentials,
            operations=operations,
            reporter=lambda: make_reporter(settings.progress),
            on_failure=watch.keep,
            precheck=precheck,
        ),
        backend="asyncio",
    )
    watch.ended(report)
    click.echo(render_summary(report))
    report_summary(report)
    if after is not None:
        after(report)
    return int(report.exit_code)


@click.command("plan")
@click.argument("job", type=click.Path(path_type=Path))
@click.option("--all", "everything", is_flag=True, help="list rows with nothing to do too")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=FORMAT_HELP,
)
@click.option("--exit-code", is_flag=True, help="exit 1 when the plan would change something")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="as terraform plan's: exit 0 with nothing to change, 2 with changes, 1 on an error",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="save the plan to this file (JSON) to review, then apply it with `run PLAN.json`",
)
@click_options_for("base_url")
def plan_command(
    job: Path,
    *,
    output: Path | None,
    everything: bool,
    output_format: str,
    exit_code: bool,
    detailed_exitcode: bool,
    base_url: str | None,
) -> int:
    """Show what `run` would change, row by row, from one snapshot of the org (read-only);
    JOB may be a saved plan (shown from the file, nothing sent, no key needed)."""
    changes: list[int] = []

    def body() -> int:
        from scf_batch import logs  # noqa: PLC0415
        from scf_batch.job.opsfile import check_operations  # noqa: PLC0415
        from scf_batch.plan.saved import PlanBuilder  # noqa: PLC0415
        from scf_batch.run.org import credentials_for  # noqa: PLC0415

        if is_plan(job):
            changes.append(show_saved(job, output_format=output_format))
            return ExitCode.ROWS_FAILED if exit_code and changes[-1] else ExitCode.OK
        settings = settings_for(job, {"base_url": base_url})
        operations = check_operations(
            settings.operations,
            encoding=settings.encoding,
            allow_empty=settings.allow_empty,
            definitions=settings.definitions,
        )
        credentials = credentials_for(settings)
        logs.configure(log_format=settings.log_format, secrets=[credentials.secret])
        builder, fingerprint = PlanBuilder(), operations.fingerprint()
        report = show_plan(
            settings,
            operations,
            credentials,
            everything=everything,
            output_format=output_format,
            also=builder.add if output is not None else None,
        )
        if output is not None:
            save_plan(
                output,
                builder,
                report,
                settings,
                job=job,
                operations=operations,
                fingerprint=fingerprint,
            )
        if not report.ok:
            return ExitCode.USAGE
        changes.append(report.changes)
        return ExitCode.ROWS_FAILED if exit_code and report.changes else ExitCode.OK

    code = guarded(body)
    return detailed(code, changes=sum(changes)) if detailed_exitcode else code


def detailed(code: int, *, changes: int) -> int:
    """Terraform's detailed exit code: 0 nothing to change, 2 changes, 1 any error (a signal
    or a closed pipe keep their own codes)."""
    if code in (ExitCode.INTERRUPTED, ExitCode.BROKEN_PIPE):
        return code
    if code != ExitCode.OK:
        return 1
    return 2 if changes else 0


def show_plan(
    settings: RunSettings,
    operations: OperationsFile,
    credentials: Credentials,
    *,
    everything: bool,
    output_format: str,
    also: Callable[[Prepared, Snapshot], None] | None = None,
) -> Report:
    """Print the plan as it is made, then its counts; `also` sees each row too (to save it)."""
    import anyio  # noqa: PLC0415

    from scf_batch.plan.view import (  # noqa: PLC0415
        counts_record,
        plan_json_line,
        plan_line,
        plan_summary,
    )
    from scf_batch.run.plan import plan_job  # noqa: PLC0415

    def each(prepared: Prepared, snapshot: Snapshot) -> None:
        if also is not None:
            also(prepared, snapshot)
        if output_format == "json":
            click.echo(plan_json_line(prepared, snapshot))
            return
        line = plan_line(prepared, snapshot, everything=everything)
        if line is not None:
            click.echo(line)

    report = anyio.run(
        lambda: plan_job(settings, credentials, operations=operations, each=each),
        backend="asyncio",
    )
    if output_format == "json":
        click.echo(json.dumps({"summary": counts_record(report)}))
    else:
        click.echo(plan_summary(report))
    return report


@click.command("validate")
@click.argument("job", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help=FORMAT_HELP,
)
@click.option(
    "--online", is_flag=True, help="also check every id and name against the org [default: off]"
)
@click_options_for("base_url", "encoding", "allow_empty")
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

    def body() -> int:
        from scf_batch.plan.reportview import render_json, render_text  # noqa: PLC0415
        from scf_batch.run.validation import validate_job  # noqa: PLC0415

        report = validate_job(
            job,
            online=online,
            base_url=base_url,
            environ=os.environ,
            encoding=encoding,
            allow_empty=allow_empty,
        )
        click.echo(render_json(report) if output_format == "json" else render_text(report))
        return ExitCode.OK if report.ok else ExitCode.USAGE

    def show_json(message: str) -> None:
        click.echo(json.dumps({"path": str(job), "ok": False, "error": message}, indent=2))

    return guarded(body, show=show_json if output_format == "json" else None)
