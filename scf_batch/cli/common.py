"""What every command shares: its errors turned into messages and exit codes (one path), and a
job's settings from its spec and flags."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scf_batch.cli.output import log_summary, logs_are_json, pipe_closed
from scf_batch.errors import DeletesRefused, JobHeaderError, JobInvalid, ScfBatchError, UsageError
from scf_batch.exitcodes import ExitCode, exit_code_for

if TYPE_CHECKING:
    from scf_batch.options import RunSettings
    from scf_batch.report.summary import RunReport

# what `retry`, `report` and `undo` take: which pass, and where its input went
PASS_OPTION = click.option(
    "--pass", "number", type=click.IntRange(1), help="a pass of the history [default: the last]"
)
INPUT_OPTION = click.option(
    "--input",
    "given",
    type=click.Path(path_type=Path, dir_okay=False),
    help="the pass's operations file, when it moved [default: as the checkpoint records]",
)

SHOWN_FAILED_ROWS = 50  # the summary event names at most this many failed rows


def guarded(body: Callable[[], int], *, show: Callable[[str], None] | None = None) -> int:
    """Run a command body; turn the project's own errors into messages and exit codes.

    `show` prints the message instead of stderr's `scf-batch: …` line (validate's JSON).
    """
    try:
        return body()
    except BrokenPipeError:  # before click's own handler, which exits 1
        return pipe_closed()
    except (ScfBatchError, OSError) as exc:  # OSError: e.g. the disk filled up mid-run
        explained = explain(exc)
        if explained is not None:
            return explained
        message = f"{exc}{_hint(exc)}"
        code = exit_code_for(exc)
        if show is not None:
            show(message)
        elif logs_are_json():  # off a terminal, the last line is the summary event too
            log_summary(code, error=message)
        else:
            click.echo(f"scf-batch: {message}", err=True)
        return code


def explain(exc: BaseException) -> int | None:
    """The long form of a refusal to run (its rows listed), or None for a one-line error."""
    if isinstance(exc, JobHeaderError):  # each column at fault, as `validate` lists them
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"scf-batch: {exc}; nothing was sent", err=True)
        return exc.exit_code
    if isinstance(exc, JobInvalid):
        from scf_batch.plan.reportview import render_text  # noqa: PLC0415

        click.echo(render_text(exc.report), err=True)
        click.echo(
            "scf-batch: fix them, or rerun with --skip-invalid to record the invalid rows "
            "and run the rest",
            err=True,
        )
        return ExitCode.USAGE
    if isinstance(exc, DeletesRefused):
        from scf_batch.plan.view import plan_line  # noqa: PLC0415

        for prepared in exc.report.deletes:  # a prune row has no line: its key says which
            where = f"line {prepared.line}" if prepared.line else prepared.key
            click.echo(f"  {where}: {plan_line(prepared, exc.snapshot)}", err=True)
        if exc.report.delete_count > len(exc.report.deletes):
            click.echo(
                f"  … and {exc.report.delete_count - len(exc.report.deletes)} more", err=True
            )
        click.echo(
            f"scf-batch: refused: {exc}; disassociating deletes every value stored in that "
            "field on that object type, deleting a field every value stored in it, for good. "
            "Review them (scf-batch plan JOB), then rerun "
            "with --allow-delete (or allow_delete = true in the job spec); nothing was sent",
            err=True,
        )
        return ExitCode.USAGE
    return None


def _hint(exc: BaseException) -> str:
    """What to add to an error's message: what became of the run folder."""
    code = exit_code_for(exc)
    if code is ExitCode.LOCKED:
        return "; nothing was changed"
    if isinstance(exc, OSError):
        return "; the run folder's checkpoint is kept, rerun to continue"
    return ""


def settings_for(job: Path, flags: dict[str, Any]) -> RunSettings:
    """The job spec's values with the flags laid over them ($CLOSE_BASE_URL under both).

    A spec is data someone else may have written: its `base_url` may point at Close or at this
    machine only; any other host must be typed on the command line (--base-url).
    """
    from scf_batch.close.credentials import is_close_or_loopback  # noqa: PLC0415
    from scf_batch.job.spec import load_job  # noqa: PLC0415
    from scf_batch.options import build_settings  # noqa: PLC0415

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
        environ=os.environ,
        definitions=spec.definitions,
    )


def report_summary(report: RunReport) -> None:
    """A run's summary event, off a terminal: counts, failed rows, drift repaired, why it
    stopped; on a terminal the text summary printed beside it is enough."""
    if not logs_are_json():
        return
    from scf_batch.report.written import drift_repaired, rows_written  # noqa: PLC0415

    tally = report.tally
    failed = [
        {"row": r.row, "line": r.line, "key": r.key, "outcome": str(r.outcome)}
        for r in report.failed_rows[:SHOWN_FAILED_ROWS]
    ]
    log_summary(
        report.exit_code,
        job=report.job,
        org_id=report.org.id if report.org is not None else None,
        org_name=report.org.name if report.org is not None else None,
        pass_number=report.pass_number,
        rows_total=report.total_rows,
        rows_done=tally.done,
        by_status=dict(sorted(tally.by_status.items())),
        by_outcome=dict(sorted(tally.by_outcome.items())),
        rows_written=rows_written(tally),
        drift_repaired=drift_repaired(tally, report.pass_number),
        failed_rows=failed,
        failed_rows_total=len(report.failed_rows),
        stop_reason=report.reason,
        elapsed_s=round(report.elapsed_s, 3),
        requests=report.requests,
        rate_limited=report.rate_limited,
        run_folder=str(report.folder),
    )
