"""Progress for people: a live bar on a TTY, a log line every few seconds elsewhere."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import structlog
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the run stands."""

    done: int
    total: int
    in_flight: int
    rate_limited: int
    requests: int
    elapsed_s: float


class Reporter(Protocol):
    def __enter__(self) -> Reporter: ...
    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def update(self, progress: Progress, *, now: float) -> None: ...


class BarReporter:
    """A rich progress bar: rows done/total, rate, ETA, in flight, 429s."""

    def __init__(self) -> None:
        self._progress = RichProgress(
            TextColumn("[bold]rows"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("in flight {task.fields[in_flight]} · 429s {task.fields[limited]}"),
            transient=False,
            console=None,
        )
        self._task = self._progress.add_task("rows", total=None, rate=0.0, in_flight=0, limited=0)

    def __enter__(self) -> BarReporter:
        self._progress.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, progress: Progress, *, now: float) -> None:
        rate = progress.done / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
        self._progress.update(
            self._task,
            total=progress.total,
            completed=progress.done,
            rate=rate,
            in_flight=progress.in_flight,
            limited=progress.rate_limited,
        )


class LogReporter:
    """One `progress` log line every `interval_s` (for cron and CI logs)."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self._interval_s = interval_s
        self._last = 0.0
        self._log = structlog.get_logger("scf_batch.run.progress")

    def __enter__(self) -> LogReporter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def update(self, progress: Progress, *, now: float) -> None:
        if now - self._last < self._interval_s:
            return
        self._last = now
        self._log.info(
            "progress",
            done=progress.done,
            total=progress.total,
            in_flight=progress.in_flight,
            requests=progress.requests,
            rate_limited=progress.rate_limited,
            rows_per_s=round(progress.done / progress.elapsed_s) if progress.elapsed_s else 0,
        )


def make_reporter(show_bar: bool | None) -> Reporter:
    """A bar when asked, or by default when stderr is a terminal; log lines otherwise."""
    bar = sys.stderr.isatty() if show_bar is None else show_bar
    return BarReporter() if bar else LogReporter()
