"""One self-contained HTML page of a pass: header, plotly charts, the failed rows; no network.

The results are streamed: per-row data is folded into per-second, per-bin and per-outcome
counts, and only the first failed rows (by line) are kept, so memory does not grow with the
file. plotly.js is inlined and a Content-Security-Policy forbids any fetch, so the page opens
offline. Everything read from the files is escaped: HTML-escaped in the markup and in chart
labels (plotly reads labels as a small HTML subset), and `<`, `>`, `&` are written as JSON
escapes in the embedded figure data.
"""

from __future__ import annotations

import heapq
import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata, resources
from pathlib import Path
from string import Template
from typing import IO

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from scf_batch.exitcodes import ExitCode
from scf_batch.models import Action, ObjectType, Outcome, Status
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.durable import write_atomically
from scf_batch.runfolder.records import LineError, ResultLine, Second
from scf_batch.text import escaped

FAILED_ROWS_SHOWN = 500
PAUSE_SPANS_SHOWN = 300
TIMELINE_BARS = 400
AXIS_LABEL_CHARS = 44
# a timeline shorter than this is drawn over this many seconds, so its ticks read as seconds
MIN_TIMELINE_SPAN_S = 10
_NOT_OK = (Status.FAILED, Status.INVALID)
_ACTIONS = tuple(Action)
_OBJECT_TYPES = tuple(ObjectType)
NO_OBJECT_TYPE = "field definition"  # a row that defines a field names no object type
# Latency bins: 1, 1.5, 2, 3, 5, 7 times 10^k ms, which read as round numbers on the axis.
_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
_BIN_EDGES_MS = tuple(s * 10**k for k in range(6) for s in _STEPS)
_COLOURS: dict[str, str] = {
    Outcome.CREATED: "#2e9d5b",
    Outcome.RECREATED: "#5fb37f",
    Outcome.UPDATED: "#3b82c4",
    Outcome.DELETED: "#8e6cc9",
    Outcome.UNCHANGED: "#9aa5b1",
    Outcome.ALREADY_ASSOCIATED: "#b8c2cc",
    Outcome.NOT_ASSOCIATED: "#d3d9df",
    Outcome.CONFLICT: "#e8833a",
    Outcome.NOT_FOUND: "#f0b429",
    Outcome.REJECTED: "#d64545",
    Outcome.GAVE_UP: "#8a1c24",
    Outcome.INVALID: "#b565a7",
    Outcome.PROTECTED: "#0f766e",
}
# A failed row is the one a reader looks for: strong reds whatever its outcome, never the pale
# greys of the ok outcomes that share its name (`failed: not_associated`).
_FAILED_COLOURS: dict[str, str] = {
    Outcome.CONFLICT: "#c2410c",
    Outcome.NOT_FOUND: "#b45309",
    Outcome.REJECTED: "#dc2626",
    Outcome.GAVE_UP: "#7f1d1d",
    Outcome.PROTECTED: "#9f1239",
}
FAILED_COLOUR = "#b91c1c"
_STATUS_COLOURS: dict[str, str] = {
    Status.OK: "#2e9d5b",
    Status.FAILED: "#c8323a",
    Status.INVALID: "#b565a7",
}
_TONES = {
    ExitCode.OK: "ok",
    ExitCode.ROWS_FAILED: "warn",
    ExitCode.USAGE: "bad",
    ExitCode.ABORTED: "bad",
    ExitCode.REFUSING: "bad",
}


