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
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar, cast, overload

import click

from scf_batch.errors import UsageError

DEFAULT_BASE_URL = "https://api.close.com/api/v1/"
BASE_URL_ENV = "CLOSE_BASE_URL"  # the base URL when neither the flag nor the spec gives one
LOG_FORMATS = ("auto", "json", "console")
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # utf-8 also drops a BOM; job.opsfile reads these
MAX_NAMES = 10_000  # a list option names an org's fields or targets: thousands at most
MAX_NAME_CHARS = 1000
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Option:
    """One run option. `kind` is int, float, bool, str, list (of names: spec only, read as a
    tuple of non-blank strings) or a tuple of choices.

    `low`/`high` bound numbers (`above`: the low bound itself is not allowed); `unit` follows
    the value in help texts; `cli`/`spec`: where the option may be given; `shown_default`: the
    default in words, when the value alone would not say it (None, or one that depends);
    `recorded`: the checkpoint keeps its value.
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
    recorded: bool = False  # the checkpoint records it (a later run of the pass compares)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def expected(self) -> str:
        """What a valid value looks like, in words."""
        if isinstance(self.kind, tuple):
            return "one of " + ", ".join(self.kind)
        worded = {
            bool: "true or false",
            list: f"an array of at most {MAX_NAMES} names (strings)",
            str: self.help,
        }
        if self.kind in worded:
            return worded[self.kind]
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
        if self.kind is list:
            return _names(value)
        if self.kind is bool or isinstance(value, bool):
            return value if self.kind is bool and isinstance(value, bool) else None
        if self.kind is str:
            ok = isinstance(value, str) and (
                self.pattern is None or re.fullmatch(self.pattern, value) is not None
            )
            return value if ok else None
        number = isinstance(value, int | float) and (self.kind is not int or isinstance(value, int))
        if not number or not _finite(value) or not self._fits(value):
            return None
        return float(value) if self.kind is float else value

    def _fits(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high


class Setting(Generic[T]):
    """One option of the table, as an attribute of RunSettings: read on a RunSettings, it is
    the option's resolved value; read on the class, the Setting itself (its `option`)."""

    def __init__(self, option: Option) -> None:
        self.option = option
        self.attribute = option.name

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, instance: RunSettings, owner: type) -> T: ...

    def __get__(self, instance: RunSettings | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        return cast(T, instance.values[self.option.name])


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything one run needs to know, resolved; the API key is not in here on purpose.

    The class body is the options table: each `Setting` declares one option (its name, type,
    bounds, default, unit and help) and is the typed attribute a run reads. `values` holds every
    option's resolved value by option name; `out` is the run folder the `out` option resolves to.
    """

    name: str
    operations: Path
    out: Path
    api_key_env: str | None  # None: the default variables (credentials.py)
    token_env: str | None
    values: Mapping[str, Any]
    definitions: Path | None = None  # the spec's definitions file, read before `operations`
    row_deadline_s: ClassVar[float] = 300.0  # a row's whole time cap, 429 waits included

    base_url = Setting[str](
        Option(
            "base_url",
            str,
            DEFAULT_BASE_URL,
            "Close API base URL (an http:// or https:// URL)",
            pattern=r"https?://\S+",
            shown_default=f"the spec's, then ${BASE_URL_ENV}, then {DEFAULT_BASE_URL}",
            recorded=True,
        )
    )

    requested_out = Setting[str | None](
        Option(
            "out",
            str,
            None,
            "run folder, relative to the spec",
            pattern=r"[^\x00]{1,4096}",
            shown_default="runs/<job>/",
        )
    )

    concurrency = Setting[int](
        Option(
            "concurrency",
            int,
            64,
            "requests in flight at most (fewer when the rate and latency need fewer)",
            low=1,
            high=256,
            recorded=True,
        )
    )

    rate_per_s = Setting[float](
        Option(
            "rate",
            float,
            20.0,
            "requests per second per endpoint group",
            low=0,
            above=True,
            unit="req/s",
            recorded=True,
        )
    )

    max_retries = Setting[int](
        Option(
            "max_retries",
            int,
            5,
            "retries per row of 5xx and network errors (429s apart)",
            low=0,
            high=100,
            recorded=True,
        )
    )

    timeout_s = Setting[float](
        Option(
            "timeout",
            float,
            30.0,
            "seconds per request",
            low=0,
            above=True,
            unit="s",
            recorded=True,
        )
    )

    limit = Setting[int | None](
        Option(
            "limit",
            int,
            None,
            "canary: stop after N rows that write (rows needing no write do not count; exit 4)",
            low=1,
            shown_default="no limit",
        )
    )

    max_errors = Setting[int | None](
        Option(
            "max_errors",
            int,
            None,
            "stop after N failed rows (exit 5)",
            low=1,
            shown_default="no limit",
        )
    )

    max_duration_s = Setting[float | None](
        Option(
            "max_duration",
            float,
            None,
            "stop admitting rows after S seconds (exit 4)",
            low=0,
            above=True,
            unit="s",
            shown_default="no limit",
        )
    )

    skip_invalid = Setting[bool](
        Option(
            "skip_invalid",
            bool,
            False,
            "record invalid rows as invalid and run the rest",
            recorded=True,
        )
    )

    allow_delete = Setting[bool](
        Option(
            "allow_delete",
            bool,
            False,
            "let disassociate rows run: they delete every value stored in that field",
            recorded=True,
        )
    )

    prune = Setting[bool](
        Option(
            "prune",
            bool,
            False,
            "exact sync: disassociate every association in the prune scope (prune_fields, "
            "prune_object_types; the whole org without them) that no row of the job names; "
            "these deletes need --allow-delete",
            recorded=True,
        )
    )

    # Lists of names: the job spec only. A scope or a protection typed anew on each command
    # line is one that a run can forget; in the spec it is reviewed with the job.
    prune_fields = Setting[tuple[str, ...]](
        Option(
            "prune_fields",
            list,
            (),
            "the fields prune looks at, by name",
            cli=False,
            shown_default="every field",
        )
    )

    prune_object_types = Setting[tuple[str, ...]](
        Option(
            "prune_object_types",
            list,
            (),
            "the targets prune looks at: lead, contact, opportunity, custom_activity_type NAME, "
            "custom_object_type NAME (a bare custom_... word: every type of that kind)",
            cli=False,
            shown_default="every target",
        )
    )

    protect = Setting[tuple[str, ...]](
        Option(
            "protect",
            list,
            (),
            "fields (every target) or `field → target` pairs, by name, that no run, prune or "
            "undo disassociates or deletes",
            cli=False,
            shown_default="none",
        )
    )

    dry_run = Setting[bool](Option("dry_run", bool, False, "print the plan and send nothing"))

    allow_insecure_http = Setting[bool](
        Option("allow_insecure_http", bool, False, "allow http:// to a host that is not loopback")
    )

    organization_id = Setting[str | None](
        Option(
            "organization_id",
            str,
            None,
            "the org the key must belong to (orga_...)",
            pattern=r"orga_[0-9A-Za-z]{1,64}",
            shown_default="any org",
        )
    )

    organization_name = Setting[str | None](
        Option(
            "organization_name",
            str,
            None,
            "the name of the org the key must belong to",
            pattern=r"(?s).{1,200}",
            shown_default="any org",
        )
    )

    restart = Setting[bool](
        Option(
            "restart",
            bool,
            False,
            "archive the current pass to history/ and start a new one",
            spec=False,
        )
    )

    retry_failed = Setting[bool](
        Option(
            "retry_failed",
            bool,
            False,
            "run again only the rows of the last pass that failed, in the same pass",
            spec=False,
        )
    )

    keep_passes = Setting[int](
        Option(
            "keep_passes",
            int,
            30,
            "finished passes kept under the run folder's history/; older ones are removed "
            "when a pass finishes",
            low=0,
            high=100_000,
            unit="passes",
        )
    )

    encoding = Setting[str](
        Option(
            "encoding",
            ENCODINGS,
            "utf-8",
            "the operations file's text encoding (Excel's plain CSV on Windows: cp1252)",
            recorded=True,
        )
    )

    allow_empty = Setting[bool](
        Option("allow_empty", bool, False, "accept an operations file without a row (exit 0)")
    )

    log_format = Setting[str](
        Option(
            "log_format",
            LOG_FORMATS,
            "auto",
            "log lines on stderr: json, console, or auto (JSON lines off a terminal)",
        )
    )

    progress = Setting[bool | None](
        Option(
            "progress", bool, None, "a live progress bar on stderr", shown_default="on a terminal"
        )
    )

    exit_zero_on_stop = Setting[bool](
        Option(
            "exit_zero_on_stop",
            bool,
            False,
            "exit 0 in place of 4 (stopped early on purpose) and 75 (another run holds the run "
            "folder), for schedulers that fail a job on any other code; summary.json, the "
            "summary event and the metrics keep the real code",
        )
    )

    metrics_file = Setting[str | None](
        Option(
            "metrics_file",
            str,
            None,
            "a *.prom file the run's metrics are written to at its end, success or failure "
            "(Prometheus text format, for node_exporter's textfile directory; in a spec, "
            "relative to the spec)",
            pattern=r"[^\x00]{0,4090}\.prom",
            shown_default="none",
        )
    )

    ping_url = Setting[str | None](
        Option(
            "ping_url",
            str,
            None,
            "a heartbeat URL (healthchecks.io style): URL/start as the run starts, then URL on "
            "exit 0 or URL/fail; https, or http to a loopback host",
            pattern=r"https?://\S{1,2000}",
            shown_default="none",
        )
    )

    def recorded(self) -> dict[str, Any]:
        """The settings the checkpoint records (never the key): those marked `recorded`."""
        recorded: dict[str, Any] = {"api_key_env": self.api_key_env, "token_env": self.token_env}
        for setting in SETTINGS:
            if setting.option.recorded:
                recorded[setting.attribute] = self.values[setting.option.name]
        return recorded


SETTINGS = tuple(value for value in vars(RunSettings).values() if isinstance(value, Setting))
OPTIONS = tuple(setting.option for setting in SETTINGS)


def _names(value: Any) -> tuple[str, ...] | None:
    """A list option's value: up to MAX_NAMES strings of text (job/scope.py reads each)."""
    if not isinstance(value, list | tuple) or len(value) > MAX_NAMES:
        return None
    if not all(isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS for name in value):
        return None
    return tuple(value)


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


def build_settings(
    *,
    name: str,
    operations: Path,
    spec_values: Mapping[str, Any],
    flags: Mapping[str, Any],
    api_key_env: str | None = None,
    token_env: str | None = None,
    environ: Mapping[str, str] | None = None,
    definitions: Path | None = None,
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
            values[option.name] = option.default
            continue
        checked = option.check(value)  # the value in its kind (a TOML 5 for a float is 5.0)
        if checked is None:
            problems.append(f"{option.flag}: found {value!r}; expected {option.expected()}")
        values[option.name] = checked
    if problems:
        raise UsageError("\n".join(problems))
    out = values["out"]
    return RunSettings(
        name=name,
        operations=operations,
        out=Path(os.path.normpath(out if out is not None else Path("runs") / name)),
        api_key_env=api_key_env,
        token_env=token_env,
        values=MappingProxyType(values),
        definitions=definitions,
    )
