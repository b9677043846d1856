"""The simulator's state: config, orgs, credentials, rate windows, stats and randomness."""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scf_batch.sim.config import DEFAULT_SEED_PATH, SimConfig
from scf_batch.sim.ratelimit import RateLimiter
from scf_batch.sim.stats import Stats
from scf_batch.sim.store import Org, load_orgs, read_seed

AUTH_CACHE_SIZE = 10_000

Principal = tuple[Org, str]  # the org, and the key or token (the rate limit's key scope)


def load_seed(path: Path | str) -> dict[str, Any]:
    """The seed file; the default seed is rebuilt in memory when its file is not shipped."""
    path = Path(path)
    if path == DEFAULT_SEED_PATH and not path.exists():
        # imported here so that `python -m scf_batch.sim.seedgen` runs without a double import
        from scf_batch.sim.seedgen import build_seed  # noqa: PLC0415

        return build_seed()
    return read_seed(path)


class Simulator:
    """The simulator's whole state: config, orgs, credentials, rate windows, stats, randomness."""

    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.seed = load_seed(config.seed_path)
        base = config.random_seed
        self.fault_rng = random.Random(None if base is None else f"{base}:faults")
        self.delay_rng = random.Random(None if base is None else f"{base}:latency")
        self.id_rng = random.Random(None if base is None else f"{base}:ids")
        self.limiter = RateLimiter()
        self.stats = Stats()
        self.orgs: list[Org] = []
        self.credentials: dict[tuple[str, str], Principal] = {}
        self.auth_cache: dict[str, Principal | None] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the seed: fresh orgs, no rate windows, zero stats (the config stays)."""
        self.orgs = load_orgs(self.seed)
        self.credentials = {}
        for org in self.orgs:
            self.credentials.update({("basic", key): (org, key) for key in org.api_keys})
            self.credentials.update({("bearer", tok): (org, tok) for tok in org.oauth_tokens})
        self.auth_cache = {}
        self.limiter.clear()
        self.stats = Stats()

    def authenticate(self, header: str | None) -> Principal | None:
        """The principal for an Authorization header (Basic key or Bearer token), cached."""
        if header is None:
            return None
        if header in self.auth_cache:
            return self.auth_cache[header]
        principal = self.credentials.get(_secret(header))
        if len(self.auth_cache) < AUTH_CACHE_SIZE:  # a flood of bad headers cannot grow it
            self.auth_cache[header] = principal
        return principal

    def delay_s(self) -> float:
        """This request's latency: the base plus uniform jitter in [0, jitter_ms]."""
        jitter = self.delay_rng.uniform(0, self.config.jitter_ms) if self.config.jitter_ms else 0
        return (self.config.latency_ms + jitter) / 1000


def _secret(header: str) -> tuple[str, str]:
    """("basic", API key) from `Basic base64(key:)` (any password is ignored) or ("bearer",
    token); ("", "") when the header is neither."""
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return scheme, value
    if scheme != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _colon, _password = decoded.partition(":")
    return scheme, user