@dataclass
class _Tally:
    """What the charts and the table need from the results, folded row by row."""

    started: datetime | None
    count_seconds: bool = True  # rows per second from finish times: for a pass with no timeline
    rows: int = 0
    retries: int = 0
    not_ok: int = 0
    by_action: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_object: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latency_bins: Counter[tuple[str, int]] = field(default_factory=Counter)
    durations_ms: Counter[int] = field(default_factory=Counter)
    rows_by_second: Counter[int] = field(default_factory=Counter)
    # A max-heap on line (negated) holding the first FAILED_ROWS_SHOWN not-ok rows.
    shown: list[tuple[int, int, ResultLine]] = field(default_factory=list)

    def add(self, row: ResultLine) -> None:
        """Fold one result line into the counts."""
        self.rows += 1
        self.retries += row.retries
        label = outcome_label(row)
        self.by_action[row.action][label] += 1
        self.by_object[row.object_type or NO_OBJECT_TYPE][label] += 1
        if row.requests > 0:
            self.durations_ms[row.duration_ms] += 1
            self.latency_bins[(row.status, _bin_of(row.duration_ms))] += 1
        second = self._second_of(row.finished_at) if self.count_seconds else None
        if second is not None:
            self.rows_by_second[second] += 1
        if row.status in _NOT_OK:
            self._keep(row)

    def _keep(self, row: ResultLine) -> None:
        self.not_ok += 1
        entry = (-row.line, self.not_ok, row)
        if len(self.shown) < FAILED_ROWS_SHOWN:
            heapq.heappush(self.shown, entry)
        elif entry > self.shown[0]:
            heapq.heapreplace(self.shown, entry)

    def _second_of(self, finished_at: str) -> int | None:
        if self.started is None:
            return None
        try:
            return math.floor((datetime.fromisoformat(finished_at) - self.started).total_seconds())
        except (ValueError, TypeError):  # not a time, or one without its offset
            return None

    def shown_rows(self) -> list[ResultLine]:
        """The kept not-ok rows, by line."""
        return [row for _, _, row in sorted(self.shown, reverse=True)]


PLOTLY_FILE = "plotly.min.js"


def render_html(
    results: Iterable[ResultLine], report: RunReport, *, shared_plotly: str | None = None
) -> str:
    """The page of one pass, from its result lines (streamed once) and its report.

    Self-contained, or with `shared_plotly` (a relative URL of the file `write_plotly` writes)
    loading the chart library from beside it: many pages (a fleet's) share one copy of its
    3.5 MB instead of carrying one each."""
    tally = _Tally(started=_parse_time(report.started_at), count_seconds=not report.timeline)
    for row in results:
        tally.add(row)
    figures = {
        "chart-timeline": _timeline_figure(report, tally),
        "chart-latency": _latency_figure(tally),
        "chart-groups": _groups_figure(report),
        "chart-actions": _outcomes_figure(tally.by_action, _ACTIONS),
        "chart-objects": _outcomes_figure(tally.by_object, (*_OBJECT_TYPES, NO_OBJECT_TYPE)),
    }
    template = Template(
        resources.files("scf_batch.report").joinpath("html_template.html").read_text()
    )
    return template.substitute(
        version=_html(_version()),
        title=_html(f"scf-batch report: {report.job}"),
        header=_header(report, tally),
        timeline_note=_html(_timeline_note(report)),
        latency_note=_html(_latency_note(tally)),
        groups_note=_html(_groups_note(report)),
        failed_rows=_failed_rows(tally),
        footer=_html(f"Made by scf-batch {_version()} from results.jsonl and summary.json."),
        plotly_script=_plotly_script(shared_plotly),
        script_sources="'unsafe-inline'" if shared_plotly is None else "'self' 'unsafe-inline'",
        figures=_script_json({key: _figure_json(fig) for key, fig in figures.items()}),
    )


def _plotly_script(shared: str | None) -> str:
    if shared is not None:
        return f'<script src="{_html(shared)}"></script>'
    library = str(get_plotlyjs())
    return "<script>" + library.replace("</script", "<\\/script") + "</script>"


def write_plotly(folder: Path) -> Path:
    """The chart library as a file of its own, for pages rendered with `shared_plotly`."""
    library = str(get_plotlyjs()).encode()

    def write(handle: IO[bytes]) -> None:
        handle.write(library)

    path = folder / PLOTLY_FILE
    write_atomically(path, write)
    return path


def write_html(
    results: Iterable[ResultLine],
    report: RunReport,
    out: Path,
    *,
    shared_plotly: str | None = None,
) -> None:
    """Write the page of a pass to `out`, whole or not at all."""
    page = render_html(results, report, shared_plotly=shared_plotly).encode()

    def write(handle: IO[bytes]) -> None:
        handle.write(page)

    write_atomically(out, write)


