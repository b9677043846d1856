"""jobs/*.toml -> JobSpec (frozen), or an operations file given directly. Pure but for reading it.

TOML keys are the `run` flags with underscores (`max_duration`, `skip_invalid`, ...) plus
`operations`, `base_url`, `api_key_env`, `out` and `name`; paths are relative to the spec's folder.
Every unknown key, wrong type or out-of-range value is reported (all of them at once) as
`spec.toml: key: found X; expected Y` in one UsageError.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scf_batch.cells import show
from scf_batch.errors import UsageError
from scf_batch.jobfile import SUFFIXES

LogFormat = Literal["auto", "json", "console"]
DEFAULT_BASE_URL = "https://api.close.com/api/v1/"
DEFAULT_API_KEY_ENV = "CLOSE_API_KEY"


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """The `[simulator]` table: how `scf-batch demo` starts its in-process simulator."""

    rate_limit: int | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    fault_rate: float | None = None
    header_style: str | None = None
    body_style: str | None = None
    seed: Path | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job: the operations file, where to send it, where results go, and run options.

    Each run option is None when the spec does not give it (flags and defaults decide).
    """

    name: str
    spec_path: Path | None
    operations: Path
    base_url: str | None = None
    api_key_env: str | None = None
    out: Path | None = None
    concurrency: int | None = None
    rate: float | None = None
    max_retries: int | None = None
    timeout: float | None = None
    limit: int | None = None
    max_errors: int | None = None
    max_duration: float | None = None
    skip_invalid: bool | None = None
    dry_run: bool | None = None
    log_format: LogFormat | None = None
    progress: bool | None = None
    simulator: SimulatorSpec | None = None


# key -> (check, what is expected); a check returns the value to store, or None when wrong
Check = Callable[[Any], Any]


def _integer(low: int, high: int | None = None) -> Check:
    def check(value: Any) -> Any:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok and value >= low and (high is None or value <= high) else None

    return check


def _number(low: float, high: float | None = None, *, above: bool = False) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if not math.isfinite(value):
            return None
        fits = (value > low if above else value >= low) and (high is None or value <= high)
        return float(value) if fits else None

    return check


def _boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else None


def _choice(*choices: str) -> Check:
    return lambda value: value if value in choices else None


def _text(pattern: str) -> Check:
    shape = re.compile(pattern)
    return lambda value: value if isinstance(value, str) and shape.fullmatch(value) else None


RUN_KEYS: dict[str, tuple[Check, str]] = {
    "name": (_text(r"[^/\\\x00-\x1f]{1,100}"), "a name of 1 to 100 characters, no slashes"),
    "operations": (_text(r"(?s).+"), "the operations file, relative to the spec"),
    "base_url": (_text(r"https?://\S+"), "an http:// or https:// URL"),
    "api_key_env": (_text(r"[A-Za-z_][A-Za-z0-9_]*"), "an environment variable name"),
    "out": (_text(r"(?s).+"), "a folder, relative to the spec"),
    "concurrency": (_integer(1, 1000), "an integer from 1 to 1000"),
    "rate": (_number(0, above=True), "a number of requests per second above 0"),
    "max_retries": (_integer(0, 100), "an integer from 0 to 100"),
    "timeout": (_number(0, above=True), "a number of seconds above 0"),
    "limit": (_integer(1), "an integer of at least 1"),
    "max_errors": (_integer(1), "an integer of at least 1"),
    "max_duration": (_number(0, above=True), "a number of seconds above 0"),
    "skip_invalid": (_boolean, "true or false"),
    "dry_run": (_boolean, "true or false"),
    "log_format": (_choice("auto", "json", "console"), "auto, json or console"),
    "progress": (_boolean, "true or false"),
}
SIMULATOR_KEYS: dict[str, tuple[Check, str]] = {
    "rate_limit": (_integer(0), "an integer of at least 0 (0 = off)"),
    "latency_ms": (_number(0), "a number of milliseconds, at least 0"),
    "jitter_ms": (_number(0), "a number of milliseconds, at least 0"),
    "fault_rate": (_number(0, 1), "a number from 0 to 1"),
    "header_style": (_choice("comma", "semicolon", "none"), "comma, semicolon or none"),
    "body_style": (_choice("legacy", "empty", "text"), "legacy, empty or text"),
    "seed": (_text(r"(?s).+"), "a seed file, relative to the spec"),
}


def load_job(path: Path) -> JobSpec:
    """Read a job: a `.toml` spec, or an operations file given directly (name from its stem)."""
    if path.suffix.lower() != ".toml":
        return JobSpec(name=operations_stem(path), spec_path=None, operations=path)
    try:
        with path.open("rb") as stream:
            table = tomllib.load(stream)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the job spec: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    problems: list[str] = []
    values = _checked(path, "", table, RUN_KEYS, tables={"simulator"}, problems=problems)
    simulator = None
    if "simulator" in table:
        simulator = _simulator(path, table["simulator"], problems)
    if "operations" not in table:
        problems.append(f"{path}: operations: found nothing; expected {RUN_KEYS['operations'][1]}")
    if problems:
        raise UsageError("\n".join(problems))
    folder = path.parent
    operations = folder / values.pop("operations")
    name = values.pop("name", None) or path.stem
    if "out" in values:
        values["out"] = folder / values["out"]
    return JobSpec(name=name, operations=operations, spec_path=path, simulator=simulator, **values)


def operations_stem(path: Path) -> str:
    """`ops.csv.gz` -> `ops`: the file name without its operations-file suffix."""
    lower = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return path.name[: -len(suffix)] or path.name
    return path.stem


def _checked(
    path: Path,
    prefix: str,
    table: dict[str, Any],
    keys: dict[str, tuple[Check, str]],
    *,
    tables: set[str],
    problems: list[str],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in tables:
            continue
        if key not in keys:
            known = ", ".join([*keys, *sorted(tables)])
            problems.append(f"{path}: {prefix}{key}: found an unknown key; expected one of {known}")
            continue
        check, expected = keys[key]
        checked = check(value)
        if checked is None:
            problems.append(f"{path}: {prefix}{key}: found {_found(value)}; expected {expected}")
        else:
            values[key] = checked
    return values


def _simulator(path: Path, table: object, problems: list[str]) -> SimulatorSpec | None:
    if not isinstance(table, dict):
        problems.append(f"{path}: simulator: found {_found(table)}; expected a table")
        return None
    values = _checked(path, "simulator.", table, SIMULATOR_KEYS, tables=set(), problems=problems)
    if "seed" in values:
        values["seed"] = path.parent / values["seed"]
    return SimulatorSpec(**values)


def _found(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str | int | float | bool):
        return show(value)
    return f"a {type(value).__name__}"
