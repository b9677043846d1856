"""`scf-batch fleet ...`: the commands over a fleet manifest (one manifest, many orgs)."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scf_batch.cli.common import guarded
from scf_batch.cli.output import log_summary, logs_are_json
from scf_batch.exitcodes import ExitCode

if TYPE_CHECKING:
    from scf_batch.fleet.manifest import FleetOrg, Manifest
    from scf_batch.fleet.verdicts import OrgVerdict
    from scf_batch.fleet.watch import FleetWatch

Finished = Callable[["OrgVerdict"], None]

MANIFEST = click.argument("manifest", type=click.Path(path_type=Path, dir_okay=False))
ORGS = click.option("--org", "names", multiple=True, help="only this org (repeatable)")
SHARD = click.option(
    "--shard",
    default=None,
    help="I/N: only the orgs at manifest positions I mod N (0-based), for N machines or pods",
)
OUT = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="the folder of the orgs' run folders and the summary  [default: the manifest's out]",
)
WORKERS = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="processes that share the orgs  [default: the manifest's workers, else one per core]",
)
WORKER = click.option("--worker", default=None, hidden=True, help="k/W: run as worker k of W")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: a table, one line per org; json: one document  [default: text]",
)


@click.group("fleet")
def fleet_command() -> None:
    """The same by-name job(s) over many orgs, each org its own run folder."""


@dataclass(frozen=True, slots=True)
class Ending:
    """A fleet command's subject: the manifest, the orgs chosen, the shard (if one)."""

    fleet: Manifest
    orgs: list[FleetOrg]
    shard: tuple[int, int] | None

    def workers(self, requested: int | None) -> int:
        """How many processes share the orgs (`--workers`, else the manifest's)."""
        from scf_batch.fleet.workers import usable_cores, worker_count  # noqa: PLC0415

        wanted = requested if requested is not None else self.fleet.workers
        parallel = self.fleet.parallel
        return worker_count(wanted, parallel=parallel, orgs=len(self.orgs), cores=usable_cores())


def _worker_command(command: str, argv: list[str]) -> list[str]:
    """The command a worker process runs: this fleet command with the same arguments."""
    return [sys.executable, "-m", "scf_batch", "fleet", command, *argv]


def _as_worker(command: str, chosen: Ending, worker: str) -> int:
    """Run this worker's share of the orgs, telling each org's verdict on stdout."""
    from scf_batch.fleet.workers import (  # noqa: PLC0415
        die_with_parent,
        parallel_share,
        parse_worker,
        share,
        verdict_line,
    )

    index, count = parse_worker(worker)
    die_with_parent()
    orgs = share(chosen.orgs, index, count)
    fleet = replace(chosen.fleet, parallel=parallel_share(chosen.fleet.parallel, index, count))

    def tell(verdict: OrgVerdict) -> None:
        click.echo(verdict_line(verdict))

    _in_process(command, fleet, orgs, tell)
    return ExitCode.OK


def _verdicts(
    command: str, chosen: Ending, workers: int | None, argv: list[str], finished: Finished
) -> None:
    """Each selected org's verdict to `finished`: in this process, or shared by workers."""
    count = chosen.workers(workers)
    if count == 1:
        _in_process(command, chosen.fleet, chosen.orgs, finished)
        return
    import anyio  # noqa: PLC0415

    from scf_batch.fleet.workers import in_workers  # noqa: PLC0415

    names = [org.name for org in chosen.orgs]
    work = _worker_command(command, argv)
    anyio.run(lambda: in_workers(work, names, count, finished=finished), backend="asyncio")


def _in_process(command: str, fleet: Manifest, orgs: list[FleetOrg], finished: Finished) -> None:
    """Plan or run `orgs` in this process (the fleet engine imported only here)."""
    import anyio  # noqa: PLC0415

    from scf_batch.fleet.engine import plan_fleet, run_fleet  # noqa: PLC0415

    work = run_fleet if command == "run" else plan_fleet
    anyio.run(lambda: work(fleet, orgs, finished=finished), backend="asyncio")


def _selected(
    manifest: Path, names: tuple[str, ...], shard: str | None, out: Path | None = None
) -> Ending:
    """The manifest (its out replaced by --out), its orgs chosen by --org and --shard, and the
    shard."""
    from scf_batch.fleet.manifest import load_manifest, parse_shard  # noqa: PLC0415

    fleet = load_manifest(manifest, out=out)
    part = parse_shard(shard) if shard is not None else None
    return Ending(fleet, fleet.select(names, part), part)


