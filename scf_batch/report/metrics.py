"""A run in the Prometheus text format, for node_exporter's textfile collector.

One file per job (`--metrics-file`, a `*.prom` file the collector reads), replaced whole at the
end of every run, success or failure: a reader sees the last run's file or this one, never half
of one. Every sample is a gauge labelled by `job` and `org` (the org's id; the pin, or the
previous file's, while the run had not met its org; else empty).

`scf_batch_last_success_timestamp_seconds` is the end of the last run whose exit code was 0,
read back from the previous file by a run that did not succeed. It is 0 until a run first
succeeds, so one alert (`time() - scf_batch_last_success_timestamp_seconds > N`) also catches a
job that never did. A stop forgiven by --exit-zero-on-stop is no success here: a run folder
locked for good, or a --max-duration too short to ever finish, shows as an ageing last success.

A fleet (`fleet run --metrics-file`) writes one file of its own: the fleet's end, its last
success (labelled by `fleet`, the manifest's name) and each org's exit code, rows by kind of
change and drift repaired (labelled by `fleet_org`, its name in the manifest, and `org`).

`render_metrics` and `render_fleet_metrics` are pure; `read_previous` and `write_metrics` are
the file's one reader and writer.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scf_batch.models import Status
from scf_batch.report.summary import RunReport
from scf_batch.report.written import drift_repaired
from scf_batch.runfolder.durable import write_atomically

PREFIX = "scf_batch_"
LAST_SUCCESS = f"{PREFIX}last_success_timestamp_seconds"
FLEET_LAST_SUCCESS = f"{PREFIX}fleet_last_success_timestamp_seconds"
MAX_PREVIOUS_BYTES = 1 << 20  # our own file is a few KB; anything past this is not ours
FILE_MODE = 0o644  # the collector runs as another user; the file holds no secret
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
_ESCAPED = re.compile(r"\\(.)")

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How one run ended, as the metrics tell it. `report` is its summary, when the run got as
    far as its pass (a held lock or a refused spec ends before)."""

    job: str
    org_id: str | None
    exit_code: int
    ended_at_s: float  # Unix time
    duration_s: float  # the command's wall clock, from its settings to its end
    report: RunReport | None = None


@dataclass(frozen=True, slots=True)
class OrgEnd:
    """How one org of a fleet ended: its exit code, its rows by kind of change (create,
    update, delete, unchanged, failing, invalid) and the drift it repaired."""

    name: str  # the org's name in the manifest
    org_id: str | None
    exit_code: int
    rows: Mapping[str, int]
    drift_repaired: int


@dataclass(frozen=True, slots=True)
class FleetEnd:
    """How a fleet's run ended, and each of its orgs."""

    fleet: str  # the manifest's name
    exit_code: int
    ended_at_s: float  # Unix time
    duration_s: float
    orgs: tuple[OrgEnd, ...]


@dataclass(frozen=True, slots=True)
class Family:
    """One metric: its name, help and samples (extra labels, value)."""

    name: str
    help: str
    samples: tuple[tuple[Labels, float], ...]


@dataclass(frozen=True, slots=True)
class LastSuccess:
    """The previous file's last success of the job, and the org it was labelled with."""

    at_s: float
    org: str


def render_fleet_metrics(end: FleetEnd, previous: str) -> str:
    """The fleet's file: its end, its last success (kept from `previous` when this run did not
    succeed), its orgs by exit code, and each org's exit code, rows and drift repaired."""
    before = _last_success(previous, FLEET_LAST_SUCCESS, "fleet", end.fleet)
    succeeded_at_s = end.ended_at_s if end.exit_code == 0 else before.at_s if before else 0.0
    by_code = Counter(str(org.exit_code) for org in end.orgs)
    families = [
        _one("fleet_run_end_timestamp_seconds", "when the fleet's last run ended", end.ended_at_s),
        Family(
            FLEET_LAST_SUCCESS,
            "when the fleet's last run that exited 0 ended (Unix time); 0: none has yet",
            (({}, succeeded_at_s),),
        ),
        _one(
            "fleet_run_duration_seconds", "the fleet's last run's wall-clock time", end.duration_s
        ),
        _one("fleet_run_exit_code", "the fleet's last run's exit code", end.exit_code),
        Family(
            f"{PREFIX}fleet_orgs", "orgs of the last run, by exit code", _by("exit_code", by_code)
        ),
        Family(
            f"{PREFIX}fleet_org_exit_code",
            "each org's exit code in the fleet's last run",
            tuple(
                ({"fleet_org": o.name, "org": o.org_id or ""}, float(o.exit_code)) for o in end.orgs
            ),
        ),
        Family(
            f"{PREFIX}fleet_org_rows",
            "each org's rows in the fleet's last run, by kind of change",
            tuple(
                ({"fleet_org": o.name, "kind": kind}, float(o.rows[kind]))
                for o in end.orgs
                for kind in sorted(o.rows)
            ),
        ),
        Family(
            f"{PREFIX}fleet_org_drift_repaired",
            "pairs each org's pass wrote back where the org had drifted",
            tuple(({"fleet_org": o.name}, float(o.drift_repaired)) for o in end.orgs),
        ),
    ]
    common = {"fleet": end.fleet}
    return "".join(_family_text(family, common) for family in families)


