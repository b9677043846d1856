"""The `report --html` page: self-contained, escaped, bounded in memory, drawn by a real browser."""

from __future__ import annotations

import html
import json
import random
import re
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome
from scf_batch.report import html as htmlreport
from scf_batch.report.html import FAILED_ROWS_SHOWN, render_html, write_html
from scf_batch.report.passreport import load_report
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.passfiles import PassFiles
from scf_batch.runfolder.records import ResultLine, Summary
from scf_batch.runfolder.results import Tally
from tests import browser

START = datetime(2026, 11, 30, 18, 2, 0, tzinfo=UTC)
GROUPS = {
    "associate": "POST custom_field/shared/{scf_id}/association/",
    "update": "PUT custom_field/shared/{scf_id}/association/{type}/",
    "disassociate": "DELETE custom_field/shared/{scf_id}/association/{type}/",
    "ensure": "GET custom_field/shared/{scf_id}/",
}
TARGETS = [
    ("lead", "lead", None),
    ("contact", "contact", None),
    ("opportunity", "opportunity", None),
    ("custom_activity_type", "custom_activity_type/actitype_1x2y3z", "Onboarding call"),
    ("custom_object_type", "custom_object_type/cotype_ASK7q", "Subscription"),
]
OK_OUTCOMES = {
    "associate": ["created", "already_associated"],
    "update": ["updated", "unchanged"],
    "disassociate": ["deleted", "not_associated"],
    "ensure": ["created", "updated", "unchanged"],
}
FAILURES = [
    ("conflict", 400, "the field is already associated with a different role", {}),
    ("not_found", 404, "no shared custom field cf_gone", {}),
    ("rejected", 400, "Close rejected the change", {"required": "must be a boolean"}),
    ("gave_up", 429, "still rate limited after 8 tries", {}),
]


