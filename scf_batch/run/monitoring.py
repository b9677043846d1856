"""What a scheduler and a monitor see of one `run`: heartbeats, the metrics file and the exit
status.

A run's real exit code stays in summary.json, the summary event and the metrics; a scheduler
that fails a job on any code but 0 may ask for 0 in place of a deliberate stop
(`--exit-zero-on-stop`). The metrics file and the closing heartbeat are sent at the end of every
run whose settings are known, however it ends (a refusal, a held lock, an interruption); the
closing heartbeat follows the process's exit status (`URL` for 0, `URL/fail` otherwise) with
the real code in its body. A file that cannot be written or a ping that fails is a warning,
never the run's verdict.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import structlog

from scf_batch.close.heartbeat import Ping, ping_url_problem, send_ping
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode, exit_code_for, exit_status
from scf_batch.options import RunSettings
from scf_batch.redact import Scrubber
from scf_batch.report.metrics import RunEnd, read_previous, render_metrics, write_metrics
from scf_batch.report.summary import RunReport, render_summary
from scf_batch.text import show

log = structlog.get_logger("scf_batch.run.monitoring")


def check_monitoring(settings: RunSettings) -> None:
    """Refuse, before anything runs, a heartbeat URL that is not https (or loopback) and a
    metrics file whose folder is not there (exit 2)."""
    if settings.ping_url is not None:
        check_ping_url(settings.ping_url)
    if settings.metrics_file is not None:
        check_metrics_file(settings.metrics_file)


def check_ping_url(url: str) -> None:
    """UsageError for a heartbeat URL that is not https (or loopback)."""
    problem = ping_url_problem(url)
    if problem is not None:
        raise UsageError(
            f"--ping-url: {problem}. The heartbeat's body says how the run went: it goes "
            "over https only"
        )


def check_metrics_file(path: str) -> None:
    """UsageError for a metrics file whose folder is not there."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageError(
            f"--metrics-file: found {path}, in {folder}, which is not a "
            "folder; expected a file in an existing folder (node_exporter's textfile directory)"
        )


class Watch:
    """One `run` seen from outside; it learns the settings once they are known."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings: RunSettings | None = None
        self.report: RunReport | None = None  # the summary of a run of the pass, once ended
        self._clock = clock
        self._timer = timer
        self._began = 0.0
        self._finished = False
        self._scrub = Scrubber(())

    def begin(self, settings: RunSettings) -> None:
        """The run's settings are known: from here, however it ends, the run is reported."""
        check_monitoring(settings)
        self.settings = settings
        self._began = self._timer()

    def start(self, secret: str) -> None:
        """The run starts (its key known, to be scrubbed from every heartbeat): `URL/start`."""
        self._scrub = Scrubber([secret])
        if self.settings is not None:
            self._ping(Ping.START, f"scf-batch: run of {self.settings.name} started")

    def keep(self, report: RunReport) -> None:
        """The summary of a run of the pass that is ending by an exception."""
        self.report = report

    def ended(self, report: RunReport) -> None:
        """The run ended with its summary."""
        self.report = report
        verdict = render_summary(report).splitlines()[0]
        rows = f"{report.tally.done}/{report.total_rows} rows done"
        self._finish(int(report.exit_code), f"{verdict}; {rows}")

    def failed(self, exc: BaseException) -> None:
        """The run is ending by `exc` (its summary, if it got that far, kept already)."""
        code = exit_code_for(exc)
        message = str(exc).strip().split("\n", 1)[0]
        said = f"{code.meaning}: {message}" if message else code.meaning
        self._finish(int(code), f"scf-batch: {said} (exit {int(code)})")

    def exit_status(self, code: int) -> int:
        """The process's exit status for the command's exit code (the settings may say 0 for
        a stop; before they are known, the code as it is)."""
        zero_on_stop = self.settings is not None and self.settings.exit_zero_on_stop
        return exit_status(code, zero_on_stop=zero_on_stop)

    def _finish(self, code: int, verdict: str) -> None:
        settings = self.settings
        if settings is None or self._finished:
            return
        self._finished = True
        if settings.metrics_file is not None:
            self._write_metrics(Path(settings.metrics_file), self._end(settings, code))
        ping = Ping.SUCCESS if self.exit_status(code) == ExitCode.OK else Ping.FAIL
        self._ping(ping, verdict)

    def _ping(self, ping: Ping, body: str) -> None:
        """One heartbeat, if the settings name a URL; a failed one is a warning."""
        url = self.settings.ping_url if self.settings is not None else None
        if url is None:
            return
        text = self._scrub.text(body)
        problem = anyio.run(lambda: send_ping(url, ping, text), backend="asyncio")
        if problem is not None:
            host = urlsplit(url).hostname or ""
            warn("ping_failed", ping=str(ping) or "success", host=show(host), error=problem)

    def _end(self, settings: RunSettings, code: int) -> RunEnd:
        report = self.report
        org = report.org if report is not None else None
        return RunEnd(
            job=settings.name,
            org_id=org.id if org is not None else settings.organization_id,
            exit_code=code,
            ended_at_s=self._clock(),
            duration_s=self._timer() - self._began,
            report=report,
        )

    def _write_metrics(self, path: Path, end: RunEnd) -> None:
        try:
            write_metrics(path, render_metrics(end, read_previous(path)))
        except OSError as exc:  # the run's own verdict is the one to report
            warn("metrics_not_written", path=str(path), error=exc.strerror or str(exc))


def warn(event: str, **fields: str) -> None:
    """A warning on stderr: a log event once the logs are set up, else one line of text (an
    unconfigured structlog would print to stdout)."""
    if structlog.is_configured():
        log.warning(event, **fields)
        return
    details = "; ".join(f"{name}: {value}" for name, value in fields.items())
    sys.stderr.write(f"scf-batch: warning: {event.replace('_', ' ')}: {details}\n")
