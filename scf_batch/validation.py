"""The `validate` report: check a job offline (and against an org's catalog), summarize, render.

Problems are counted in full but only the first `shown` are kept, so memory stays bounded however
broken the file is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio

from scf_batch.catalog import Catalog, fetch_catalog
from scf_batch.close_client import open_client
from scf_batch.errors import JobHeaderError, UsageError
from scf_batch.jobfile import check_rows, read_operations
from scf_batch.jobspec import DEFAULT_API_KEY_ENV, DEFAULT_BASE_URL, load_job
from scf_batch.models import Problem, RowError, RowKind
from scf_batch.repeats import KnownRepeats, RepeatFinder, Repeats
from scf_batch.settings import read_api_key

SHOWN_PROBLEMS = 50


@dataclass(slots=True)
class Report:
    """What validating one operations file found."""

    path: str
    shown: int = SHOWN_PROBLEMS
    rows: int = 0
    invalid_rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    by_action: Counter[str] = field(default_factory=Counter)
    by_object_type: Counter[str] = field(default_factory=Counter)
    online: str = "not requested"  # "not requested" | "checked" | "skipped: ..."
    # which pairs repeat, for later passes over the file (see repeats.py)
    repeats: KnownRepeats | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return self.problem_count == 0

    def add(self, problems: tuple[Problem, ...]) -> None:
        """Count problems; keep the first `shown` of them."""
        self.problem_count += len(problems)
        room = self.shown - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


def validate_job(
    job: Path, *, online: bool, base_url: str | None, environ: Mapping[str, str]
) -> Report:
    """`scf-batch validate`: the offline pass, then (when asked and clean) the online one."""
    spec = load_job(job)
    api_key = ""
    if online:
        api_key = read_api_key(spec.api_key_env or DEFAULT_API_KEY_ENV, environ)
    report = check_offline(spec.operations)
    if not online:
        return report
    if not report.ok:
        report.online = "skipped: fix the problems above first"
        return report
    url = base_url or spec.base_url or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url: found {url!r}; expected an http:// or https:// URL")
    catalog = anyio.run(_fetch, url, api_key, backend="asyncio")
    return check_online(spec.operations, catalog, report)


async def _fetch(base_url: str, api_key: str) -> Catalog:
    async with open_client(base_url, api_key, timeout_s=30.0) as client:
        return await fetch_catalog(client)


def check_offline(path: Path, shown: int = SHOWN_PROBLEMS) -> Report:
    """Report every row problem of the file (a bad CSV header: its problems).

    One pass, unless the file has more (field, target) pairs than the conflict check keeps and
    some of those past its cap repeat: then a second pass checks them (see repeats.py). The
    report's `repeats` lets later passes over the same file find the same conflicts in one pass.
    """
    finder = RepeatFinder()
    report = _scan(path, shown, finder)
    repeats = finder.found()
    if repeats.hashes:
        report = _scan(path, shown, repeats)
    report.repeats = repeats
    return report


def _scan(path: Path, shown: int, repeats: Repeats) -> Report:
    report = Report(str(path), shown=shown)
    # valid rows by (action, object type): one count a row, the two tallies made of it after
    kinds: Counter[RowKind] = Counter()
    try:
        for item in check_rows(path, repeats):
            if isinstance(item, RowError):
                report.invalid_rows += 1
                report.add(item.problems)
            else:
                kinds[item] += 1
    except JobHeaderError as exc:
        report.add(exc.problems)
    for (action, object_type), count in kinds.items():
        report.by_action[action] += count
        report.by_object_type[object_type] += count
    report.rows = report.invalid_rows + kinds.total()
    return report


def check_online(path: Path, catalog: Catalog, report: Report) -> Report:
    """Resolve every row of an offline-clean file against the org's catalog."""
    where = str(path)
    report.online = "checked"
    for item in read_operations(path, report.repeats):
        if isinstance(item, RowError):  # the file changed since the offline pass
            report.invalid_rows += 1
            report.add(item.problems)
            continue
        resolved = catalog.resolve(item, where)
        if isinstance(resolved, tuple):
            report.invalid_rows += 1
            report.add(resolved)
    return report


def render_text(report: Report) -> str:
    """Problems one a line (first `shown`, then a count), or the summary of a clean file."""
    if not report.ok:
        lines = [str(problem) for problem in report.problems]
        hidden = report.problem_count - len(report.problems)
        if hidden > 0:
            lines.append(f"... and {hidden} more")
        lines.append(
            f"{report.path}: {report.problem_count} problem(s) in {report.invalid_rows} of "
            f"{report.rows} row(s); nothing was sent"
        )
        if report.online.startswith("skipped"):
            lines.append(f"online check {report.online}")
        return "\n".join(lines)
    lines = [f"{report.path}: {report.rows} row(s), no problems"]
    lines.append("  by action:      " + _counts(report.by_action))
    lines.append("  by object type: " + _counts(report.by_object_type))
    if report.online == "checked":
        lines.append("  every field, type and role exists in the org (checked online)")
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
        "online": report.online,
    }
    # ensure_ascii: a lone surrogate from an undecodable file must not break the output
    return json.dumps(document, indent=2)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items())) or "none"