def outcome_label(row: ResultLine) -> str:
    """The legend name of a row's outcome: the outcome for ok rows, else `status: outcome`."""
    status, outcome = row.status.value, row.outcome.value
    return outcome if status in (Status.OK, outcome) else f"{status}: {outcome}"


def _header(report: RunReport, tally: _Tally) -> str:
    tone, verdict = _verdict(report)
    by_status = report.tally.by_status
    tiles = [
        ("", _plural(report.total_rows, "row"), report.total_rows),
        ("ok", "ok", by_status[Status.OK]),
        ("bad", "failed", by_status[Status.FAILED]),
        ("bad", "invalid", by_status[Status.INVALID]),
        ("", _plural(report.requests, "request"), report.requests),
        ("warn", _plural(report.rate_limited, "429 response"), report.rate_limited),
        ("", _plural(tally.retries, "retry", "retries"), tally.retries),
    ]
    tile_html = "".join(
        f'<div class="tile {tone_ if n else ""}"><div class="n">{n:,}</div>'
        f'<div class="l">{_html(label)}</div></div>'
        for tone_, label, n in tiles
    )
    runs = f" over {report.runs} runs" if report.runs > 1 else ""
    facts = [
        f"org {report.org.name} ({report.org.id})" if report.org is not None else "org unknown",
        f"pass {report.pass_number}",
        f"started {_when(report.started_at)}" if report.started_at else "",
        f"took {_duration(report.elapsed_s)}{runs}",
    ]
    return (
        f'<header class="card"><h1>{_html(report.job)}</h1>'
        f'<p class="sub">{"".join(f"<span>{_html(f)}</span>" for f in facts if f)}</p>'
        f'<div class="verdict {tone}" id="verdict">{_html(verdict)}</div>'
        f'<div class="tiles">{tile_html}</div></header>'
    )


def _plural(count: int, one: str, many: str | None = None) -> str:
    return one if count == 1 else many or one + "s"


def _verdict(report: RunReport) -> tuple[str, str]:
    """The tone and words of how the pass's last run ended (exitcodes' words), or that a run
    holds the folder now."""
    if report.running_pid is not None:
        who = f"a run (pid {report.running_pid})" if report.running_pid else "a run"
        return "neutral", f"running: {who} holds the run folder; the page shows the rows so far"
    code = report.exit_code
    reason = f": {report.reason}" if report.reason else ""
    return _TONES.get(code, "neutral"), f"{code.verdict}{reason} (exit {int(code)})"


def _timeline_figure(report: RunReport, tally: _Tally) -> go.Figure:
    seconds = _timeline(report, tally)
    width_s = _bucket_width_s(seconds)
    buckets = _coarsen(seconds, width_s)
    start = tally.started or datetime.fromtimestamp(0, UTC)
    x = [_plotly_time(start + timedelta(seconds=b["t_s"] + width_s / 2)) for b in buckets]
    fig = go.Figure()
    fig.add_bar(x=x, y=[b["rows"] for b in buckets], name="rows finished", marker_color="#7cc49a")
    if report.timeline:  # else only rows are known, from the results' finish times
        _add_requests(fig, x, buckets, width_s)
        _shade_pauses(fig, _pause_spans(seconds), start)
    per = "per second" if width_s == 1 else f"per second (mean over {width_s} s)"
    _style(fig, xaxis_title="time (UTC)", yaxis_title=per)
    fig.update_layout(bargap=0.05, hovermode="x unified")
    span_s = seconds[-1]["t_s"] + 1 if seconds else 0
    if seconds and span_s < MIN_TIMELINE_SPAN_S:  # whole seconds on the axis, not milliseconds
        first = start + timedelta(seconds=seconds[0]["t_s"])
        fig.update_xaxes(
            range=[
                _plotly_time(first),
                _plotly_time(first + timedelta(seconds=MIN_TIMELINE_SPAN_S)),
            ]
        )
    return fig


def _bucket_width_s(seconds: list[dict[str, float]]) -> int:
    """Seconds per bar: 1 s up to TIMELINE_BARS bars, then a round width that keeps it under."""
    span_s = seconds[-1]["t_s"] + 1 if seconds else 0
    for width_s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if span_s / width_s <= TIMELINE_BARS:
            return width_s
    return 3600


