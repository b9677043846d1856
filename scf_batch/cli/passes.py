"""`report` and `retry`: the commands that read a run folder after a run."""

from __future__ import annotations

from pathlib import Path

import click

from scf_batch.cli.common import INPUT_OPTION, PASS_OPTION, guarded
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome
from scf_batch.report.retryfile import NOT_OK


@click.command("retry")
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="the operations file to write (.csv/.jsonl[.gz]) [required]",
)
@PASS_OPTION
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(NOT_OK),
    help="rows of this status (repeatable) [default: failed]",
)
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    type=click.Choice([o.value for o in Outcome]),
    help="rows of this outcome (repeatable) [default: any]",
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
        from scf_batch.report.retryfile import Selection, select_rows, write_retry  # noqa: PLC0415
        from scf_batch.runfolder.passfiles import find_pass, input_job  # noqa: PLC0415

        files = find_pass(run, number)
        source = input_job(files, given)
        if out.exists() and any(out.resolve() == own.resolve() for own in source.files):
            raise UsageError(f"-o {out}: found the pass's own input; expected another file")
        rows = select_rows(files.results(), Selection.of(statuses, outcomes))
        written = write_retry(source, rows, out)
        click.echo(f"scf-batch retry: {written.rows} row(s) of pass {files.number} -> {out}")
        for where in written.unreadable:
            click.echo(f"  {where}: not written: the row cannot be read", err=True)
        if not files.complete:
            click.echo(f"  pass {files.number} is unfinished: rows it has not run are not in it")
        return ExitCode.OK

    return guarded(body)


@click.command("report")
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@PASS_OPTION
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="also write the results as CSV: the input's columns, status, outcome, error "
    "[default: none]",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="also write a self-contained page with charts, viewable with no network [default: none]",
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
        from scf_batch.report.passreport import load_report  # noqa: PLC0415
        from scf_batch.report.summary import render_summary  # noqa: PLC0415
        from scf_batch.runfolder.passfiles import find_pass  # noqa: PLC0415

        files = find_pass(run, number)
        report = load_report(files)
        click.echo(render_summary(report))
        if csv_out is not None:
            from scf_batch.report.resultscsv import verdicts, write_results_csv  # noqa: PLC0415
            from scf_batch.runfolder.passfiles import input_job  # noqa: PLC0415

            found = verdicts(files.results())
            rows = write_results_csv(input_job(files, given), found, csv_out)
            click.echo(f"  csv       {rows} row(s) -> {csv_out}")
        if html_out is not None:
            from scf_batch.report.html import write_html  # noqa: PLC0415 (plotly: only here)

            write_html(files.results(), report, html_out)
            click.echo(f"  html      {html_out}")
        return ExitCode.OK

    return guarded(body)
