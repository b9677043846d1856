"""`scf-batch demo`'s org: the simulator in-process on a free loopback port, configured by the
demo job's spec, and the settings and key that run the demo job against it (cli/demo.py runs it
like any job)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, cast

from scf_batch.close.credentials import Credentials
from scf_batch.errors import UsageError
from scf_batch.job.spec import JobSpec, load_job
from scf_batch.options import RunSettings, build_settings
from scf_batch.sim import SimConfig, running

# A key of the "Acme Target" org in the simulator's default seed: not a secret.
DEMO_API_KEY = "api_target_key_1"
DEMO_SPEC = Path("jobs") / "demo.toml"
# Inside an installed wheel the demo job and its data sit under scf_batch/_data/; in the clone,
# at the repository root.
_PACKAGE = Path(__file__).resolve().parents[1]
INSTALLED_ROOT = _PACKAGE / "_data"
HeaderStyle = Literal["comma", "semicolon", "none"]
BodyStyle = Literal["legacy", "empty", "text"]


def find_demo_spec(explicit: Path | None) -> Path:
    """The demo job: as given, else ./jobs/demo.toml, else the installed one, else the clone's."""
    candidates = (
        [explicit]
        if explicit is not None
        else [Path.cwd() / DEMO_SPEC, INSTALLED_ROOT / DEMO_SPEC, _PACKAGE.parent / DEMO_SPEC]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(f"{candidates[0]}: demo job spec not found; run from the repository root")


def sim_config(spec: JobSpec) -> SimConfig:
    sim = spec.simulator
    if sim is None:
        return SimConfig()
    config = SimConfig(
        rate_limit=sim.rate_limit if sim.rate_limit is not None else 0,
        latency_ms=sim.latency_ms or 0.0,
        jitter_ms=sim.jitter_ms or 0.0,
        fault_rate=sim.fault_rate or 0.0,
        header_style=cast(HeaderStyle, sim.header_style or "comma"),
        body_style=cast(BodyStyle, sim.body_style or "legacy"),
    )
    if sim.seed is not None:
        config = SimConfig(**{**config.__dict__, "seed_path": sim.seed})
    return config


def describe_simulator(spec_path: Path) -> str:
    """One line on how the demo's simulator is set up, so the user knows what to expect."""
    config = sim_config(load_job(spec_path))
    limit = f"{config.rate_limit}/s per key and endpoint group" if config.rate_limit else "off"
    headers = "no RateLimit header" if config.header_style == "none" else "RateLimit headers"
    return (
        f"rate limit {limit}, {headers}, "
        f"faults {config.fault_rate:.0%}, latency {config.latency_ms:g}±{config.jitter_ms:g} ms"
    )


@asynccontextmanager
async def demo_org(spec_path: Path) -> AsyncIterator[tuple[RunSettings, Credentials]]:
    """The simulator running while the block runs, with the demo job's settings (from scratch:
    a new pass each time) and the key of the simulator's target org; stopped after."""
    spec = load_job(spec_path)
    async with running(sim_config(spec)) as base_url:
        settings = build_settings(
            name=spec.name,
            operations=spec.operations,
            spec_values=spec.values,
            flags={"base_url": base_url, "restart": True},
            api_key_env=spec.api_key_env,
            definitions=spec.definitions,
        )
        yield settings, Credentials.api_key(DEMO_API_KEY, "the demo")
