"""RunSettings: a job spec with the command line's flags laid over it and defaults filled in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.jobspec import DEFAULT_API_KEY_ENV, DEFAULT_BASE_URL, JobSpec

# Close's documented example limit is 20 requests/s per endpoint group and key.
DEFAULT_RATE_PER_S = 20.0
# 16 in flight keep 20 req/s going at up to ~800 ms per request.
DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_ROW_DEADLINE_S = 300.0


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything one run needs to know, resolved; the API key is not in here on purpose."""

    name: str
    operations: Path
    out: Path
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = DEFAULT_API_KEY_ENV
    concurrency: int = DEFAULT_CONCURRENCY
    rate_per_s: float = DEFAULT_RATE_PER_S
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout_s: float = DEFAULT_TIMEOUT_S
    row_deadline_s: float = DEFAULT_ROW_DEADLINE_S
    limit: int | None = None
    max_errors: int | None = None
    max_duration_s: float | None = None
    skip_invalid: bool = False
    dry_run: bool = False
    restart: bool = False
    log_format: str = "auto"
    progress: bool | None = None

    def fingerprint_settings(self) -> dict[str, Any]:
        """The settings recorded in the checkpoint (never the key)."""
        return {
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
            "rate_per_s": self.rate_per_s,
            "max_retries": self.max_retries,
            "timeout_s": self.timeout_s,
            "skip_invalid": self.skip_invalid,
        }


def build_settings(spec: JobSpec, flags: Mapping[str, Any]) -> RunSettings:
    """Flags (None = not given) override the spec, which overrides the defaults."""

    def pick(flag: str, spec_value: Any, default: Any) -> Any:
        value = flags.get(flag)
        if value is not None:
            return value
        return spec_value if spec_value is not None else default

    out = pick("out", spec.out, Path("runs") / spec.name)
    settings = RunSettings(
        name=spec.name,
        operations=spec.operations,
        out=Path(os.path.normpath(out)),
        base_url=pick("base_url", spec.base_url, DEFAULT_BASE_URL),
        api_key_env=pick("api_key_env", spec.api_key_env, DEFAULT_API_KEY_ENV),
        concurrency=pick("concurrency", spec.concurrency, DEFAULT_CONCURRENCY),
        rate_per_s=float(pick("rate", spec.rate, DEFAULT_RATE_PER_S)),
        max_retries=pick("max_retries", spec.max_retries, DEFAULT_MAX_RETRIES),
        timeout_s=float(pick("timeout", spec.timeout, DEFAULT_TIMEOUT_S)),
        limit=pick("limit", spec.limit, None),
        max_errors=pick("max_errors", spec.max_errors, None),
        max_duration_s=pick("max_duration", spec.max_duration, None),
        skip_invalid=bool(pick("skip_invalid", spec.skip_invalid, False)),
        dry_run=bool(pick("dry_run", spec.dry_run, False)),
        restart=bool(flags.get("restart") or False),
        log_format=pick("log_format", spec.log_format, "auto"),
        progress=pick("progress", spec.progress, None),
    )
    _check(settings)
    return settings


def _check(settings: RunSettings) -> None:
    problems = []
    if settings.concurrency < 1:
        problems.append(f"--concurrency: found {settings.concurrency}; expected an integer ≥ 1")
    if settings.rate_per_s <= 0:
        problems.append(f"--rate: found {settings.rate_per_s}; expected a number > 0")
    if settings.timeout_s <= 0:
        problems.append(f"--timeout: found {settings.timeout_s}; expected seconds > 0")
    if settings.max_retries < 0:
        problems.append(f"--max-retries: found {settings.max_retries}; expected an integer ≥ 0")
    if not settings.base_url.startswith(("http://", "https://")):
        problems.append(f"--base-url: found {settings.base_url!r}; expected an http(s) URL")
    if problems:
        raise UsageError("\n".join(problems))


def read_api_key(env_var: str, environ: Mapping[str, str] = os.environ) -> str:
    """The API key, from the environment only (never the command line)."""
    key = environ.get(env_var, "").strip()
    if not key:
        raise UsageError(
            f"{env_var}: not set; export your Close API key in {env_var} "
            "(it is read from the environment only, never from the command line)"
        )
    return key
