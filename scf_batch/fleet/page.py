"""`fleet report --html FILE`: one page with a row per org, each linking the org's own page.

The orgs' pages (`scf-batch report --html` of each org's last pass) go in a folder named after
the page, `FILE-orgs/`, and load the chart library from one shared copy there, so a fleet of a
hundred orgs does not carry a hundred copies of it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.verdicts import OrgVerdict, fleet_meaning
from scf_batch.report.html import PLOTLY_FILE, write_html, write_plotly
from scf_batch.report.passreport import load_report
from scf_batch.runfolder.durable import write_atomically
from scf_batch.runfolder.passfiles import find_pass
from scf_batch.text import escaped

STYLE = """
body { margin: 0; background: #f5f7fa; color: #1f2933;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #616e7c; margin: 0 0 14px; }
.verdict { display: inline-block; padding: 6px 12px; border-radius: 6px; font-weight: 600;
  color: #fff; margin-bottom: 14px; }
.ok { background: #2e9d5b; } .bad { background: #c8323a; } .warn { background: #d98a1c; }
table { border-collapse: collapse; width: 100%; font-size: 13px; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e4e7eb; }
th { background: #f0f3f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.code-0 { color: #2e9d5b; font-weight: 600; }
td.code-bad { color: #9b1c1c; font-weight: 600; }
footer { color: #616e7c; font-size: 12px; margin-top: 22px; }
"""
COUNTS = ("create", "update", "delete", "unchanged", "failing", "drift_repaired")
HEADINGS = ("created", "updated", "deleted", "unchanged", "failed", "drift repaired")


def write_fleet_page(
    verdicts: list[OrgVerdict], code: ExitCode, *, finished_at: str, out: Path
) -> Path:
    """Write the fleet's page to `out` and each org's page beside it; the orgs' folder."""
    pages = out.with_name(out.stem + "-orgs")
    pages.mkdir(parents=True, exist_ok=True)
    linked: dict[str, str] = {}
    if any(verdict.folder for verdict in verdicts):
        write_plotly(pages)
    for verdict in verdicts:
        if verdict.folder and _write_org_page(Path(verdict.folder), pages / f"{verdict.name}.html"):
            linked[verdict.name] = f"{pages.name}/{verdict.name}.html"
    page = render_fleet_page(verdicts, code, finished_at=finished_at, links=linked).encode()

    def write(handle: IO[bytes]) -> None:
        handle.write(page)

    write_atomically(out, write)
    return pages


def _write_org_page(folder: Path, out: Path) -> bool:
    """The org's last pass as its own page; False when the org has no pass yet (it stopped
    before its run began: an unset key, a refused job)."""
    try:
        files = find_pass(folder)
    except UsageError:
        return False
    write_html(files.results(), load_report(files), out, shared_plotly=PLOTLY_FILE)
    return True


def render_fleet_page(
    verdicts: list[OrgVerdict], code: ExitCode, *, finished_at: str, links: dict[str, str]
) -> str:
    """The fleet's page: its verdict, then one row per org (its exit code and why, its
    counts, drift repaired), the org's name linking its own page when it has one."""
    ok = sum(1 for verdict in verdicts if verdict.exit_code is ExitCode.OK)
    tone = "ok" if code is ExitCode.OK else "warn" if code is ExitCode.STOPPED_EARLY else "bad"
    head = "".join(f"<th>{name}</th>" for name in ("org", "Close org", "exit", *HEADINGS))
    rows = "\n".join(_row(verdict, links.get(verdict.name)) for verdict in verdicts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>scf-batch fleet report</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>Fleet report</h1>
<p class="sub">{ok} of {len(verdicts)} org(s) ok · finished at {_text(finished_at)}</p>
<div class="verdict {tone}">exit {int(code)}: {_text(fleet_meaning(code))}</div>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><th>total</th><th></th><th></th>{_totals(verdicts)}</tr></tfoot>
</table>
<footer>Made by scf-batch from the fleet's summaries; each org's page comes from its run
folder.</footer>
</main>
</body>
</html>
"""


def _row(verdict: OrgVerdict, link: str | None) -> str:
    name = _text(verdict.name)
    if link is not None:
        name = f'<a href="{html.escape(link)}">{name}</a>'
    close_org = _text(verdict.org_name) if verdict.org_name is not None else "-"
    status = "code-0" if verdict.exit_code is ExitCode.OK else "code-bad"
    why = verdict.reason or verdict.meaning
    counts = "".join(f'<td class="num">{getattr(verdict, kind)}</td>' for kind in COUNTS)
    exit_cell = f'<td class="{status}">{int(verdict.exit_code)} {_text(why)}</td>'
    return f"<tr><td>{name}</td><td>{close_org}</td>{exit_cell}{counts}</tr>"


def _totals(verdicts: Iterable[OrgVerdict]) -> str:
    every = list(verdicts)
    return "".join(
        f'<td class="num">{sum(getattr(v, kind) for v in every)}</td>' for kind in COUNTS
    )


def _text(value: str) -> str:
    """Text from a server or a file: HTML-escaped, and no bidi or control character left to
    reorder or hide what the page shows."""
    return html.escape(escaped(value))
