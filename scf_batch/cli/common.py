"""What every command shares: its errors turned into messages and exit codes (one path), and a
job's settings from its spec and flags."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scf_batch.errors import ScfBatchError, UsageError
from scf_batch.exitcodes import ExitCode, exit_code_for

if TYPE_CHECKING:
    from scf_batch.options import RunSettings


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
        if show is not None:
            show(message)
        else:
            click.echo(f"scf-batch: {message}", err=True)
        return exit_code_for(exc)


def explain(exc: BaseException) -> int | None:
    """The long form of a refusal to run (its rows listed), or None for a one-line error."""
    if "scf_batch.run.job" not in sys.modules:  # only run and plan raise these; they loaded it
        return None
    from scf_batch.run.job import DeletesRefused, JobInvalid  # noqa: PLC0415

    if isinstance(exc, JobInvalid):
        from scf_batch.run.validation import render_text  # noqa: PLC0415

        click.echo(render_text(exc.report), err=True)
        click.echo(
            "scf-batch: fix them, or rerun with --skip-invalid to record the invalid rows "
            "and run the rest",
            err=True,
        )
        return ExitCode.USAGE
    if isinstance(exc, DeletesRefused):
        from scf_batch.plan.view import plan_line  # noqa: PLC0415

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
    )


def pipe_closed() -> int:
    """The reader of stdout went away (`| head`): end quietly with 141, as shell tools do.

    stdout is pointed at /dev/null so the interpreter's last flush does not complain.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return ExitCode.BROKEN_PIPE
