"""How `validate` reads: a preparation pass's report as text for a person or one JSON document
(and the refusal of a run with invalid rows, which lists them the same way). Pure."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from scf_batch.plan.prepare import Report


def render_text(report: Report) -> str:
    """Problems one a line (first `shown`, then a count), or the summary of a clean file."""
    if not report.ok:
        lines = [str(problem) for problem in report.problems]
        hidden = report.problem_count - len(report.problems)
        if hidden > 0:
            lines.append(f"... and {hidden} more")
        if report.lacking:
            lines.append(report.lacking.render())
        where = (
            f"in {report.invalid_rows} of {report.rows} row(s)"
            if report.invalid_rows
            else "in the header"
        )
        lines.append(f"{report.path}: {report.problem_count} problem(s) {where}; nothing was sent")
        return "\n".join(lines)
    lines = [f"{report.path}: {report.rows} row(s), no problems"]
    lines.append("  by action:      " + _counts(report.by_action))
    lines.append("  by object type: " + _counts(report.by_object_type))
    if report.online:
        org = f" {report.org}" if report.org is not None else ""
        lines.append(f"  every field, type and role exists in the org{org} (checked online)")
    return "\n".join(lines)


def render_json(report: Report) -> str:
    """The same report as one JSON document."""
    document: dict[str, Any] = {
        "path": report.path,
        "ok": report.ok,
        "rows": report.rows,
        "invalid_rows": report.invalid_rows,
        "by_action": dict(sorted(report.by_action.items())),
        "by_object_type": dict(sorted(report.by_object_type.items())),
        "problem_count": report.problem_count,
        "problems": [{**asdict(problem), "message": str(problem)} for problem in report.problems],
        "online": "checked" if report.online else "not requested",
        "org": None if report.org is None else {"id": report.org.id, "name": report.org.name},
    }
    # ensure_ascii: a lone surrogate from an undecodable file must not break the output
    return json.dumps(document, indent=2)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items())) or "none"
