"""A saved plan made, checked and applied: `plan JOB -o PLAN.json` and `run PLAN.json`.

Before any write, `run PLAN.json` refuses a plan (PlanStale, exit 2) whose job file changed since
(its fingerprint), whose org is not the key's, or of which a pair or field moved: the run's
snapshot is planned again and every pair and field the plan touches must be as it was planned
from, and then every step planned now must be the plan's own. A plan whose pass finished with
every row done is recorded in its run folder, so running it again sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scf_batch.errors import PlanStale
from scf_batch.exitcodes import ExitCode
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.planfile import PlannedJob, SavedPlan, plan_id
from scf_batch.options import DEFAULT_BASE_URL, RunSettings
from scf_batch.plan.prepare import Report, survey
from scf_batch.plan.saved import PlanBuilder, stale, step_differences
from scf_batch.plan.snapshot import Snapshot
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.applied import PlanApplied, read_applied, write_applied
from scf_batch.runfolder.records import utc_now


def saved_plan(
    builder: PlanBuilder,
    report: Report,
    settings: RunSettings,
    *,
    spec: Path | None,
    fingerprint: str,
) -> SavedPlan:
    """The plan `plan -o` saves: the builder's steps and states, the job as given."""
    definitions = None if settings.definitions is None else str(settings.definitions)
    job = PlannedJob(
        None if spec is None else str(spec), str(settings.operations), fingerprint, definitions
    )
    base_url = settings.base_url if settings.base_url != DEFAULT_BASE_URL else None
    return builder.build(report, job=job, base_url=base_url, created_at=utc_now())


def check_job(saved: SavedPlan, operations: OperationsFile) -> None:
    """Refuse the plan when its job's files are not the ones it was made of."""
    found = operations.fingerprint()
    if found != saved.job.fingerprint:
        files = "file" if operations.definitions is None else "or definitions file"
        raise PlanStale(
            f"{operations.shown}: the operations {files} changed since the plan was made "
            f"(fingerprint {found[:12]}…, the plan's {saved.job.fingerprint[:12]}…); "
            "make the plan again and review it",
            [],
        )


def precheck_for(saved: SavedPlan, operations: OperationsFile) -> Callable[[Snapshot], None]:
    """The check `run_job` makes of the org's snapshot before any write (see the docstring)."""

    def precheck(snapshot: Snapshot) -> None:
        org = snapshot.org
        if org is None or org.id != saved.org.id:
            raise PlanStale(
                f'the plan was made for the org "{saved.org.name}" ({saved.org.id}); '
                f"the key is of {org if org is not None else 'an org `me/` does not name'}",
                [],
            )
        fresh = replan(operations, snapshot, saved)
        moved = stale(saved, fresh)
        if moved:
            raise PlanStale(
                f"the plan is stale: {len(moved)} pair(s) or field(s) it touches changed "
                "since it was made; make the plan again and review it",
                moved,
            )
        differing = step_differences(saved, fresh)
        if differing:  # cannot happen when the states hold: a refusal, never a write
            raise PlanStale("the steps planned now are not the plan's", differing)

    return precheck


def replan(operations: OperationsFile, snapshot: Snapshot, saved: SavedPlan) -> SavedPlan:
    """The plan of the same job against `snapshot`, in the saved plan's terms."""
    builder = PlanBuilder()
    report = survey(
        operations.items(),
        snapshot,
        where=operations.where,
        defines_where=operations.defines_where,
        each=lambda prepared: builder.add(prepared, snapshot),
    )
    return builder.build(report, job=saved.job, base_url=saved.base_url, created_at="")


def applied_before(folder: Path, saved: SavedPlan) -> PlanApplied | None:
    """The record of this very plan applied in `folder`, or None."""
    record = read_applied(folder)
    return record if record is not None and record.plan_id == plan_id(saved) else None


def record_applied(folder: Path, saved: SavedPlan, plan: Path, report: RunReport) -> bool:
    """Record the plan as applied when its pass finished (every row done, ok or failed: its
    failed rows are for `retry` or a new plan, not for this plan again); True if so."""
    if report.tally.done < report.total_rows:
        return False
    record = PlanApplied(
        plan_id(saved),
        str(plan),
        utc_now(),
        str(folder),
        report.pass_number,
        int(report.exit_code),
    )
    write_applied(folder, record)
    return True


def describe_applied(plan: Path, done: PlanApplied) -> str:
    """`plan X: applied already at … in the run folder … (pass N, …); nothing to do …`."""
    try:
        ended = f"{ExitCode(done.exit_code).meaning}, exit {done.exit_code}"
    except ValueError:
        ended = f"exit {done.exit_code}"
    return (
        f"plan {plan}: applied already at {done.applied_at} in the run folder {done.folder} "
        f"(pass {done.pass_number}: {ended}); nothing to do, nothing was sent"
    )
