"""`scf-batch sim`: run the simulator in the foreground."""

from __future__ import annotations

import click


@click.command("sim")
def sim_command() -> int:
    """Run the Close simulator in the foreground."""
    click.echo("the simulator is being built (issue 2)", err=True)
    return 2
