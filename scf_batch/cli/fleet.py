"""`scf-batch fleet ...`: the commands over a fleet manifest (one manifest, many orgs)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.manifest import load_manifest, parse_shard


@click.group("fleet")
def fleet_command() -> None:
    """The same by-name job(s) over many orgs, each org its own run folder."""


@fleet_command.command("validate")
@click.argument("manifest", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--org", "names", multiple=True, help="only this org (repeatable)")
@click.option("--shard", default=None, help="I/N: the orgs at positions I mod N (0-based)")
def validate_command(manifest: Path, names: tuple[str, ...], shard: str | None) -> int:
    """Check a fleet manifest and list its orgs; nothing is sent."""
    try:
        fleet = load_manifest(manifest)
        orgs = fleet.select(names, parse_shard(shard) if shard is not None else None)
    except UsageError as exc:
        click.echo(f"scf-batch: {exc}", err=True)
        return ExitCode.USAGE
    for org in orgs:
        variable = org.api_key_env or org.token_env or "CLOSE_API_KEY"
        key = "set" if os.environ.get(variable) else "unset"
        pin = org.organization_id or "no pin"
        click.echo(f"{org.name}\t{org.job.name}\t{variable} ({key})\t{pin}")
    click.echo(f"{len(orgs)} org(s), out {fleet.out}, parallel {fleet.parallel}")
    return ExitCode.OK
