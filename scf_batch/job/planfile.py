"""The saved plan (`plan JOB -o PLAN.json`): its typed record, and its one reader and writer.

A plan is a job-like input file people review in a pull request, so its text is stable and
diff-friendly: JSON indented by 2 with sorted keys, one step per object, and no value that
changes between two plans of the same state but `created_at`. It holds the job (its paths as
given and the operations file's fingerprint), the org, the base URL when it is not Close's, each
step by name with its before and after, and the state the plan was made from of every pair and
field its rows name (plan/saved.py builds and compares them). No credential is ever in it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scf_batch.errors import UsageError
from scf_batch.job.files import require_regular

PLAN_FORMAT = "scf-batch plan"
PLAN_VERSION = 1
MAX_PLAN_BYTES = 64 << 20  # an org's configuration, by name: far below this
JOB_SUFFIXES = (".toml", ".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """The job a plan was made of: its spec, operations file and definitions file (when the
    spec names one) as given, and the job's fingerprint (opsfile.OperationsFile.fingerprint)."""

    spec: str | None
    operations: str
    fingerprint: str
    definitions: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedOrg:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class SavedStep:
    """One line of the plan: the row's step by name (`detail`: field, target, before, after,
    changes), and the line `plan` shows for it."""

    row: int
    line: int
    action: str
    kind: str
    shown: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> Json:
        return {
            "row": self.row,
            "line": self.line,
            "action": self.action,
            "kind": self.kind,
            "shown": self.shown,
            **self.detail,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SavedStep:
        head = ("row", "line", "action", "kind", "shown")
        row, line, action, kind, shown = (obj[key] for key in head)
        if not (isinstance(row, int) and isinstance(line, int)):
            raise TypeError("row and line are numbers")
        detail = {k: v for k, v in obj.items() if k not in head}
        return cls(row, line, str(action), str(kind), str(shown), detail)


@dataclass(frozen=True, slots=True)
class PlannedState:
    """What the plan saw of one pair (`target` set) or one field (`target` None): its settings
    by name, or None when it was absent."""

    field: str
    target: str | None
    state: Mapping[str, Any] | None

    @property
    def label(self) -> str:
        """`"Industry" → lead`, or `field "Industry"`."""
        if self.target is None:
            return f'field "{self.field}"'
        return f'"{self.field}" → {self.target}'

    def to_json(self) -> Json:
        found: Json = {"field": self.field, "state": self.state}
        if self.target is not None:
            found["target"] = self.target
        return found

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PlannedState:
        state = obj["state"]
        if state is not None and not isinstance(state, dict):
            raise TypeError("a state is an object or null")
        target = obj.get("target")
        return cls(str(obj["field"]), None if target is None else str(target), state)


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan as saved: what `run PLAN.json` applies and `plan PLAN.json` shows."""

    created_at: str
    job: PlannedJob
    org: PlannedOrg
    base_url: str | None
    steps: tuple[SavedStep, ...]
    pairs: tuple[PlannedState, ...]
    fields: tuple[PlannedState, ...]
    counts: Mapping[str, Any]  # as `plan --format json` prints its summary

    def to_json(self) -> Json:
        document: Json = {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "created_at": self.created_at,
            "job": {
                "spec": self.job.spec,
                "operations": self.job.operations,
                "fingerprint": self.job.fingerprint,
            },
            "org": {"id": self.org.id, "name": self.org.name},
            "steps": [step.to_json() for step in self.steps],
            "planned_from": {
                "pairs": [state.to_json() for state in self.pairs],
                "fields": [state.to_json() for state in self.fields],
            },
            "counts": dict(self.counts),
        }
        if self.job.definitions is not None:
            document["job"]["definitions"] = self.job.definitions
        if self.base_url is not None:
            document["base_url"] = self.base_url
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SavedPlan:
        job, org, planned = document["job"], document["org"], document["planned_from"]
        base_url = document.get("base_url")
        return cls(
            str(document["created_at"]),
            _planned_job(job),
            PlannedOrg(str(org["id"]), str(org["name"])),
            None if base_url is None else str(base_url),
            tuple(SavedStep.from_json(step) for step in document["steps"]),
            tuple(PlannedState.from_json(state) for state in planned["pairs"]),
            tuple(PlannedState.from_json(state) for state in planned["fields"]),
            dict(document["counts"]),
        )


def render_plan(plan: SavedPlan) -> str:
    """The plan's text: sorted keys, indent 2, a final newline."""
    return json.dumps(plan.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan_id(plan: SavedPlan) -> str:
    """The plan's identity: sha256 of its text (created_at included: two plans, two ids)."""
    return hashlib.sha256(render_plan(plan).encode("utf-8")).hexdigest()


def parse_plan(text: str, where: str) -> SavedPlan:
    """The plan `text` holds; UsageError naming `where` when it is not a plan of this version."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where}: found invalid JSON ({exc}); expected a saved plan") from exc
    if not isinstance(document, dict) or document.get("format") != PLAN_FORMAT:
        raise UsageError(f'{where}: format: expected "{PLAN_FORMAT}" (scf-batch plan JOB -o)')
    version = document.get("version")
    if version != PLAN_VERSION:
        raise UsageError(
            f"{where}: version: found {version!r}; expected {PLAN_VERSION} "
            "(make the plan again with this scf-batch)"
        )
    try:
        return SavedPlan.from_json(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{where}: found a damaged plan ({exc!r}); expected one as saved") from exc


def is_plan_file(path: Path) -> bool:
    """A saved plan, told by its content: a file without a job's suffix that holds a JSON
    object (a `.json` name is not needed; `read_plan` refuses an object of another format)."""
    if path.name.lower().endswith(JOB_SUFFIXES) or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(256).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def read_plan(path: Path) -> SavedPlan:
    """The saved plan at `path` (UsageError when it cannot be read or is not one)."""
    require_regular(path, "saved plan")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_PLAN_BYTES:
        raise UsageError(f"{path}: found more than {MAX_PLAN_BYTES >> 20} MiB; expected a plan")
    return parse_plan(raw.decode("utf-8", errors="replace"), str(path))


def write_plan(path: Path, plan: SavedPlan) -> None:
    """Write the plan whole or not at all (a temporary file beside it, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(render_plan(plan))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write the plan: {exc.strerror or exc}") from exc


def _planned_job(job: Mapping[str, Any]) -> PlannedJob:
    definitions = job.get("definitions")
    return PlannedJob(
        job["spec"],
        str(job["operations"]),
        str(job["fingerprint"]),
        None if definitions is None else str(definitions),
    )