def _coarsen(seconds: list[dict[str, float]], width_s: int) -> list[dict[str, float]]:
    """Buckets of width_s seconds: rows and requests as means per second, 429s as counts."""
    if width_s == 1:
        return seconds
    merged: dict[int, dict[str, float]] = {}
    for second in seconds:
        index = int(second["t_s"] // width_s)
        bucket = merged.setdefault(
            index, {"t_s": float(index * width_s), "requests": 0, "rate_limited": 0, "rows": 0}
        )
        for key in ("requests", "rate_limited", "rows"):
            bucket[key] += second[key]
    return [
        b | {"requests": b["requests"] / width_s, "rows": b["rows"] / width_s}
        for _, b in sorted(merged.items())
    ]


def _add_requests(
    fig: go.Figure, x: list[str], buckets: list[dict[str, float]], width_s: int
) -> None:
    """Requests per second as a line and the 429 responses as crosses."""
    fig.add_scatter(
        x=x,
        y=[b["requests"] for b in buckets],
        name="requests sent",
        mode="lines",
        line={"color": "#3b82c4", "width": 2},
    )
    limited = [(t, b["rate_limited"]) for t, b in zip(x, buckets, strict=True) if b["rate_limited"]]
    fig.add_scatter(
        x=[t for t, _ in limited],
        y=[n for _, n in limited],
        name="429 responses" + ("" if width_s == 1 else f" (count per {width_s} s)"),
        mode="markers",
        marker={"color": "#c8323a", "symbol": "x", "size": 9},
    )


def _shade_pauses(fig: go.Figure, spans: list[tuple[float, float]], start: datetime) -> None:
    """Shade each pause after 429s, in one update (add_vrect re-validates all shapes each time)."""
    shade = {"fillcolor": "#c8323a", "opacity": 0.10, "line_width": 0, "layer": "below"}
    fig.update_layout(
        shapes=[
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                **shade,
                "x0": _plotly_time(start + timedelta(seconds=first)),
                "x1": _plotly_time(start + timedelta(seconds=last + 1)),
            }
            for first, last in spans[:PAUSE_SPANS_SHOWN]
        ]
    )


def _timeline(report: RunReport, tally: _Tally) -> list[dict[str, float]]:
    """Per-second buckets of the pass, or rows per second from the results if it has none."""
    recorded = report.timeline or tuple(
        Second(float(second), rows=count) for second, count in sorted(tally.rows_by_second.items())
    )
    return [
        {
            "t_s": second.t_s,
            "requests": float(second.requests),
            "rate_limited": float(second.rate_limited),
            "rows": float(second.rows),
        }
        for second in recorded
    ]


def _pause_spans(buckets: list[dict[str, float]]) -> list[tuple[float, float]]:
    """Spans from a second with 429s through the quiet seconds that follow it (the pause)."""
    spans: list[tuple[float, float]] = []
    for bucket in buckets:
        t_s, quiet = bucket["t_s"], bucket["requests"] == 0
        if spans and spans[-1][1] + 1 >= t_s and (bucket["rate_limited"] or quiet):
            spans[-1] = (spans[-1][0], t_s)
        elif bucket["rate_limited"]:
            spans.append((t_s, t_s))
    return spans


def _latency_figure(tally: _Tally) -> go.Figure:
    bins = sorted({b for _, b in tally.latency_bins})
    labels = [_bin_label(b) for b in range(bins[0], bins[-1] + 1)] if bins else []
    fig = go.Figure()
    for status in sorted({s for s, _ in tally.latency_bins}, key=_status_rank):
        counts = [tally.latency_bins[(status, b)] for b in range(bins[0], bins[-1] + 1)]
        fig.add_bar(
            x=labels,
            y=counts,
            name=_label(status),
            marker_color=_STATUS_COLOURS.get(status, "#52606d"),
        )
    _style(fig, xaxis_title="time the row took (from its bin's lower edge)", yaxis_title="rows")
    fig.update_layout(barmode="stack", bargap=0.08)
    return fig


