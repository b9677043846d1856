"""The fleet manifest (TOML) -> Manifest: the default job, the out folder, the orgs by name.

`[defaults]` and each `[[org]]` take any run option a job spec takes (job.spec's checks, from
options.py's one table); every problem is reported at once as `path:line: key: found X;
expected Y` in one UsageError, with a "did you mean" for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.job.spec import RUN_KEYS, SPEC_KEYS
from scf_batch.text import show

ORG_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_MANIFEST_BYTES = 1 << 20
TOP_KEYS = {"job", "out", "parallel", "workers", "defaults", "org"}
OPTION_KEYS = {k: v for k, v in RUN_KEYS.items() if k not in SPEC_KEYS}
# Run options that are the fleet's, not an org's: why each is refused in [defaults] or [[org]].
NOT_PER_ORG = {
    "out": "each org's run folder is <out>/<org name>/: set the manifest's top-level out",
    "metrics_file": (
        "a fleet writes one metrics file, every org's samples in it: fleet run --metrics-file"
    ),
    "ping_url": "a fleet sends one heartbeat for all its orgs: fleet run --ping-url",
    "exit_zero_on_stop": "the fleet's exit code is the fleet's (4 when orgs stopped early)",
}
ORG_OPTION_KEYS = {k for k in OPTION_KEYS if k not in NOT_PER_ORG}
ORG_KEYS = {"name", "api_key_env", "token_env", "organization_id", "job", *ORG_OPTION_KEYS}
Where = Callable[..., str]
_KEY_LINE = re.compile(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=')
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")


@dataclass(frozen=True, slots=True)
class FleetOrg:
    """One org of the fleet: its name (folder and label), key variable, pin, job and options."""

    name: str
    position: int
    job: Path
    api_key_env: str | None = None
    token_env: str | None = None
    organization_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A fleet: where it writes, how many orgs at once (in how many processes: `workers`,
    None for one per usable core), and its orgs in manifest order."""

    path: Path
    out: Path
    parallel: int
    orgs: tuple[FleetOrg, ...]
    workers: int | None = None

    def select(
        self, names: tuple[str, ...] = (), shard: tuple[int, int] | None = None
    ) -> list[FleetOrg]:
        """The orgs named (all when none), then those at positions I mod N of the shard."""
        unknown = [n for n in names if n not in {o.name for o in self.orgs}]
        if unknown:
            known = ", ".join(o.name for o in self.orgs)
            raise UsageError(f"--org: found {show(unknown[0])}; expected one of {known}")
        chosen = [o for o in self.orgs if not names or o.name in names]
        if shard is not None:
            index, count = shard
            chosen = [o for o in chosen if o.position % count == index]
        return chosen


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` -> (I, N), with 0 <= I < N; UsageError otherwise."""
    match = re.fullmatch(r"(\d{1,6})/(\d{1,6})", text.strip())
    if match is None or not int(match[1]) < int(match[2]):
        raise UsageError(f"--shard: found {show(text)}; expected I/N with 0 <= I < N, e.g. 0/4")
    return int(match[1]), int(match[2])


class _Lines:
    """Where each key of the manifest stands: (table, key) -> 1-based line."""

    def __init__(self, text: str) -> None:
        self.where: dict[tuple[str, str], int] = {}
        table, orgs = "", -1
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header is not None:
                orgs += header[2] == "org" and header[1] == "[["
                table = f"org{orgs}" if header[2] == "org" else header[2]
                self.where.setdefault((table, ""), number)
                continue
            key = _KEY_LINE.match(line)
            if key is not None:
                self.where.setdefault((table, key[1]), number)

    def line(self, table: str, key: str = "") -> int:
        return self.where.get((table, key)) or self.where.get((table, ""), 1)


def load_manifest(path: Path, *, out: Path | None = None) -> Manifest:
    """Read and check a manifest; one UsageError lists every problem with its path:line.

    `out` (the command line's --out) replaces the manifest's out folder."""
    text = _text(path)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    except (RecursionError, ValueError) as exc:
        raise UsageError(f"{path}: not valid TOML: nested too deeply or too many digits") from exc
    lines = _Lines(text)
    problems: list[str] = []

    def where(table_name: str, key: str = "") -> str:
        return f"{path}:{lines.line(table_name, key)}"

    _unknown(table, TOP_KEYS, "", "", where=where, problems=problems)
    default_job = table.get("job")
    if not isinstance(default_job, str | None):
        problems.append(f"{where('', 'job')}: job: found {_shown(default_job)}; expected a file")
        default_job = None
    out_text = table.get("out", "runs/fleet")
    if not isinstance(out_text, str) or not out_text:
        problems.append(f"{where('', 'out')}: out: found {_shown(out_text)}; expected a folder")
        out_text = "runs/fleet"
    parallel = table.get("parallel", 8)
    if not isinstance(parallel, int) or isinstance(parallel, bool) or not 1 <= parallel <= 1000:
        problems.append(
            f"{where('', 'parallel')}: parallel: found {_shown(parallel)}; "
            "expected an integer from 1 to 1000"
        )
        parallel = 1
    workers = table.get("workers")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 256
    ):
        problems.append(
            f"{where('', 'workers')}: workers: found {_shown(workers)}; "
            "expected an integer from 1 to 256 (leave it out: one per usable core)"
        )
        workers = None
    defaults = _options(table.get("defaults", {}), "defaults", where, problems)
    orgs = _orgs(path, table.get("org", []), default_job, defaults, where=where, problems=problems)
    if problems:
        raise UsageError("\n".join(problems))
    folder = out if out is not None else path.parent / out_text
    return Manifest(path, folder, parallel, tuple(orgs), workers)


def _text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the fleet manifest: {exc.strerror or exc}") from exc
    if len(data) > MAX_MANIFEST_BYTES:
        raise UsageError(f"{path}: found a manifest over {MAX_MANIFEST_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text: {exc}") from exc


def _unknown(
    table: dict[str, Any],
    keys: set[str],
    prefix: str,
    where_table: str,
    *,
    where: Where,
    problems: list[str],
    reported: Collection[str] = (),
) -> None:
    """An unknown key, each, with its line and the nearest known key (`reported`: keys that
    are refused elsewhere, with why)."""
    for key in table:
        if key not in keys and key not in reported:
            near = difflib.get_close_matches(key, sorted(keys), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append(
                f"{where(where_table, key)}: {prefix}{key}: found an unknown key{hint}; "
                f"expected one of {', '.join(sorted(keys))}"
            )


def _options(table: object, where_table: str, where: Where, problems: list[str]) -> dict[str, Any]:
    """The run options of `[defaults]` or an org, checked by the job spec's own checks."""
    if not isinstance(table, dict):
        problems.append(
            f"{where(where_table)}: {where_table}: found {_shown(table)}; expected a table"
        )
        return {}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in NOT_PER_ORG:
            why = NOT_PER_ORG[key]
            problems.append(f"{where(where_table, key)}: {key}: not a key of a fleet's org: {why}")
            continue
        if key not in OPTION_KEYS:
            continue
        check, expected = OPTION_KEYS[key]
        checked = check(value)
        if checked is None:
            problems.append(
                f"{where(where_table, key)}: {key}: found {_shown(value)}; expected {expected}"
            )
        else:
            values[key] = checked
    if where_table == "defaults":
        _unknown(
            table,
            ORG_OPTION_KEYS,
            "defaults.",
            "defaults",
            where=where,
            problems=problems,
            reported=NOT_PER_ORG,
        )
    return values


def _orgs(
    path: Path,
    items: object,
    default_job: str | None,
    defaults: dict[str, Any],
    *,
    where: Where,
    problems: list[str],
) -> list[FleetOrg]:
    """Each `[[org]]`, checked: a valid unique name, one key variable, a job file that exists."""
    if not isinstance(items, list) or not items:
        problems.append(f"{where('')}: org: found none; expected [[org]] tables, one per org")
        return []
    orgs: list[FleetOrg] = []
    for position, item in enumerate(items):
        org = _org(path, position, item, default_job, where=where, problems=problems)
        if org is None:
            continue
        if org.name in {o.name for o in orgs}:
            problems.append(
                f"{where(f'org{position}', 'name')}: name: found {show(org.name)} twice; "
                "expected unique names"
            )
        org.options.update({**defaults, **org.options})
        orgs.append(org)
    return orgs


def _org(
    path: Path,
    position: int,
    item: object,
    default_job: str | None,
    *,
    where: Where,
    problems: list[str],
) -> FleetOrg | None:
    """One `[[org]]` table, or None when it cannot stand (its problems added)."""
    table_name = f"org{position}"
    if not isinstance(item, dict):
        problems.append(f"{where(table_name)}: org: found {_shown(item)}; expected a table")
        return None
    _unknown(
        item, ORG_KEYS, "org.", table_name, where=where, problems=problems, reported=NOT_PER_ORG
    )
    name = item.get("name")
    if not isinstance(name, str) or not ORG_NAME.fullmatch(name):
        problems.append(
            f"{where(table_name, 'name')}: name: found {_shown(name)}; "
            "expected 1 to 64 letters, digits, - and _"
        )
        return None
    for key in ("api_key_env", "token_env"):
        if key in item and SPEC_KEYS[key][0](item[key]) is None:
            problems.append(
                f"{where(table_name, key)}: {key}: found {_shown(item[key])}; "
                "expected an environment variable name"
            )
    job = item.get("job", default_job)
    if not isinstance(job, str):
        problems.append(
            f"{where(table_name)}: job: found none for {show(name)}; "
            "expected a job file in the org or at the top"
        )
        return None
    job_path = path.parent / job
    if not job_path.is_file():
        line = where(table_name, "job") if "job" in item else where("", "job")
        problems.append(
            f"{line}: job: found no file {job_path}; expected an operations file or job spec"
        )
    options = _options(item, table_name, where, problems)
    return FleetOrg(
        name,
        position,
        job_path,
        item.get("api_key_env"),
        item.get("token_env"),
        options.get("organization_id"),
        options,
    )


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "nothing"
    return show(value) if isinstance(value, str | int | float | bool) else type(value).__name__
