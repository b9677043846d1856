"""Every run option, declared once: name, type, bounds, default, unit and help.

The one table feeds the command line (`click_options`), the job spec's checks (`check_value`)
and the defaults (`build_settings`), so a bound or a default is written here and nowhere else.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from scf_batch.errors import UsageError

DEFAULT_BASE_URL = "https://api.close.com/api/v1/"
BASE_URL_ENV = "CLOSE_BASE_URL"  # the base URL when neither the flag nor the spec gives one
LOG_FORMATS = ("auto", "json", "console")
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # utf-8 also drops a BOM; job.opsfile reads these
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Option:
    """One run option. `kind` is int, float, bool, str or a tuple of choices.

    `low`/`high` bound numbers (`above`: the low bound itself is not allowed); `unit` follows
    the value in help texts; `cli`/`spec`: where the option may be given; `shown_default`: the
    default in words, when the value alone would not say it (None, or one that depends).
    """

    name: str
    kind: type | tuple[str, ...]
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    above: bool = False
    unit: str = ""
    cli: bool = True
    spec: bool = True
    pattern: str | None = None
    shown_default: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def expected(self) -> str:
        """What a valid value looks like, in words."""
        if isinstance(self.kind, tuple):
            return "one of " + ", ".join(self.kind)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return self.help
        noun = "an integer" if self.kind is int else "a number"
        unit = f" ({self.unit})" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{noun} from {self.low:g} to {self.high:g}{unit}"
        if self.low is not None:
            return f"{noun} {'above' if self.above else 'of at least'} {self.low:g}{unit}"
        return noun + unit

    def check(self, value: Any) -> Any:
        """The value to use, or None when it does not fit (the caller reports `expected()`)."""
        if isinstance(self.kind, tuple):
            return value if value in self.kind else None
        if self.kind is bool or isinstance(value, bool):
            return value if self.kind is bool and isinstance(value, bool) else None
        if self.kind is str:
            ok = isinstance(value, str) and (
                self.pattern is None or re.fullmatch(self.pattern, value) is not None
            )
            return value if ok else None
        if not isinstance(value, int | float) or (self.kind is int and not isinstance(value, int)):
            return None
        if not _finite(value) or not self._fits(value):
            return None
        return float(value) if self.kind is float else value

    def _fits(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high


OPTIONS = (
    Option(
        "base_url",
        str,
        DEFAULT_BASE_URL,
        "Close API base URL (an http:// or https:// URL)",
        pattern=r"https?://\S+",
        shown_default=f"the spec's, then ${BASE_URL_ENV}, then {DEFAULT_BASE_URL}",
    ),
    Option(
        "out",
        str,
        None,
        "run folder, relative to the spec",
        pattern=r"[^\x00]{1,4096}",
        shown_default="runs/<job>/",
    ),
    Option(
        "concurrency",
        int,
        64,
        "requests in flight at most (fewer when the rate and latency need fewer)",
        low=1,
        high=256,
    ),
    Option(
        "rate",
        float,
        20.0,
        "requests per second per endpoint group",
        low=0,
        above=True,
        unit="req/s",
    ),
    Option(
        "max_retries",
        int,
        5,
        "retries per row of 5xx and network errors (429s apart)",
        low=0,
        high=100,
    ),
    Option("timeout", float, 30.0, "seconds per request", low=0, above=True, unit="s"),
    Option(
        "limit",
        int,
        None,
        "canary: stop after N rows that write (rows needing no write do not count; exit 4)",
        low=1,
        shown_default="no limit",
    ),
    Option(
        "max_errors",
        int,
        None,
        "stop after N failed rows (exit 5)",
        low=1,
        shown_default="no limit",
    ),
    Option(
        "max_duration",
        float,
        None,
        "stop admitting rows after S seconds (exit 4)",
        low=0,
        above=True,
        unit="s",
        shown_default="no limit",
    ),
    Option("skip_invalid", bool, False, "record invalid rows as invalid and run the rest"),
    Option(
        "allow_delete",
        bool,
        False,
        "let disassociate rows run: they delete every value stored in that field",
    ),
    Option("dry_run", bool, False, "print the plan and send nothing"),
    Option("allow_insecure_http", bool, False, "allow http:// to a host that is not loopback"),
    Option(
        "organization_id",
        str,
        None,
        "the org the key must belong to (orga_...)",
        pattern=r"orga_[0-9A-Za-z]{1,64}",
        shown_default="any org",
    ),
    Option(
        "organization_name",
        str,
        None,
        "the name of the org the key must belong to",
        pattern=r"(?s).{1,200}",
        shown_default="any org",
    ),
    Option(
        "restart",
        bool,
        False,
        "archive the current pass to history/ and start a new one",
        spec=False,
    ),
    Option(
        "retry_failed",
        bool,
        False,
        "run again only the rows of the last pass that failed, in the same pass",
        spec=False,
    ),
    Option(
        "encoding",
        ENCODINGS,
        "utf-8",
        "the operations file's text encoding (Excel's plain CSV on Windows: cp1252)",
    ),
    Option("allow_empty", bool, False, "accept an operations file without a row (exit 0)"),
    Option(
        "log_format",
        LOG_FORMATS,
        "auto",
        "log lines on stderr: json, console, or auto (JSON lines off a terminal)",
    ),
    Option("progress", bool, None, "a live progress bar on stderr", shown_default="on a terminal"),
)


def _finite(value: float) -> bool:
    """A finite number; an integer past 2**62 is not one here (every bound is far below it,
    and float() of a thousand-digit TOML integer overflows)."""
    return abs(value) <= 1 << 62 if isinstance(value, int) else math.isfinite(value)


BY_NAME = {option.name: option for option in OPTIONS}


def click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a click command with every option the command line takes (None = not given)."""
    for option in reversed(OPTIONS):
        if option.cli:
            command = _click_option(option)(command)
    return command