def _groups_figure(report: RunReport) -> go.Figure:
    groups = report.requests_by_group
    elapsed_s = report.elapsed_s
    names = sorted(groups, key=lambda g: groups[g])
    counts = [groups[g] for g in names]
    text = [f"{n:,}" + (f" · {n / elapsed_s:.1f}/s" if elapsed_s >= 1 else "") for n in counts]
    fig = go.Figure(
        go.Bar(
            x=counts,
            y=[_axis_label(g) for g in names],
            customdata=[_label(g) for g in names],
            hovertemplate="%{customdata}: %{x} requests<extra></extra>",
            orientation="h",
            text=text,
            textposition="auto",
            marker_color="#3b82c4",
            name="requests",
        )
    )
    _style(fig, xaxis_title="requests", yaxis_title="")
    fig.update_layout(showlegend=False, yaxis_automargin=True)
    return fig


def _outcomes_figure(counts: Mapping[str, Counter[str]], order: tuple[str, ...]) -> go.Figure:
    categories = [c for c in order if c in counts] + sorted(set(counts) - set(order))
    labels = sorted({label for c in counts.values() for label in c}, key=_outcome_rank)
    fig = go.Figure()
    for label in labels:
        fig.add_bar(
            y=[_axis_label(c or "(none)") for c in categories],
            x=[counts[c][label] for c in categories],
            name=_label(label),
            orientation="h",
            marker_color=colour_of(label),
        )
    _style(fig, xaxis_title="rows", yaxis_title="")
    fig.update_layout(barmode="stack", yaxis_autorange="reversed", yaxis_automargin=True)
    return fig


def colour_of(label: str) -> str:
    """The colour of an outcome label: failed ones in strong reds, the others by outcome."""
    status, _, outcome = label.rpartition(": ")
    if status == Status.FAILED:
        return _FAILED_COLOURS.get(outcome, FAILED_COLOUR)
    return _COLOURS.get(outcome, "#52606d")


def _figure_json(fig: go.Figure) -> object:
    """The figure as plain JSON; one with nothing to draw says so instead of showing bare axes."""
    if not any(len(trace.x if trace.x is not None else ()) for trace in fig.data):
        fig.update_layout(
            xaxis_visible=False,
            yaxis_visible=False,
            annotations=[{"text": "nothing to show", "showarrow": False, "font_size": 14}],
        )
    return json.loads(fig.to_json())


def _style(fig: go.Figure, *, xaxis_title: str, yaxis_title: str) -> None:
    fig.update_layout(
        template="plotly_white",
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={
            "family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
            "size": 12,
        },
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "traceorder": "normal"},
        xaxis={"title": {"text": xaxis_title}, "automargin": True},
        yaxis={"title": {"text": yaxis_title}, "automargin": True},
    )


