"""The simulator's settings: frozen, validated the same way for the CLI and `POST /_sim/config`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

HeaderStyle = Literal["comma", "semicolon", "none"]
BodyStyle = Literal["legacy", "empty", "text"]
HEADER_STYLES: tuple[HeaderStyle, ...] = ("comma", "semicolon", "none")
BODY_STYLES: tuple[BodyStyle, ...] = ("legacy", "empty", "text")

# The seed: inside an installed wheel under scf_batch/_data/, else the clone's data/sim/seed.json.
_PACKAGE = Path(__file__).resolve().parents[1]
_INSTALLED_ROOT = _PACKAGE / "_data"
_DATA_ROOT = _INSTALLED_ROOT if _INSTALLED_ROOT.is_dir() else _PACKAGE.parent
DEFAULT_SEED_PATH = _DATA_ROOT / "data" / "sim" / "seed.json"
LIVE_FIELDS = (
    "rate_limit",
    "rate_window_s",
    "latency_ms",
    "jitter_ms",
    "fault_rate",
    "header_style",
    "body_style",
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How the simulator behaves. `rate_limit` is requests per second per API key per endpoint
    group (0 = off; the org scope allows 3x), counted in fixed windows of `rate_window_s`."""

    seed_path: Path = DEFAULT_SEED_PATH
    rate_limit: int = 0
    rate_window_s: float = 1.0
    latency_ms: float = 0
    jitter_ms: float = 0
    fault_rate: float = 0
    header_style: HeaderStyle = "comma"
    body_style: BodyStyle = "legacy"
    random_seed: int | None = None

    def __post_init__(self) -> None:
        errors = check_values({f: getattr(self, f) for f in LIVE_FIELDS})
        if errors:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))

    def live(self) -> dict[str, Any]:
        """The settings `POST /_sim/config` can change, as JSON."""
        return {f: getattr(self, f) for f in LIVE_FIELDS}


def _number(value: object) -> float | None:
    """A finite int or float as float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _in_range(low: float, high: float, *, open_low: bool = False) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        number = _number(value)
        return (
            number is not None and (number > low if open_low else number >= low) and number <= high
        )

    return check


CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "rate_limit": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "an integer >= 0",
    ),
    "rate_window_s": (_in_range(0, math.inf, open_low=True), "a number > 0"),
    "latency_ms": (_in_range(0, math.inf), "a number >= 0"),
    "jitter_ms": (_in_range(0, math.inf), "a number >= 0"),
    "fault_rate": (_in_range(0, 1), "a number from 0 to 1"),
    "header_style": (lambda v: v in HEADER_STYLES, "one of " + ", ".join(HEADER_STYLES)),
    "body_style": (lambda v: v in BODY_STYLES, "one of " + ", ".join(BODY_STYLES)),
}


def check_values(values: dict[str, Any]) -> dict[str, str]:
    """Field errors for live settings: unknown names, wrong types, out-of-range values."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name not in CHECKS:
            errors[name] = f"unknown setting; expected one of {', '.join(LIVE_FIELDS)}"
            continue
        ok, expected = CHECKS[name]
        if not ok(value):
            errors[name] = f"got {value!r}, expected {expected}"
    return errors


def with_changes(config: SimConfig, changes: dict[str, Any]) -> SimConfig:
    """A copy with validated live changes applied (callers check `check_values` first)."""
    return dataclasses.replace(config, **changes)


def header_style_named(name: str) -> HeaderStyle:
    """The header style called `name` (ValueError naming the valid ones otherwise)."""
    for style in HEADER_STYLES:
        if style == name:
            return style
    raise ValueError(f"header style {name!r}: expected one of {', '.join(HEADER_STYLES)}")


def body_style_named(name: str) -> BodyStyle:
    """The 429 body style called `name` (ValueError naming the valid ones otherwise)."""
    for style in BODY_STYLES:
        if style == name:
            return style
    raise ValueError(f"body style {name!r}: expected one of {', '.join(BODY_STYLES)}")