def render_metrics(end: RunEnd, previous: str) -> str:
    """The file's text: this run's end, the job's last success, and the run's counts."""
    before = last_success(previous, end.job)
    org = end.org_id or (before.org if before is not None else "")
    if end.exit_code == 0:
        succeeded_at_s = end.ended_at_s
    else:
        succeeded_at_s = before.at_s if before is not None else 0.0
    families = [
        _one("run_end_timestamp_seconds", "when the last run ended (Unix time)", end.ended_at_s),
        Family(
            LAST_SUCCESS,
            "when the last run that exited 0 ended (Unix time); 0: none has yet",
            (({}, succeeded_at_s),),
        ),
        _one("run_duration_seconds", "the last run's wall-clock time", end.duration_s),
        _one("run_exit_code", "the last run's exit code (the real one)", end.exit_code),
    ]
    if end.report is not None:
        families.extend(_counts(end.report))
    common = {"job": end.job, "org": org}
    return "".join(_family_text(family, common) for family in families)


def _counts(report: RunReport) -> list[Family]:
    """What the pass holds and what the run sent, as summary.json says them."""
    tally = report.tally
    writes = {group: n for group, n in report.requests_by_group.items() if _is_write(group)}
    return [
        _one("pass_number", "the pass the last run worked on", report.pass_number),
        _one("pass_rows", "rows of the pass", report.total_rows),
        Family(
            f"{PREFIX}pass_rows_by_status",
            "rows of the pass finished, by status",
            # every status, 0 included: a series that appears only once a row fails cannot be
            # told from one that is missing
            _by("status", {status.value: tally.by_status[status.value] for status in Status}),
        ),
        Family(
            f"{PREFIX}pass_rows_by_outcome",
            "rows of the pass finished, by status and outcome",
            _by_outcome(tally.by_outcome),
        ),
        _one(
            "pass_drift_repaired",
            "pairs the pass wrote back where the org had drifted (0 in a first pass)",
            drift_repaired(tally, report.pass_number),
        ),
        Family(
            f"{PREFIX}run_requests",
            "requests the last run sent, by endpoint group",
            _by("group", report.requests_by_group),
        ),
        Family(
            f"{PREFIX}run_writes",
            "write requests (POST, PUT, DELETE) the last run sent, by endpoint group",
            _by("group", writes),
        ),
        _one("run_rate_limited", "429 answers the last run met", report.rate_limited),
    ]


def _one(name: str, help_text: str, value: float) -> Family:
    return Family(PREFIX + name, help_text, (({}, float(value)),))


def _by(label: str, counts: Mapping[str, int]) -> tuple[tuple[Labels, float], ...]:
    return tuple(({label: key}, float(counts[key])) for key in sorted(counts))


def _by_outcome(counts: Mapping[str, int]) -> tuple[tuple[Labels, float], ...]:
    """The tally's `status/outcome` keys as two labels."""
    samples = []
    for key in sorted(counts):
        status, _, outcome = key.partition("/")
        samples.append(({"status": status, "outcome": outcome}, float(counts[key])))
    return tuple(samples)


def _is_write(group: str) -> bool:
    """Endpoint groups are "METHOD route"; any method but GET changes the org."""
    return group.partition(" ")[0] in {"POST", "PUT", "PATCH", "DELETE"}


def _family_text(family: Family, common: Labels) -> str:
    lines = [
        f"# HELP {family.name} {_escape_help(family.help)}",
        f"# TYPE {family.name} gauge",
    ]
    for labels, value in family.samples:
        lines.append(f"{family.name}{{{_labels({**common, **labels})}}} {_value(value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    return ",".join(f'{name}="{escape_label(value)}"' for name, value in labels.items())


def escape_label(value: str) -> str:
    """A label value as the text format writes it: backslash, double quote and newline escaped
    (and, the file being UTF-8, a lone surrogate of an undecodable file name as `?`)."""
    value = _utf8(value)
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _utf8(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value: float) -> str:
    """Whole numbers without a fraction (counts, codes); others as Python writes them."""
    return str(int(value)) if value.is_integer() else repr(value)


def last_success(previous: str, job: str) -> LastSuccess | None:
    """The job's last success in a file this module wrote, or None (no file, another job's,
    or a value that is not a time)."""
    return _last_success(previous, LAST_SUCCESS, "job", job)


def _last_success(previous: str, name: str, label: str, value: str) -> LastSuccess | None:
    """The last success (metric `name`) labelled `label="value"` in a file this module wrote."""
    sample = re.compile(rf"^{name}\{{(?P<labels>.*)\}}[ \t]+(?P<value>\S+)", re.MULTILINE)
    for match in sample.finditer(previous):
        labels = dict(_parse_labels(match.group("labels")))
        if labels.get(label) != _utf8(value):
            continue
        try:
            at_s = float(match.group("value"))
        except ValueError:
            return None
        if not math.isfinite(at_s) or at_s < 0:
            return None
        return LastSuccess(at_s, labels.get("org", ""))
    return None


def _parse_labels(text: str) -> Iterable[tuple[str, str]]:
    for name, value in _LABEL.findall(text):
        yield name, _ESCAPED.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def read_previous(path: Path) -> str:
    """The file as the last run left it ("" when there is none), up to MAX_PREVIOUS_BYTES."""
    try:
        with path.open("rb") as stream:
            return stream.read(MAX_PREVIOUS_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def write_metrics(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (the collector never reads half a file), readable
    by the collector's user."""

    def write(handle: IO[bytes]) -> None:
        handle.write(text.encode("utf-8"))
        os.fchmod(handle.fileno(), FILE_MODE)

    write_atomically(path, write)
