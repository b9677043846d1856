"""What the run folder's files hold, as typed records: a result line, the checkpoint, the summary
and the figures a pass adds up over its runs. No I/O: each record reads itself from the JSON
document its file holds (`from_json`, raising ValueError naming the field at fault) and writes
itself back (`to_json`), in the contract's field order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome, RowResult, Status

CHECKPOINT_VERSION = 2
# A job of more rows than this is not an org's configuration: a bound on what a damaged or
# planted file can make a reader hold.
MAX_ROWS = 100_000_000
_STATUSES = frozenset(status.value for status in Status)
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)
_EXIT_CODES = frozenset(int(code) for code in ExitCode)


def _found(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(document: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = document.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name}: got {_found(value)}, expected a whole number")
    return value


def _optional_text(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name}: got {_found(value)}, expected text or null")
    return value


def _text(document: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = document.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name}: got {_found(value)}, expected text")
    return value


def _number(document: Mapping[str, Any], name: str, default: float = 0.0) -> float:
    value = document.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{name}: got {_found(value)}, expected a number")
    return float(value)


def _counts(document: Mapping[str, Any], name: str) -> dict[str, int]:
    value = document.get(name, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool)
        for k, n in value.items()
    ):
        raise ValueError(f"{name}: got {_found(value)}, expected counts by name")
    return dict(value)


def _object(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name}: got {_found(value)}, expected a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class LineError:
    """The error of a result line: Close's message and each field's complaint."""

    message: str | None
    field_errors: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The error on one line: its message, then each field's error."""
        parts = [self.message] if self.message else []
        parts.extend(f"{name}: {complaint}" for name, complaint in self.field_errors)
        return "; ".join(parts)

    @classmethod
    def from_json(cls, value: object) -> LineError | None:
        if value is None:
            return None
        document = _object(value, "error")
        fields = document.get("field_errors") or {}
        if not isinstance(fields, dict):
            raise ValueError(f"error.field_errors: got {_found(fields)}, expected an object")
        message = document.get("message")
        return cls(
            None if message is None else str(message),
            tuple((str(name), str(text)) for name, text in fields.items()),
        )


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One line of results.jsonl: what happened to one input row."""

    row: int
    line: int
    key: str | None
    action: str
    status: Status
    outcome: Outcome
    scf_id: str | None = None
    scf_name: str | None = None
    object_type: str | None = None
    target: str | None = None
    target_name: str | None = None
    org: str | None = None
    http_status: int | None = None
    requests: int = 0
    retries: int = 0
    error: LineError | None = None
    duration_ms: int = 0
    finished_at: str = ""
    note: str | None = None

    @property
    def error_text(self) -> str:
        return "" if self.error is None else self.error.text

    @classmethod
    def of(cls, result: RowResult) -> ResultLine:
        """The line a row's result gets."""
        error = None
        if result.error is not None or result.field_errors:
            error = LineError(result.error, result.field_errors)
        return cls(
            row=result.row,
            line=result.line,
            key=result.key,
            action=result.action,
            status=result.status,
            outcome=result.outcome,
            scf_id=result.scf_id,
            scf_name=result.scf_name,
            object_type=result.object_type,
            target=result.target,
            target_name=result.target_name,
            org=result.org,
            http_status=result.http_status,
            requests=result.requests,
            retries=result.retries,
            error=error,
            duration_ms=result.duration_ms,
            finished_at=result.finished_at,
            note=result.note,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the line, in the contract's field order."""
        error = None
        if self.error is not None:
            error = {"message": self.error.message, "field_errors": dict(self.error.field_errors)}
        note = {"note": self.note} if self.note is not None else {}
        return {
            "row": self.row,
            "line": self.line,
            "key": self.key,
            "action": self.action,
            "scf_id": self.scf_id,
            "scf_name": self.scf_name,
            "object_type": self.object_type,
            "target": self.target,
            "target_name": self.target_name,
            "org": self.org,
            "status": self.status.value,
            "outcome": self.outcome.value,
            "http_status": self.http_status,
            "requests": self.requests,
            "retries": self.retries,
            "error": error,
            "duration_ms": self.duration_ms,
            "finished_at": self.finished_at,
            **note,
        }

    @classmethod
    def from_json(cls, value: object) -> ResultLine:
        """The line of a parsed JSON value; ValueError names the first field at fault."""
        document = _object(value, "line")
        row = _whole(document, "row")
        if not 1 <= row <= MAX_ROWS:
            raise ValueError(f"row: got {row}, expected 1 to {MAX_ROWS}")
        status, outcome = document.get("status"), document.get("outcome")
        if not isinstance(status, str) or status not in _STATUSES:
            raise ValueError(f"status: got {_found(status)}, expected one of {', '.join(Status)}")
        if not isinstance(outcome, str) or outcome not in _OUTCOMES:
            raise ValueError(f"outcome: got {_found(outcome)}, expected an outcome")
        http_status = document.get("http_status")
        if http_status is not None:
            http_status = _whole(document, "http_status")
        texts = ("key", "scf_id", "scf_name", "object_type", "target", "target_name", "org")
        optional = {name: _optional_text(document, name) for name in (*texts, "note")}
        return cls(
            row=row,
            line=_whole(document, "line", 0),
            action=_optional_text(document, "action") or "",
            status=Status(status),
            outcome=Outcome(outcome),
            http_status=http_status,
            requests=_whole(document, "requests", 0),
            retries=_whole(document, "retries", 0),
            error=LineError.from_json(document.get("error")),
            duration_ms=_whole(document, "duration_ms", 0),
            finished_at=_text(document, "finished_at", ""),
            **optional,
        )


@dataclass(frozen=True, slots=True)
class RecordedOrg:
    """The org a pass ran against, as its files name it."""

    id: str
    name: str

    def __str__(self) -> str:
        return f'"{self.name}" ({self.id})'

    @classmethod
    def from_json(cls, value: object) -> RecordedOrg | None:
        if not isinstance(value, dict) or not {"id", "name"} <= value.keys():
            return None
        return cls(str(value["id"]), str(value["name"]))

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class Second:
    """One second of a pass's timeline: requests sent, 429s met and rows finished in it."""

    t_s: float
    requests: int = 0
    rate_limited: int = 0
    rows: int = 0

    def to_json(self) -> dict[str, float]:
        return {
            "t_s": self.t_s,
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, value: object) -> Second:
        document = _object(value, "timeline")
        return cls(
            _number(document, "t_s"),
            int(_number(document, "requests")),
            int(_number(document, "rate_limited")),
            int(_number(document, "rows")),
        )


@dataclass(frozen=True, slots=True)
class PassTotals:
    """What a pass's runs add up to: requests, 429s, time, and the timeline since its start."""

    elapsed_s: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    requests_by_group: Mapping[str, int] = field(default_factory=dict)
    timeline: tuple[Second, ...] = ()
    runs: int = 0

    def plus(self, run: PassTotals) -> PassTotals:
        """These totals and one more run's (its timeline already placed in the pass's time)."""
        groups = dict(self.requests_by_group)
        for group, count in run.requests_by_group.items():
            groups[group] = groups.get(group, 0) + count
        seconds = {second.t_s: second for second in self.timeline}
        for second in run.timeline:
            before = seconds.get(second.t_s, Second(second.t_s))
            seconds[second.t_s] = Second(
                second.t_s,
                before.requests + second.requests,
                before.rate_limited + second.rate_limited,
                before.rows + second.rows,
            )
        return PassTotals(
            self.elapsed_s + run.elapsed_s,
            self.requests + run.requests,
            self.rate_limited + run.rate_limited,
            groups,
            tuple(seconds[t_s] for t_s in sorted(seconds)),
            self.runs + run.runs,
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """summary.json: how the last run of a pass ended, with the figures of the whole pass."""

    job: str
    org: RecordedOrg | None
    pass_number: int
    started_at: str
    exit_code: ExitCode
    reason: str | None
    rows_total: int
    rows_done: int
    rows_done_before_this_run: int
    rows_retried_this_run: int
    by_status: Mapping[str, int]
    by_outcome: Mapping[str, int]
    rate_per_s_ceiling: float
    totals: PassTotals

    def to_json(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "job": self.job,
            "org": None if self.org is None else self.org.to_json(),
            "pass": self.pass_number,
            "started_at": self.started_at,
            "exit_code": int(self.exit_code),
            "reason": self.reason,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "rows_remaining": self.rows_total - self.rows_done,
            "rows_done_before_this_run": self.rows_done_before_this_run,
            "rows_retried_this_run": self.rows_retried_this_run,
            "by_status": dict(self.by_status),
            "by_outcome": dict(self.by_outcome),
            "elapsed_s": round(totals.elapsed_s, 3),
            "requests": totals.requests,
            "rate_limited": totals.rate_limited,
            "rate_per_s_ceiling": self.rate_per_s_ceiling,
            "requests_by_group": dict(totals.requests_by_group),
            "timeline": [second.to_json() for second in totals.timeline],
            "runs": totals.runs,
        }

    @classmethod
    def from_json(cls, value: object) -> Summary:
        """A summary.json; fields it lacks take their empty value, a wrong type is refused."""
        document = _object(value, "summary")
        code = document.get("exit_code")
        if not isinstance(code, int) or isinstance(code, bool) or code not in _EXIT_CODES:
            raise ValueError(f"exit_code: got {_found(code)}, expected an exit code")
        timeline = document.get("timeline", [])
        if not isinstance(timeline, list):
            raise ValueError(f"timeline: got {_found(timeline)}, expected a list")
        totals = PassTotals(
            _number(document, "elapsed_s"),
            _whole(document, "requests", 0),
            _whole(document, "rate_limited", 0),
            _counts(document, "requests_by_group"),
            tuple(Second.from_json(second) for second in timeline),
            _whole(document, "runs", 1),
        )
        reason = document.get("reason")
        return cls(
            job=str(document.get("job", "")),
            org=RecordedOrg.from_json(document.get("org")),
            pass_number=_whole(document, "pass", 0),
            started_at=str(document.get("started_at", "")),
            exit_code=ExitCode(code),
            reason=None if reason is None else str(reason),
            rows_total=_whole(document, "rows_total", 0),
            rows_done=_whole(document, "rows_done", 0),
            rows_done_before_this_run=_whole(document, "rows_done_before_this_run", 0),
            rows_retried_this_run=_whole(document, "rows_retried_this_run", 0),
            by_status=_counts(document, "by_status"),
            by_outcome=_counts(document, "by_outcome"),
            rate_per_s_ceiling=_number(document, "rate_per_s_ceiling"),
            totals=totals,
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """checkpoint.json: which pass, of which input, with which settings, and how far it got."""

    job: str
    pass_number: int
    started_at: str
    input_path: str
    fingerprint: str
    settings: Mapping[str, Any]
    org: RecordedOrg | None
    rows_total: int
    rows_done: int
    complete: bool
    updated_at: str
    definitions_path: str | None = None  # the spec's definitions file, read before the input

    @property
    def encoding(self) -> str | None:
        """The encoding the pass read its operations file with, when it recorded one."""
        encoding = self.settings.get("encoding")
        return encoding if isinstance(encoding, str) else None

    def to_json(self) -> dict[str, Any]:
        source: dict[str, Any] = {"path": self.input_path, "fingerprint": self.fingerprint}
        if self.definitions_path is not None:
            source["definitions"] = self.definitions_path
        return {
            "version": CHECKPOINT_VERSION,
            "job": self.job,
            "pass": self.pass_number,
            "started_at": self.started_at,
            "input": source,
            "settings": dict(self.settings),
            "org": None if self.org is None else self.org.to_json(),
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "complete": self.complete,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, value: object) -> Checkpoint:
        """The checkpoint this version writes; ValueError says what is wrong with its shape."""
        if not isinstance(value, dict):
            raise ValueError("no JSON object")
        source = value.get("input")
        checks = (
            (value.get("version") == CHECKPOINT_VERSION, f"version {value.get('version')!r}"),
            (_count(value.get("pass"), low=1), "no pass number"),
            (isinstance(value.get("complete"), bool), "no `complete` flag"),
            (isinstance(source, dict) and isinstance(source.get("fingerprint"), str), "no input"),
            (isinstance(value.get("started_at"), str), "no start time"),
            (_count(value.get("rows_total"), low=0, high=MAX_ROWS), "no row count up to 10^8"),
        )
        problem = next((problem for fine, problem in checks if not fine), None)
        if problem is not None or not isinstance(source, dict):
            raise ValueError(problem)
        settings, path, done = value.get("settings"), source.get("path"), value.get("rows_done")
        definitions = source.get("definitions")
        return cls(
            job=str(value.get("job", "")),
            pass_number=value["pass"],
            started_at=value["started_at"],
            input_path=path if isinstance(path, str) else "",
            fingerprint=source["fingerprint"],
            settings=settings if isinstance(settings, dict) else {},
            org=RecordedOrg.from_json(value.get("org")),
            rows_total=value["rows_total"],
            rows_done=done if isinstance(done, int) and _count(done, low=0) else 0,
            complete=value["complete"],
            updated_at=str(value.get("updated_at", "")),
            definitions_path=definitions if isinstance(definitions, str) else None,
        )


def _count(value: object, *, low: int, high: int | None = None) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return value >= low and (high is None or value <= high)


def utc_now() -> str:
    """Now, as the ISO 8601 UTC text result lines and checkpoints carry."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