def fake_rows(count: int, *, fail_every: int = 0, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Result lines as a pass leaves them: several actions and object types, 429 retries,
    failed rows (one in fail_every, 0 for none, 1 for all) and invalid rows among them."""
    rng = random.Random(seed)
    clock = START
    for row in range(1, count + 1):
        action = rng.choice(list(OK_OUTCOMES))
        object_type, target, target_name = rng.choice(TARGETS)
        failing = fail_every > 0 and row % fail_every == 0
        invalid = failing and row % (3 * fail_every) == 0
        # Close answers 429 in bursts: the rows finishing in 3 s of every 40 s were retried.
        retries = rng.choice([1, 2]) if (clock - START).total_seconds() % 40 < 3 else 0
        duration_ms = int(rng.lognormvariate(5.3, 0.5)) + retries * 1000
        clock += timedelta(milliseconds=rng.randint(20, 180) * (1 + 4 * (retries > 0)))
        if invalid:
            status, outcome, http_status, requests, duration_ms = "invalid", "invalid", None, 0, 0
            error: dict[str, Any] | None = {
                "message": "required: got 'maybe', expected true or false",
                "field_errors": {"required": "got 'maybe', expected true or false"},
            }
        elif failing:
            outcome, http_status, message, field_errors = rng.choice(FAILURES)
            status, requests = "failed", 1 + retries
            error = {"message": message, "field_errors": field_errors}
        else:
            status, outcome, http_status, error = "ok", rng.choice(OK_OUTCOMES[action]), 200, None
            requests = 1 + retries + (action == "ensure")
        yield {
            "row": row,
            "line": row + 1,
            "key": f"k-{row:06d}",
            "action": action,
            "scf_id": f"cf_{row % 40:04d}",
            "scf_name": f"Renewal date {row % 40}",
            "object_type": None if invalid else object_type,
            "target": target,
            "target_name": target_name,
            "status": status,
            "outcome": outcome,
            "http_status": http_status,
            "requests": requests,
            "retries": retries,
            "error": error,
            "duration_ms": duration_ms,
            "finished_at": clock.isoformat(timespec="milliseconds"),
        }


def fake_summary(rows: Iterator[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """summary.json consistent with the rows: counts, a per-second timeline with 429s, groups."""
    by_status: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    buckets: dict[int, dict[str, float]] = {}
    for r in rows:
        by_status[r["status"]] += 1
        by_outcome[f"{r['status']}/{r['outcome']}"] += 1
        groups[GROUPS.get(r["action"], r["action"])] += r["requests"]
        t_s = int((datetime.fromisoformat(r["finished_at"]) - START).total_seconds())
        bucket = buckets.setdefault(t_s, {"t_s": float(t_s), "requests": 0, "rate_limited": 0})
        bucket["requests"] += r["requests"]
        bucket["rate_limited"] += r["retries"]
        bucket["rows"] = bucket.get("rows", 0) + 1
    last = max(buckets, default=0)
    timeline = [buckets.get(s, {"t_s": float(s), "requests": 0, "rate_limited": 0, "rows": 0})
                for s in range(last + 1)]  # fmt: skip
    summary = {
        "job": "renewal-fields",
        "org": {"id": "orga_3kX9", "name": "Acme Inc."},
        "pass": 2,
        "started_at": START.isoformat(timespec="milliseconds"),
        "elapsed_s": float(last + 1),
        "exit_code": 1 if by_status.keys() - {"ok"} else 0,
        "reason": None,
        "rows_total": by_status.total(),
        "by_status": dict(by_status),
        "by_outcome": dict(by_outcome),
        "requests": groups.total(),
        "rate_limited": sum(b["rate_limited"] for b in timeline),
        "rate_per_s_ceiling": 5.0,
        "timeline": timeline,
        "requests_by_group": dict(groups),
    }
    return summary | overrides


def as_lines(rows: Iterable[dict[str, Any]]) -> Iterator[ResultLine]:
    """Result lines as the run folder's reader gives them."""
    return (ResultLine.from_json(row) for row in rows)


def report_of(summary: dict[str, Any]) -> RunReport:
    """The report of a pass whose summary.json is `summary` (its counts taken as the results')."""
    tally = Tally()
    for key, count in summary.get("by_outcome", {}).items():
        status = key.partition("/")[0]
        tally.by_status[status] += count
        tally.by_outcome[key] += count
    fresh = Summary.from_json({**summary, "rows_done": tally.done})
    return RunReport.from_records(Path("run"), None, fresh, tally, [])


def write_pass(folder: Path, rows: list[dict[str, Any]], **overrides: Any) -> Path:
    """A pass folder holding results.jsonl and summary.json."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (folder / "results.jsonl").write_text(lines, encoding="utf-8")
    summary = fake_summary(iter(rows), **overrides) | {"rows_done": len(rows)}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


class _Links(HTMLParser):
    """Every src/href/action attribute and every <script> text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]


def remote_urls(page: str) -> list[str]:
    """The attributes of a page that would fetch or link to another host."""
    links = _Links()
    links.feed(page)
    return [u for u in links.urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]


def test_page_refers_to_no_remote_host_and_forbids_fetching() -> None:
    """No src/href points off the machine, plotly.js is inline and a CSP forbids any fetch."""
    rows = list(fake_rows(300, fail_every=9))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows))))
    assert [] == remote_urls(page)
    assert "default-src 'none'" in page
    assert "Plotly.newPlot" in page
    assert "plotly.js v" in page