def _secrets(orgs: list[FleetOrg]) -> list[str]:
    """Every selected org's key or token (and the default variables'), to scrub."""
    variables = {"CLOSE_API_KEY", "CLOSE_OAUTH_TOKEN"}
    variables |= {v for org in orgs for v in (org.api_key_env, org.token_env) if v is not None}
    return [os.environ[v] for v in sorted(variables) if os.environ.get(v)]


def _configure_logs(orgs: list[FleetOrg]) -> None:
    """Logs as a run's, with every selected org's secret scrubbed."""
    from scf_batch import logs  # noqa: PLC0415

    logs.configure(log_format="auto", secrets=_secrets(orgs))


@fleet_command.command("validate")
@MANIFEST
@ORGS
@SHARD
def validate_command(manifest: Path, names: tuple[str, ...], shard: str | None) -> int:
    """Check a fleet manifest and list its orgs; nothing is sent."""

    def body() -> int:
        chosen = _selected(manifest, names, shard)
        fleet, orgs = chosen.fleet, chosen.orgs
        for org in orgs:
            variable = org.api_key_env or org.token_env or "CLOSE_API_KEY"
            key = "set" if os.environ.get(variable) else "unset"
            pin = org.organization_id or "no pin"
            click.echo(f"{org.name}\t{org.job.name}\t{variable} ({key})\t{pin}")
        workers = chosen.workers(None)
        click.echo(
            f"{len(orgs)} org(s), out {fleet.out}, parallel {fleet.parallel}, "
            f"{workers} worker process(es)"
        )
        return ExitCode.OK

    return guarded(body)


@fleet_command.command("plan")
@MANIFEST
@ORGS
@SHARD
@FORMAT
@WORKERS
@WORKER
@click.option("--exit-code", is_flag=True, help="exit 1 when any org would change [default: off]")
def plan_command(
    *,
    manifest: Path,
    names: tuple[str, ...],
    shard: str | None,
    output_format: str,
    workers: int | None,
    worker: str | None,
    exit_code: bool,
) -> int:
    """Plan every org against one snapshot of it: a table of what each would change (read-only).

    An org whose key is unset or refused, pinned to another org, or whose job is invalid is a
    row with its reason; the others are planned. Exit 0 (or 1 with --exit-code when any org
    would change); 1 when an org could not be planned.
    """

    def body() -> int:
        from scf_batch.fleet.verdicts import plan_table  # noqa: PLC0415

        chosen = _selected(manifest, names, shard)
        _configure_logs(chosen.orgs)
        if worker is not None:
            return _as_worker("plan", chosen, worker)
        done: dict[str, OrgVerdict] = {}
        argv = _argv(manifest, names, shard)
        _verdicts("plan", chosen, workers, argv, lambda v: done.update({v.name: v}))
        verdicts = [done[org.name] for org in chosen.orgs]
        if output_format == "json":
            click.echo(json.dumps({"orgs": [v.document() for v in verdicts]}, indent=2))
        else:
            click.echo(plan_table(verdicts))
        if any(v.exit_code is not ExitCode.OK for v in verdicts):
            return ExitCode.ROWS_FAILED
        return ExitCode.ROWS_FAILED if exit_code and any(v.changes for v in verdicts) else 0

    return guarded(body)


@fleet_command.command("run")
@MANIFEST
@ORGS
@SHARD
@OUT
@WORKERS
@WORKER
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="write the fleet's metrics (Prometheus text, each org's too) to FILE at the end",
)
@click.option(
    "--ping-url",
    default=None,
    help="heartbeat URL: URL/start, then URL or URL/fail with the fleet's verdict",
)
def run_command(
    *,
    manifest: Path,
    names: tuple[str, ...],
    shard: str | None,
    out: Path | None,
    workers: int | None,
    worker: str | None,
    metrics_file: Path | None,
    ping_url: str | None,
) -> int:
    """Run every org, at most `parallel` at once, each an ordinary run in <out>/<org name>/.

    The orgs are shared by one process per core (--workers). One org's failure never stops
    the others. Rerunning continues unfinished orgs and reconciles finished ones. Exit 0 when
    every org exited 0, 4 when the only others stopped early on purpose, 130 when
    interrupted, else 1; <out>/fleet-summary.json has each org's.
    """

    def body() -> int:
        from scf_batch.errors import UsageError  # noqa: PLC0415
        from scf_batch.fleet.watch import FleetWatch  # noqa: PLC0415

        watch = FleetWatch(manifest.stem, ping_url=ping_url, metrics_file=metrics_file)
        watch.check()
        try:
            chosen = _selected(manifest, names, shard, out)
        except UsageError as exc:
            watch.refused(str(exc).splitlines()[0])
            raise
        watch.secrets = _secrets(chosen.orgs)
        if chosen.shard is not None:  # shards on one volume: a series of their own each
            watch.fleet = f"{manifest.stem}.shard-{chosen.shard[0]}-of-{chosen.shard[1]}"
        _configure_logs(chosen.orgs)
        if worker is not None:
            return _as_worker("run", chosen, worker)
        watch.start(len(chosen.orgs))
        done: dict[str, OrgVerdict] = {}
        argv = _argv(manifest, names, shard, out)
        try:
            _verdicts("run", chosen, workers, argv, lambda v: done.update({v.name: v}))
        except KeyboardInterrupt:
            _end_fleet(chosen, done, interrupted=True, watch=watch)
            raise
        return _end_fleet(chosen, done, interrupted=False, watch=watch)

    return guarded(body)


