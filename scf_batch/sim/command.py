"""`scf-batch sim`: run the simulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from scf_batch.sim.app import running
from scf_batch.sim.config import (
    BODY_STYLES,
    DEFAULT_SEED_PATH,
    HEADER_STYLES,
    SimConfig,
    body_style_named,
    header_style_named,
)
from scf_batch.sim.store import SeedError


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_SEED_PATH,
    help="Seed file (JSON) with the orgs.  [default: data/sim/seed.json]",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Requests per second per API key per endpoint group (the org gets 3x); 0 = off.",
)
@click.option(
    "--rate-window",
    "rate_window_s",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Length of a rate-limit window in seconds; each window allows rate-limit x window.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Delay before every API answer.",
)
@click.option(
    "--jitter-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Extra latency, uniform in [0, jitter-ms].",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500/502/503/504 or dropped (some after applying).",
)
@click.option(
    "--header-style",
    type=click.Choice(HEADER_STYLES),
    default="comma",
    show_default=True,
    help="The RateLimit header: comma-separated, semicolon-separated, or none at all.",
)
@click.option(
    "--body-style",
    type=click.Choice(BODY_STYLES),
    default="legacy",
    show_default=True,
    help="The 429 body: Close's deprecated JSON (legacy), none (empty), or plain text.",
)
@click.option(
    "--random-seed", type=int, default=None, help="Make faults, jitter and ids repeatable."
)
def sim_command(
    *,
    host: str,
    port: int,
    seed_path: Path,
    rate_limit: int,
    rate_window_s: float,
    latency_ms: float,
    jitter_ms: float,
    fault_rate: float,
    header_style: str,
    body_style: str,
    random_seed: int | None,
) -> int:
    """Run the Close simulator in the foreground."""
    config = SimConfig(
        seed_path=seed_path,
        rate_limit=rate_limit,
        rate_window_s=rate_window_s,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        fault_rate=fault_rate,
        header_style=header_style_named(header_style),  # click.Choice checked it
        body_style=body_style_named(body_style),
        random_seed=random_seed,
    )
    try:
        asyncio.run(serve(config, host, port))
    except SeedError as exc:
        click.echo(f"scf-batch sim: {exc}", err=True)
        return 2
    except OSError as exc:
        click.echo(f"scf-batch sim: cannot listen on {host}:{port}: {exc}", err=True)
        return 2
    return 0


async def serve(config: SimConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, announcing the URL once the socket accepts connections."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(config, host, port) as base_url:
        sys.stdout.write(f"scf-batch sim listening on {base_url}\n")
        sys.stdout.flush()
        await stop.wait()