def test_text_from_the_files_is_escaped() -> None:
    """A field named <script>…</script> and a hostile error show as text; nothing of it runs."""
    hostile = "<script>window.pwned=1</script>"
    rows = list(fake_rows(40, fail_every=2))
    for row in rows:
        row["scf_name"] = hostile
        row["action"] = hostile if row["row"] == 2 else row["action"]
        if row["error"]:
            row["error"] = {
                "message": f"<img src=x onerror=alert(1)>{hostile}",
                "field_errors": {hostile: hostile},
            }
    page = render_html(
        as_lines(rows), report_of(fake_summary(iter(rows), job=hostile, reason=hostile))
    )
    assert "<script>window.pwned" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    figures = re.search(r'<script type="application/json" id="figures">(.*?)</script>', page, re.S)
    assert figures is not None
    assert "<" not in figures.group(1)
    assert (
        hostile.replace("<", "&lt;").replace(">", "&gt;")
        in json.loads(figures.group(1))["chart-actions"]["data"][0]["y"]
    )


def test_run_with_no_failures_says_so_and_has_no_table() -> None:
    """Every row ok: an ok verdict, a 'no row failed' line, no failed-rows table."""
    rows = list(fake_rows(200))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows))))
    assert 'class="verdict ok"' in page
    assert 'id="no-failed-rows"' in page
    assert 'id="failed-rows"' not in page


def test_run_with_only_failures_lists_every_row() -> None:
    """Every row failed or invalid: a warning verdict and all of them in the table, by line."""
    rows = list(fake_rows(120, fail_every=1))
    page = render_html(as_lines(reversed(rows)), report_of(fake_summary(iter(rows))))
    assert 'class="verdict warn"' in page
    assert "showing all 120." in page
    lines = [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', page)]
    assert [r["line"] for r in rows] == lines


def test_table_keeps_the_first_rows_by_line_and_counts_the_rest() -> None:
    """Past FAILED_ROWS_SHOWN failures the table holds the lowest lines and says how many exist."""
    rows = list(fake_rows(2 * FAILED_ROWS_SHOWN + 50, fail_every=1))
    random.Random(3).shuffle(rows)  # completion order is not line order
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows))))
    lines = [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', page)]
    assert list(range(2, FAILED_ROWS_SHOWN + 2)) == lines
    assert f"the first {FAILED_ROWS_SHOWN} by line of {len(rows):,}" in page


def test_memory_held_after_reading_does_not_grow_with_the_rows() -> None:
    """Once 40,000 rows are read, less than twice the memory of 4,000 is held (counts only)."""

    def held_after_reading(count: int) -> int:
        report = report_of(fake_summary(fake_rows(count, fail_every=5)))
        held: list[int] = []

        def rows() -> Iterator[dict[str, Any]]:
            yield from fake_rows(count, fail_every=5)
            held.append(tracemalloc.get_traced_memory()[0])  # every row read, page not built
            tracemalloc.stop()

        tracemalloc.start()
        try:
            render_html(as_lines(rows()), report)
        finally:
            tracemalloc.stop()
        return held[0]

    small, large = held_after_reading(4_000), held_after_reading(40_000)
    assert large < 2 * small, (small, large)


def test_write_html_reads_a_pass_folder_and_passes_over_a_torn_last_line(tmp_path: Path) -> None:
    """write_html reads results.jsonl and summary.json; a half-written last line is left out."""
    folder = write_pass(tmp_path / "pass-2", list(fake_rows(30, fail_every=10)))
    with (folder / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"row": 31, "line": 32, "sta')
    out = tmp_path / "report.html"
    files = PassFiles(folder, 2, None)
    write_html(files.results(), load_report(files), out)
    page = out.read_text(encoding="utf-8")
    assert "showing all 3." in page
    assert "Acme Inc." in page


@pytest.mark.slow
@pytest.mark.parametrize(("fail_every", "count"), [(9, 3000), (0, 200), (1, 150)])
def test_page_renders_its_charts_in_headless_chromium(
    tmp_path: Path, fail_every: int, count: int
) -> None:
    """In a real Chromium the five charts draw, with no error, console error or blocked fetch."""
    out = tmp_path / "report.html"
    files = PassFiles(
        write_pass(tmp_path / "pass", list(fake_rows(count, fail_every=fail_every))), 1, None
    )
    write_html(files.results(), load_report(files), out)
    dom = browser.dump_dom(out)
    status = browser.render_status(dom)
    assert [] == status.errors
    assert status.rendered
    assert 5 == status.charts
    assert [] == remote_urls(dom)


@pytest.mark.slow
def test_hostile_text_does_not_run_in_the_browser(tmp_path: Path) -> None:
    """Markup in field names, actions and errors stays text in Chromium: no handler runs."""
    hostile = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
    rows = list(fake_rows(40, fail_every=2))
    for row in rows:
        row["scf_name"] = row["target_name"] = hostile
        row["action"] = hostile if row["row"] % 4 == 0 else row["action"]
        if row["error"]:
            row["error"] = {"message": hostile, "field_errors": {hostile: hostile}}
    out = tmp_path / "hostile.html"
    out.write_text(
        render_html(
            as_lines(rows), report_of(fake_summary(iter(rows), job=hostile, reason=hostile))
        )
    )
    dom = browser.dump_dom(out)
    status = browser.render_status(dom)
    assert status.rendered
    assert [] == status.errors
    assert "data-pwned" in out.read_text()  # the payload is on the page, as text
    assert "data-pwned=" not in dom


@pytest.mark.slow
def test_page_reports_a_fetch_the_content_policy_blocked(tmp_path: Path) -> None:
    """The page cannot reach the network: a remote image is blocked and reported in its status."""
    rows = list(fake_rows(50, fail_every=5))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows))))
    leaky = tmp_path / "leaky.html"
    leaky.write_text(page.replace("<footer>", '<img src="http://127.0.0.1:9/x.png"><footer>'))
    status = browser.render_status(browser.dump_dom(leaky))
    assert ["blocked by the page's content policy: http://127.0.0.1:9/x.png"] == status.errors