def _failed_rows(tally: _Tally) -> str:
    if tally.not_ok == 0:
        return '<h2>Failed rows</h2><p class="empty" id="no-failed-rows">No row failed.</p>'
    rows = tally.shown_rows()
    shown = (
        f"all {tally.not_ok:,}"
        if tally.not_ok == len(rows)
        else f"the first {len(rows):,} by line of {tally.not_ok:,}; results.jsonl has them all"
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Line",
            "Key",
            "Action",
            "Field",
            "Target",
            "Outcome",
            "HTTP",
            "Requests",
            "Error",
        )
    )
    body = "".join(_failed_row(row) for row in rows)
    return (
        '<div class="rows-head"><div><h2>Failed rows</h2>'
        f'<p class="note" id="failed-count">Rows that failed or were invalid: showing {shown}.</p>'
        '</div><input type="search" id="row-filter" placeholder="Filter rows…"></div>'
        '<div class="table-wrap"><table id="failed-rows">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _failed_row(row: ResultLine) -> str:
    cells = [
        f'<td class="num">{row.line}</td>',
        f"<td><code>{_cell(row.key)}</code></td>",
        f"<td>{_cell(row.action)}</td>",
        f"<td>{_cell(row.scf_name or row.scf_id)}</td>",
        f"<td>{_cell(row.target_name or row.target)}</td>",
        f'<td><span class="pill {row.status.value}">{_cell(outcome_label(row))}</span></td>',
        f"<td class='num'>{_cell(row.http_status)}</td>",
        f"<td class='num'>{row.requests}</td>",
        f'<td class="err">{_error_html(row.error)}</td>',
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _error_html(error: LineError | None) -> str:
    if error is None:
        return ""
    items = "".join(f"<li>{_cell(k)}: {_cell(v)}</li>" for k, v in error.field_errors)
    return _cell(error.message) + (f'<ul class="fe">{items}</ul>' if items else "")


def _timeline_note(report: RunReport) -> str:
    if not report.timeline:
        return "Rows finished in each second (this pass recorded no requests per second)."
    ceiling = report.rate_per_s
    return (
        "Rows finished and requests sent in each second; red crosses count 429 responses and "
        "the shaded spans are the pauses they caused. Requests add up every endpoint group"
        + (f"; the ceiling, {ceiling:g}/s, holds for each group." if ceiling else ".")
    )


def _latency_note(tally: _Tally) -> str:
    sent = sum(tally.durations_ms.values())
    if not sent:
        return "No row sent a request."
    p50, p90, p99 = (_percentile(tally.durations_ms, q) for q in (0.5, 0.9, 0.99))
    quiet = tally.rows - sent
    return (
        f"{sent:,} rows that sent requests: median {_ms(p50)}, 90th percentile {_ms(p90)}, "
        f"99th {_ms(p99)}, including waits after 429s."
        + (f" {quiet:,} rows needed no request and are left out." if quiet else "")
    )


def _groups_note(report: RunReport) -> str:
    ceiling = report.rate_per_s
    pace = f" at up to {ceiling:g} requests/s" if ceiling else ""
    return f"Each group is paced on its own{pace}; bars show the requests and their average rate."


def _percentile(counts: Counter[int], q: float) -> int:
    rank = q * (sum(counts.values()) - 1)
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > rank:
            return value
    return max(counts)


def _bin_of(duration_ms: int) -> int:
    """Index of the latency bin holding duration_ms (bin 0 also holds anything under 1 ms)."""
    index = sum(1 for edge in _BIN_EDGES_MS if edge <= duration_ms) - 1
    return max(index, 0)


def _bin_label(index: int) -> str:
    return _ms(int(_BIN_EDGES_MS[min(index, len(_BIN_EDGES_MS) - 1)]))


def _ms(value_ms: int) -> str:
    return f"{value_ms} ms" if value_ms < 1000 else f"{value_ms / 1000:g} s"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs:.0f} s" if minutes else f"{secs:.1f} s"


def _script_json(value: object) -> str:
    """JSON that can sit inside a <script> element: no `<`, `>` or `&` left as such."""
    text = json.dumps(value, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _status_rank(status: str) -> tuple[int, str]:
    order = list(_STATUS_COLOURS)
    return (order.index(status) if status in order else len(order), status)


def _outcome_rank(label: str) -> tuple[int, str]:
    outcome = label.rsplit(": ", 1)[-1]
    order = list(_COLOURS)
    return (order.index(outcome) if outcome in order else len(order), label)


def _axis_label(value: str, most: int = AXIS_LABEL_CHARS) -> str:
    """A category label short enough to leave the chart room: its start and end are kept."""
    if len(value) > most:
        value = value[: most // 2] + "…" + value[len(value) - (most - most // 2 - 1) :]
    return _label(value)


def _label(value: str) -> str:
    """A chart label: plotly reads labels as a small HTML subset, so escape them as HTML."""
    return html.escape(escaped(value), quote=False)


def _cell(value: object) -> str:
    return "" if value is None else _html(str(value))


def _html(text: str) -> str:
    """Text from a server or a file on the page: HTML-escaped, with every control, bidi and
    line-separator character shown as an escape (the one rule of text.escaped)."""
    return html.escape(escaped(text))


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _when(value: str) -> str:
    moment = _parse_time(value)
    if moment is None:
        return value
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%d %b %Y %H:%M:%S UTC")


def _plotly_time(moment: datetime) -> str:
    """A UTC time as plotly's date axis reads it (no offset suffix)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")


def _version() -> str:
    try:
        return metadata.version("scf-batch")
    except metadata.PackageNotFoundError:
        return "(unknown version)"


__all__ = [
    "FAILED_ROWS_SHOWN",
    "PLOTLY_FILE",
    "colour_of",
    "outcome_label",
    "render_html",
    "write_html",
    "write_plotly",
]