def _argv(
    manifest: Path, names: tuple[str, ...], shard: str | None, out: Path | None = None
) -> list[str]:
    """The arguments that choose the same manifest, orgs and out folder in a worker."""
    argv = [str(manifest), *(f"--org={name}" for name in names)]
    argv += [] if shard is None else [f"--shard={shard}"]
    return argv + ([] if out is None else [f"--out={out}"])


def _end_fleet(
    where: Ending, done: dict[str, OrgVerdict], *, interrupted: bool, watch: FleetWatch
) -> int:
    """Write the fleet's (or the shard's) summary and print the table, then tell the monitor;
    the fleet's exit code."""
    from scf_batch.fleet.verdicts import (  # noqa: PLC0415
        fleet_exit_code,
        fleet_meaning,
        run_table,
        stopped,
    )
    from scf_batch.runfolder.fleetfile import FleetSummary, write_fleet_summary  # noqa: PLC0415

    verdicts = [
        done.get(org.name)
        or stopped(org.name, ExitCode.INTERRUPTED, "interrupted before it finished")
        for org in where.orgs
    ]
    code = fleet_exit_code(verdicts, interrupted=interrupted)
    summary = FleetSummary(
        manifest=str(where.fleet.path),
        exit_code=int(code),
        meaning=fleet_meaning(code),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        orgs=tuple(v.document() for v in verdicts),
    )
    path = write_fleet_summary(where.fleet.out, summary, where.shard)
    click.echo(run_table(verdicts, code))
    click.echo(f"each org's exit code: {path}")
    watch.ended(code, fleet_meaning(code), verdicts)
    if logs_are_json():
        by_code = Counter(str(int(v.exit_code)) for v in verdicts)
        log_summary(
            code,
            meaning=fleet_meaning(code),
            orgs=len(verdicts),
            orgs_by_exit_code=by_code,
            fleet_summary=str(path),
        )
    return int(code)


@fleet_command.command("report")
@MANIFEST
@OUT
@FORMAT
@click.option(
    "--html",
    "html_out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="also write one page with a row per org, each linking the org's own page (in FILE-orgs/)",
)
def report_command(
    manifest: Path, out: Path | None, output_format: str, html_out: Path | None
) -> int:
    """The table of the fleet's last run, from <out>/fleet-summary.json (read-only)."""

    def body() -> int:
        from scf_batch.fleet.manifest import load_manifest  # noqa: PLC0415
        from scf_batch.fleet.verdicts import (  # noqa: PLC0415
            fleet_exit_code,
            fleet_meaning,
            latest_verdicts,
            run_table,
        )
        from scf_batch.runfolder.fleetfile import read_fleet_summaries  # noqa: PLC0415

        fleet = load_manifest(manifest, out=out)
        summaries = read_fleet_summaries(fleet.out)
        verdicts = latest_verdicts(org for summary in summaries for org in summary.orgs)
        interrupted = any(s.exit_code == ExitCode.INTERRUPTED for s in summaries)
        code = fleet_exit_code(verdicts, interrupted=interrupted)
        if output_format == "json":
            orgs = [v.document() for v in verdicts]
            document = {"exit_code": int(code), "meaning": fleet_meaning(code), "orgs": orgs}
            click.echo(json.dumps(document, indent=2))
        else:
            click.echo(run_table(verdicts, code))
            click.echo(f"last finished at {summaries[-1].finished_at}")
        if html_out is not None:
            from scf_batch.fleet.page import write_fleet_page  # noqa: PLC0415 (plotly: only here)

            finished_at = summaries[-1].finished_at
            pages = write_fleet_page(verdicts, code, finished_at=finished_at, out=html_out)
            click.echo(
                f"wrote {html_out} (each org's page in {pages})", err=output_format == "json"
            )
        return ExitCode.OK

    return guarded(body)
