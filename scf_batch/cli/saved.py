"""Saved plans on the command line: `plan JOB -o PLAN.json` saves one, `plan PLAN.json` shows it,
`run PLAN.json` applies it. Each imports the pipeline only when it runs.

`run PLAN.json` runs in `runs/<plan stem>/` unless --out says otherwise: a reviewed change has a
run folder of its own (its passes, and the record that it was applied), apart from the job's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode

if TYPE_CHECKING:
    from scf_batch.job.opsfile import OperationsFile
    from scf_batch.job.planfile import SavedPlan
    from scf_batch.options import RunSettings
    from scf_batch.plan.prepare import Report
    from scf_batch.plan.saved import PlanBuilder
    from scf_batch.plan.snapshot import Snapshot
    from scf_batch.report.summary import RunReport
    from scf_batch.run.monitoring import Watch


class Runner(Protocol):
    """cli.jobs' run of a job, with the hooks a saved plan adds."""

    def __call__(
        self,
        settings: RunSettings,
        watch: Watch,
        *,
        precheck: Callable[[Snapshot], None] | None = None,
        after: Callable[[RunReport], None] | None = None,
    ) -> int: ...


def is_plan(path: Path) -> bool:
    """JOB is a saved plan (told by its content, job/planfile.py)."""
    from scf_batch.job.planfile import is_plan_file  # noqa: PLC0415

    return is_plan_file(path)


def show_saved(path: Path, *, output_format: str) -> int:
    """`plan PLAN.json`: the lines `plan` printed, from the file; nothing sent, no key needed.
    Returns how many rows the plan writes for."""
    from scf_batch.job.planfile import read_plan  # noqa: PLC0415
    from scf_batch.plan.saved import shown_lines, shown_summary  # noqa: PLC0415

    saved = read_plan(path)
    if output_format == "json":
        for step in saved.steps:
            click.echo(json.dumps(step.to_json(), sort_keys=True))
        click.echo(json.dumps({"summary": dict(saved.counts)}, sort_keys=True))
        return int(saved.counts.get("changes", 0))
    click.echo(f"saved plan {path}, made {saved.created_at} of {saved.job.operations}")
    for line in shown_lines(saved):
        click.echo(line)
    click.echo(shown_summary(saved))
    return int(saved.counts.get("changes", 0))


def save_plan(
    output: Path,
    builder: PlanBuilder,
    report: Report,
    settings: RunSettings,
    *,
    job: Path,
    operations: OperationsFile,
    fingerprint: str,
) -> None:
    """`plan JOB -o PLAN.json`: write the plan made (only a plan without invalid rows)."""
    from scf_batch.job.planfile import JOB_SUFFIXES, write_plan  # noqa: PLC0415
    from scf_batch.run.apply import saved_plan  # noqa: PLC0415

    if output.name.lower().endswith(JOB_SUFFIXES):  # `run` would take it for a job
        raise UsageError(
            f"{output}: found a job's suffix; expected a name for the plan such as PLAN.json"
        )
    if not report.ok:
        click.echo(f"plan: not saved to {output}: the job has invalid rows", err=True)
        return
    spec = job if job != operations.path else None
    write_plan(output, saved_plan(builder, report, settings, spec=spec, fingerprint=fingerprint))
    click.echo(f"plan saved to {output}: review it, then `scf-batch run {output}`", err=True)


def run_saved(path: Path, flags: dict[str, Any], watch: Watch, run: Runner) -> int:
    """`run PLAN.json`: the plan's job, in the plan's run folder, refused if the plan is stale."""
    from scf_batch.cli.common import settings_for  # noqa: PLC0415
    from scf_batch.job.opsfile import OperationsFile  # noqa: PLC0415
    from scf_batch.job.planfile import read_plan  # noqa: PLC0415
    from scf_batch.run.apply import (  # noqa: PLC0415
        applied_before,
        check_job,
        describe_applied,
        precheck_for,
        record_applied,
    )

    saved = read_plan(path)
    job = Path(saved.job.spec or saved.job.operations)
    settings = settings_for(job, _plan_flags(saved, path, flags))
    operations = OperationsFile(settings.operations, settings.encoding, settings.definitions)
    check_job(saved, operations)
    if settings.dry_run:
        show_saved(path, output_format="text")
        click.echo("dry run: nothing was sent")
        return ExitCode.OK
    done = applied_before(settings.out, saved)
    if done is not None:
        click.echo(describe_applied(path, done))
        return ExitCode.OK

    def after(report: RunReport) -> None:
        if record_applied(settings.out, saved, path, report):
            click.echo(f"plan {path}: applied")

    watch.begin(settings)
    try:
        return run(settings, watch, precheck=precheck_for(saved, operations), after=after)
    except BaseException as exc:  # interrupted too: the metrics say how, then it goes on
        watch.failed(exc)
        raise


def _plan_flags(saved: SavedPlan, path: Path, flags: dict[str, Any]) -> dict[str, Any]:
    """The run's flags: the plan's run folder and base URL unless given on the command line.

    A plan is data someone else may have written: like a spec's, its base URL may point at
    Close or at this machine only; any other host must be typed (--base-url)."""
    from scf_batch.close.credentials import is_close_or_loopback  # noqa: PLC0415

    chosen = dict(flags)
    if chosen.get("out") is None:
        chosen["out"] = str(Path("runs") / path.stem)
    if chosen.get("base_url") is None and saved.base_url is not None:
        if not is_close_or_loopback(saved.base_url):
            raise UsageError(
                f"{path}: base_url: found {saved.base_url!r}; expected Close's API or a "
                "loopback address. To use that host, give --base-url on the command line"
            )
        chosen["base_url"] = saved.base_url
    return chosen
