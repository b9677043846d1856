"""What became of each org of a fleet, the fleet's exit code, and the table that shows them.

Pure: an `OrgVerdict` is made from an org's plan report, its run report, or the error that
stopped it, and the fleet's verdict from the orgs' exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome, Status
from scf_batch.text import quoted

# the run's outcomes that changed the org, by the plan's word for them
CREATED = {Outcome.CREATED.value, Outcome.RECREATED.value}
UPDATED = {Outcome.UPDATED.value}
DELETED = {Outcome.DELETED.value}


@dataclass(frozen=True, slots=True)
class OrgVerdict:
    """One org of a fleet: which Close org it is, its counts by kind of change, and how it
    ended (`exit_code`, and `reason` when it ended before or outside its rows)."""

    name: str
    exit_code: ExitCode
    reason: str = ""
    org_id: str | None = None
    org_name: str | None = None
    create: int = 0
    update: int = 0
    delete: int = 0
    unchanged: int = 0
    failing: int = 0
    invalid: int = 0
    folder: str = ""

    @property
    def changes(self) -> int:
        return self.create + self.update + self.delete

    @property
    def meaning(self) -> str:
        return self.exit_code.meaning

    def document(self) -> dict[str, Any]:
        """The org's entry in fleet-summary.json and in `--format json`."""
        return {**asdict(self), "exit_code": int(self.exit_code), "meaning": self.meaning}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> OrgVerdict:
        """An entry read back from fleet-summary.json (checked by its reader)."""
        fields = {k: document[k] for k in cls.__slots__ if k in document}
        return cls(**{**fields, "exit_code": ExitCode(document["exit_code"])})


def stopped(name: str, code: ExitCode, reason: str, *, folder: str = "") -> OrgVerdict:
    """An org that ended by an error before or outside its rows (a key unset or refused, a
    pin to another org, an invalid job, a held lock)."""
    return OrgVerdict(name, code, reason=reason, folder=folder)


def run_counts(by_outcome: Mapping[str, int]) -> dict[str, int]:
    """A run's tally (`status/outcome` -> rows) as the plan's kinds of change."""
    counts = {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "failing": 0, "invalid": 0}
    for key, rows in by_outcome.items():
        status, _, outcome = key.partition("/")
        if status == Status.FAILED.value:
            counts["failing"] += rows
        elif status == Status.INVALID.value:
            counts["invalid"] += rows
        elif outcome in CREATED:
            counts["create"] += rows
        elif outcome in UPDATED:
            counts["update"] += rows
        elif outcome in DELETED:
            counts["delete"] += rows
        else:
            counts["unchanged"] += rows
    return counts


FLEET_MEANINGS = {
    ExitCode.OK: "every org ok",
    ExitCode.ROWS_FAILED: "some orgs did not end ok (each org's exit code is in the summary)",
    ExitCode.STOPPED_EARLY: "stopped early on purpose (--limit or --max-duration); rerun",
    ExitCode.INTERRUPTED: "interrupted; rerun the same command to continue",
}


def fleet_meaning(code: ExitCode) -> str:
    return FLEET_MEANINGS.get(code, code.meaning)


def latest_verdicts(documents: Iterable[Mapping[str, Any]]) -> list[OrgVerdict]:
    """Each org's verdict from summaries read oldest first: the newest one wins, in the order
    orgs were first seen."""
    latest: dict[str, OrgVerdict] = {}
    for document in documents:
        verdict = OrgVerdict.from_document(document)
        latest[verdict.name] = verdict
    return list(latest.values())


def fleet_exit_code(verdicts: Iterable[OrgVerdict], *, interrupted: bool = False) -> ExitCode:
    """0 when every org exited 0; 130 when the fleet was interrupted; 4 when the only
    non-zero codes are deliberate early stops; else 1 (each org's own code is in the summary)."""
    if interrupted:
        return ExitCode.INTERRUPTED
    codes = {v.exit_code for v in verdicts} - {ExitCode.OK}
    if not codes:
        return ExitCode.OK
    if codes == {ExitCode.STOPPED_EARLY}:
        return ExitCode.STOPPED_EARLY
    return ExitCode.ROWS_FAILED


PLAN_COLUMNS = ("org", "close org", "create", "update", "delete", "nothing", "failing", "invalid")
RUN_COLUMNS = ("org", "close org", "exit", "created", "updated", "deleted", "unchanged", "failed")


def plan_table(verdicts: list[OrgVerdict]) -> str:
    """One line per org, then the fleet's totals; an org that could not be planned says why."""
    rows = [_plan_row(v) for v in verdicts]
    totals = [sum(getattr(v, k) for v in verdicts) for k in _PLAN_KINDS]
    changing = sum(1 for v in verdicts if v.changes)
    stopped_orgs = sum(1 for v in verdicts if v.exit_code is not ExitCode.OK)
    rows.append(["total", f"{len(verdicts)} org(s)", *map(str, totals), ""])
    text = _table([*PLAN_COLUMNS, "verdict"], rows)
    return (
        f"{text}\n{changing} of {len(verdicts)} org(s) would change; "
        f"{stopped_orgs} could not be planned"
    )


def run_table(verdicts: list[OrgVerdict], code: ExitCode) -> str:
    """One line per org with its exit code and counts, then the fleet's verdict."""
    rows = [_run_row(v) for v in verdicts]
    totals = [sum(getattr(v, k) for v in verdicts) for k in _RUN_KINDS]
    rows.append(["total", f"{len(verdicts)} org(s)", "", *map(str, totals), ""])
    text = _table([*RUN_COLUMNS, "verdict"], rows)
    ok = sum(1 for v in verdicts if v.exit_code is ExitCode.OK)
    meaning = fleet_meaning(code)
    return f"{text}\nfleet: {ok} of {len(verdicts)} org(s) ok; exit {int(code)} ({meaning})"


_PLAN_KINDS = ("create", "update", "delete", "unchanged", "failing", "invalid")
_RUN_KINDS = ("create", "update", "delete", "unchanged", "failing")


def _close_org(verdict: OrgVerdict) -> str:
    return "-" if verdict.org_name is None else quoted(verdict.org_name)


def _plan_row(verdict: OrgVerdict) -> list[str]:
    counts = [str(getattr(verdict, k)) for k in _PLAN_KINDS]
    if verdict.exit_code is not ExitCode.OK:
        why = verdict.reason or verdict.meaning
    else:
        why = "would change" if verdict.changes else "nothing to do"
    return [verdict.name, _close_org(verdict), *counts, why]


def _run_row(verdict: OrgVerdict) -> list[str]:
    counts = [str(getattr(verdict, k)) for k in _RUN_KINDS]
    why = verdict.reason or verdict.meaning
    return [verdict.name, _close_org(verdict), str(int(verdict.exit_code)), *counts, why]


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns; the last column (a reason) is cut to one line."""
    lines = [header, *([*row[:-1], _one_line(row[-1])] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[-1]]
        ).rstrip()
        for line in lines
    )


def _one_line(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= 100 else first[:99] + "…"