@pytest.mark.slow
def test_page_reports_a_script_error_in_its_status(tmp_path: Path) -> None:
    """The browser check can fail: a page whose script throws shows the error in #render-status."""
    rows = list(fake_rows(50, fail_every=5))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows))))
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace("Plotly.newPlot(", "Plotly.noSuchFunction("), encoding="utf-8")
    status = browser.render_status(browser.dump_dom(broken))
    assert not status.rendered
    assert any("noSuchFunction" in e for e in status.errors), status.errors


def figures_of(page: str) -> dict[str, Any]:
    """The figures the page hands to plotly, by chart id."""
    found = re.search(r'<script type="application/json" id="figures">(.*?)</script>', page, re.S)
    assert found is not None
    figures: dict[str, Any] = json.loads(found.group(1))
    return figures


def test_timeline_shades_each_429_pause_through_the_quiet_seconds_after_it() -> None:
    """A second with 429s and the seconds without requests that follow it form one shaded span."""
    counts = [(5, 0, 3), (3, 2, 1), (0, 0, 0), (4, 0, 4), (2, 1, 2)]  # requests, 429s, rows
    timeline = [
        {"t_s": float(t), "requests": r, "rate_limited": n, "rows": rows}
        for t, (r, n, rows) in enumerate(counts)
    ]
    page = render_html([], report_of(fake_summary(iter([]), timeline=timeline)))
    figure = figures_of(page)["chart-timeline"]
    spans = [(s["x0"], s["x1"]) for s in figure["layout"]["shapes"]]
    assert [
        ("2026-11-30 18:02:01.000", "2026-11-30 18:02:03.000"),
        ("2026-11-30 18:02:04.000", "2026-11-30 18:02:05.000"),
    ] == spans
    assert ["rows finished", "requests sent", "429 responses"] == [
        t["name"] for t in figure["data"]
    ]
    assert [2, 1] == figure["data"][2]["y"]