def click_options_for(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a click command with the named options of the table, in the table's order."""
    unknown = set(names) - set(BY_NAME)
    if unknown:
        raise ValueError(f"not in the options table: {', '.join(sorted(unknown))}")

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(OPTIONS):
            if option.name in names:
                command = _click_option(option)(command)
        return command

    return decorate


def help_text(option: Option) -> str:
    """The option's help as --help shows it: what it does, then its default with its unit."""
    if option.shown_default is not None:
        default = option.shown_default
    elif option.kind is bool:
        default = "off"
    else:
        default = _shown(option.default) + (f" {option.unit}" if option.unit else "")
    return f"{option.help} [default: {default}]"


def environment_base_url(environ: Mapping[str, str]) -> str:
    """The base URL when neither the flag nor the spec gives one: $CLOSE_BASE_URL, or Close."""
    return environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def _click_option(option: Option) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    described = help_text(option)
    if option.name == "progress":
        return click.option("--progress/--no-progress", default=None, help=described)
    if option.kind is bool:
        return click.option(option.flag, is_flag=True, default=None, help=described)
    kind: Any
    if isinstance(option.kind, tuple):
        kind = click.Choice(option.kind)
    elif option.kind is int:
        kind = click.IntRange(_int(option.low), _int(option.high))
    elif option.kind is float:
        kind = click.FloatRange(option.low, option.high, min_open=option.above)
    else:
        kind = click.STRING
    return click.option(option.flag, type=kind, default=None, help=described)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything one run needs to know, resolved; the API key is not in here on purpose."""

    name: str
    operations: Path
    out: Path
    base_url: str
    api_key_env: str | None  # None: the default variables (credentials.py)
    token_env: str | None
    concurrency: int
    rate_per_s: float
    max_retries: int
    timeout_s: float
    limit: int | None
    max_errors: int | None
    max_duration_s: float | None
    skip_invalid: bool
    allow_delete: bool
    dry_run: bool
    allow_insecure_http: bool
    organization_id: str | None
    organization_name: str | None
    restart: bool
    log_format: str
    progress: bool | None
    encoding: str = "utf-8"
    allow_empty: bool = False
    retry_failed: bool = False
    row_deadline_s: float = 300.0

    def recorded(self) -> dict[str, Any]:
        """The settings the checkpoint records (never the key)."""
        return {
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "token_env": self.token_env,
            "concurrency": self.concurrency,
            "rate_per_s": self.rate_per_s,
            "max_retries": self.max_retries,
            "timeout_s": self.timeout_s,
            "skip_invalid": self.skip_invalid,
            "allow_delete": self.allow_delete,
            "encoding": self.encoding,
        }


def build_settings(
    *,
    name: str,
    operations: Path,
    spec_values: Mapping[str, Any],
    flags: Mapping[str, Any],
    api_key_env: str | None = None,
    token_env: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> RunSettings:
    """Flags (None = not given) override the spec's values, which override the environment
    ($CLOSE_BASE_URL, for the base URL), which overrides the defaults.

    Flags are checked here against the same table as the spec's values (click has already
    checked the ones from the command line; this catches any other caller).
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for option in OPTIONS:
        value = flags.get(option.name)
        if value is None:
            value = spec_values.get(option.name)
        if isinstance(value, Path):
            value = str(value)
        if value is None and option.name == "base_url" and environ is not None:
            value = environ.get(BASE_URL_ENV) or None
        if value is None:
            value = option.default
        elif option.check(value) is None:
            problems.append(f"{option.flag}: found {value!r}; expected {option.expected()}")
        values[option.name] = value
    if problems:
        raise UsageError("\n".join(problems))
    out = values.pop("out")
    return RunSettings(
        name=name,
        operations=operations,
        out=Path(os.path.normpath(out if out is not None else Path("runs") / name)),
        api_key_env=api_key_env,
        token_env=token_env,
        rate_per_s=float(values.pop("rate")),
        timeout_s=float(values.pop("timeout")),
        max_duration_s=values.pop("max_duration"),
        **values,
    )
