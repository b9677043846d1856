"""The job spec (jobs/*.toml) -> JobSpec, or an operations file given directly; pure but reading.

TOML keys are the `run` options with underscores (`max_duration`, `skip_invalid`, ...; the one
table in options.py) plus `operations`, `definitions`, `api_key_env` and `name`; paths are
relative to the spec's folder.
Every unknown key, wrong type or out-of-range value is reported (all of them at once) as
`spec.toml: key: found X; expected Y` in one UsageError.

A spec is data someone else may have written: it is read up to MAX_SPEC_BYTES, anything TOML
cannot hold (nesting past Python's recursion limit, an integer of thousands of digits) is a
UsageError, and its `out` must stay under the spec's folder or the current folder (the two
places the user chose: `jobs/x.toml` may write to `../runs/x` when run from the project), so a
spec cannot make a run create folders and write files anywhere on the machine; elsewhere is
for the command line's --out. Its `metrics_file` is held to the same places (elsewhere:
--metrics-file).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.job.files import SUFFIXES, require_regular, suffix_format
from scf_batch.job.scope import (
    FIELD_EXPECTED,
    PAIR_EXPECTED,
    TARGET_EXPECTED,
    parse_field,
    parse_pair,
    parse_target,
)
from scf_batch.options import OPTIONS
from scf_batch.text import did_you_mean, show


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
    """A job: the operations file (and the definitions file read before it), the credentials'
    variable, and the run options it sets.

    `values` holds the run options the spec gives (options.py names them), checked; flags and
    defaults decide the others.
    """

    name: str
    spec_path: Path | None
    operations: Path
    api_key_env: str | None = None
    token_env: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    simulator: SimulatorSpec | None = None
    definitions: Path | None = None


# key -> (check, what is expected); a check returns the value to store, or None when wrong
Check = Callable[[Any], Any]


def _text(pattern: str) -> Check:
    shape = re.compile(pattern)
    return lambda value: value if isinstance(value, str) and shape.fullmatch(value) else None


def _number(low: float, high: float | None = None) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if isinstance(value, int) and abs(value) > 1 << 62:  # float() would overflow
            return None
        fits = math.isfinite(value) and value >= low and (high is None or value <= high)
        return float(value) if fits else None

    return check


def _choice(*choices: str) -> Check:
    return lambda value: value if value in choices else None


# what only a spec says: its name, its files, the credentials' variable
SPEC_KEYS: dict[str, tuple[Check, str]] = {
    "name": (_text(r"[^/\\\x00-\x1f]{1,100}"), "a name of 1 to 100 characters, no slashes"),
    "operations": (_text(r"[^\x00]{1,4096}"), "the operations file, relative to the spec"),
    "definitions": (
        _text(r"[^\x00]{1,4096}"),
        "a JSONL file of define lines (field definitions and orders), relative to the spec",
    ),
    "api_key_env": (_text(r"[A-Za-z_][A-Za-z0-9_]*"), "an environment variable name"),
    "token_env": (_text(r"[A-Za-z_][A-Za-z0-9_]*"), "an environment variable name"),
}
# the list keys whose every entry has a grammar (job/scope.py): key -> (reader, what is expected)
ENTRY_GRAMMARS: dict[str, tuple[Callable[[str], object], str]] = {
    "protect": (parse_pair, PAIR_EXPECTED),
    "prune_fields": (parse_field, FIELD_EXPECTED),
    "prune_object_types": (parse_target, TARGET_EXPECTED),
}


def _with_entries(name: str, check: Check) -> Check:
    """The option's check, and for a list key with a grammar each entry's too (a fleet
    manifest's [defaults] use these checks as well)."""
    if name not in ENTRY_GRAMMARS:
        return check
    read = ENTRY_GRAMMARS[name][0]

    def checked(value: Any) -> Any:
        entries = check(value)
        return entries if entries is not None and all(map(read, entries)) else None

    return checked


RUN_KEYS: dict[str, tuple[Check, str]] = {
    **SPEC_KEYS,
    **{o.name: (_with_entries(o.name, o.check), o.expected()) for o in OPTIONS if o.spec},
}
SIMULATOR_KEYS: dict[str, tuple[Check, str]] = {
    "rate_limit": (
        lambda v: v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None,
        "an integer of at least 0 (0 = off)",
    ),
    "latency_ms": (_number(0), "a number of milliseconds, at least 0"),
    "jitter_ms": (_number(0), "a number of milliseconds, at least 0"),
    "fault_rate": (_number(0, 1), "a number from 0 to 1"),
    "header_style": (_choice("comma", "semicolon", "none"), "comma, semicolon or none"),
    "body_style": (_choice("legacy", "empty", "text"), "legacy, empty or text"),
    "seed": (_text(r"[^\x00]{1,4096}"), "a seed file, relative to the spec"),
}


def load_job(path: Path) -> JobSpec:
    """Read a job: a `.toml` spec, or an operations file given directly (name from its stem)."""
    if path.suffix.lower() != ".toml":
        return JobSpec(name=operations_stem(path), spec_path=None, operations=path)
    table = _table(path)
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
    definitions = _definitions(path, values.pop("definitions", None))
    name = values.pop("name", None) or path.stem
    api_key_env = values.pop("api_key_env", None)
    token_env = values.pop("token_env", None)
    for key, (flag, noun) in WRITTEN_PATHS.items():
        if key in values:
            values[key] = _confined(path, key, values[key], flag=flag, noun=noun)
    return JobSpec(name, path, operations, api_key_env, token_env, values, simulator, definitions)


def _definitions(spec: Path, value: str | None) -> Path | None:
    """The spec's definitions file, refused (UsageError) unless it is a JSONL file that exists:
    a job without its definitions would plan their associations against fields it lacks."""
    if value is None:
        return None
    path = spec.parent / value
    expected = RUN_KEYS["definitions"][1]
    if suffix_format(path) != "jsonl":
        raise UsageError(
            f"{spec}: definitions: found {show(value)}; expected {expected} "
            "(.jsonl, .jsonl.gz, .ndjson; a CSV cell holds a choices list badly)"
        )
    if not path.exists():
        raise UsageError(
            f"{spec}: definitions: found {show(value)}, and {path} does not exist; expected "
            f"{expected}"
        )
    require_regular(path, "definitions file")
    return path


MAX_SPEC_BYTES = 1 << 20  # a spec is a few lines


def _table(path: Path) -> dict[str, Any]:
    """The spec's TOML table; UsageError naming the spec for anything that is not one."""
    require_regular(path, "job spec")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the job spec: {exc.strerror or exc}") from exc
    if len(data) > MAX_SPEC_BYTES:
        raise UsageError(
            f"{path}: found a job spec over {MAX_SPEC_BYTES} bytes; expected a few lines"
        )
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise UsageError(
            f"{path}: not valid TOML here: arrays or tables nested too deeply"
        ) from exc
    except ValueError as exc:  # int() refuses a digit string past sys.get_int_max_str_digits()
        raise UsageError(f"{path}: not valid TOML here: an integer of too many digits") from exc


# the spec's keys naming a place the run writes to, and the flag that may name any place
WRITTEN_PATHS = {"out": ("--out", "a folder"), "metrics_file": ("--metrics-file", "a file")}


def _confined(spec: Path, key: str, value: str, *, flag: str, noun: str) -> str:
    """A path the run writes to, refused unless under the spec's or the current folder (above)."""
    target = os.path.normpath(os.path.join(os.path.abspath(spec.parent), value))
    places = (os.path.abspath(spec.parent), os.getcwd())
    if not any(os.path.commonpath([place, target]) == place for place in places):
        raise UsageError(
            f"{spec}: {key}: found {show(value)}; expected {noun} under the spec's folder or "
            f"the current folder. To write elsewhere, take {key} from the spec and give {flag}"
        )
    return str(spec.parent / value)


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
            expected_keys = _keys(key, keys, tables)
            problems.append(f"{path}: {prefix}{_key(key)}: found an unknown key; {expected_keys}")
            continue
        check, expected = keys[key]
        checked = check(value)
        if checked is None:
            whole = f"{path}: {prefix}{key}: found {_found(value)}; expected {expected}"
            problems.extend((_entry_problems(path, key, value) if not prefix else []) or [whole])
        else:
            values[key] = checked
    return values


def _entry_problems(path: Path, key: str, value: object) -> list[str]:
    """`spec.toml: protect[2]: found ...; expected ...` for each entry of a list of strings its
    grammar refuses (counted from 0, as TOML's arrays are); none for any other key or value."""
    if key not in ENTRY_GRAMMARS or not isinstance(value, list):
        return []
    if not all(isinstance(entry, str) for entry in value):
        return []
    read, expected = ENTRY_GRAMMARS[key]
    return [
        f"{path}: {key}[{index}]: found {show(entry)}; expected {expected}"
        for index, entry in enumerate(value)
        if read(entry) is None
    ]


def _key(key: str) -> str:
    """A key as found: bare when it is a plain name, else quoted and escaped."""
    return key if key.isidentifier() else show(key)


def _keys(key: str, keys: dict[str, tuple[Check, str]], tables: set[str]) -> str:
    """What would be valid: the closest keys to `key` when some are close, else all of them."""
    close = did_you_mean(key, [*keys, *tables])
    listed = ", ".join([*keys, *sorted(tables)])
    return f"expected a known key: {close}" if close else f"expected one of {listed}"


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