def test_a_long_run_is_drawn_in_wider_bars_that_keep_the_totals() -> None:
    """Past TIMELINE_BARS seconds, bars cover a round number of seconds and keep every row."""
    rows = list(fake_rows(12_000))
    summary = fake_summary(iter(rows))
    page = render_html(as_lines(rows), report_of(summary))
    figure = figures_of(page)["chart-timeline"]
    bars, requests, limited = figure["data"]
    assert len(summary["timeline"]) > htmlreport.TIMELINE_BARS >= len(bars["x"])
    assert "per second (mean over 5 s)" == figure["layout"]["yaxis"]["title"]["text"]
    assert len(rows) == round(5 * sum(bars["y"]))
    assert summary["requests"] == round(5 * sum(requests["y"]))
    assert summary["rate_limited"] == sum(limited["y"])


def test_without_a_timeline_rows_per_second_come_from_the_finish_times() -> None:
    """A summary with no timeline still charts rows per second, and draws no requests line."""
    rows = list(fake_rows(200))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows), timeline=[])))
    data = figures_of(page)["chart-timeline"]["data"]
    assert ["rows finished"] == [t["name"] for t in data]
    assert len(rows) == sum(data[0]["y"])


def test_an_empty_pass_says_there_is_nothing_to_show() -> None:
    """No rows and a bare summary: the page renders, each chart saying it has nothing to show."""
    page = render_html([], report_of({"job": "empty", "org": None, "pass": 1, "exit_code": 0}))
    texts = [f["layout"]["annotations"][0]["text"] for f in figures_of(page).values()]
    assert ["nothing to show"] * 5 == texts
    assert 'id="no-failed-rows"' in page


def test_outcome_label_names_failures_with_their_status() -> None:
    """ok rows are labelled by outcome alone; others as `status: outcome` unless both agree."""

    def label(status: str, outcome: str) -> str:
        return htmlreport.outcome_label(
            ResultLine.from_json({"row": 1, "status": status, "outcome": outcome})
        )

    assert "created" == label("ok", "created")
    assert "failed: conflict" == label("failed", "conflict")
    assert "invalid" == label("invalid", "invalid")


def luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_failed_outcomes_are_drawn_darker_than_every_ok_outcome() -> None:
    """A failed row is what a reader looks for: every `failed: …` colour, whatever the outcome,
    is darker than the darkest ok outcome's, never the pale grey of `not_associated`."""
    ok_rows = ("created", "recreated", "updated", "deleted", "unchanged", "already_associated")
    ok = [htmlreport.colour_of(outcome) for outcome in (*ok_rows, "not_associated")]
    failed = [htmlreport.colour_of(f"failed: {outcome}") for outcome in Outcome]
    assert max(luminance(c) for c in failed) < min(luminance(c) for c in ok)


def test_a_one_row_no_op_pass_reads_as_one_row_in_whole_seconds() -> None:
    """One row, done without a request, in a fraction of a second: the tile says "row", the
    timeline spans whole seconds, and a field definition is labelled as one, not `(none)`."""
    row = next(fake_rows(1)) | {"object_type": None, "action": "define", "requests": 0}
    summary = fake_summary(iter([row]), rows_total=1, requests=0, rate_limited=0, elapsed_s=0.003)
    page = render_html(as_lines([row]), report_of(summary))
    assert '<div class="l">row</div>' in page
    assert '<div class="l">requests</div>' in page
    figures = figures_of(page)
    start, end = figures["chart-timeline"]["layout"]["xaxis"]["range"]
    assert (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() >= 10
    assert ["field definition"] == figures["chart-objects"]["data"][0]["y"]
    assert "(none)" not in json.dumps(figures["chart-objects"])


@pytest.mark.parametrize("code", list(ExitCode))
def test_the_page_says_every_exit_code_in_exitcodes_words(code: ExitCode) -> None:
    """Every exit code, 2 and 75 included, gets the verdict exitcodes declares for it."""
    rows = list(fake_rows(3))
    page = render_html(as_lines(rows), report_of(fake_summary(iter(rows), exit_code=int(code))))
    assert html.escape(f"{code.verdict} (exit {int(code)})") in page
