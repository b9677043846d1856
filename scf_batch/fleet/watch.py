"""What a scheduler and a monitor see of one `fleet run`: one heartbeat and one metrics file for
the whole fleet (`--ping-url`, `--metrics-file`), as `run` has for one org.

The heartbeat: `URL/start` as the fleet starts, then `URL` when it exits 0, else `URL/fail`,
its body the fleet's verdict and its orgs by exit code. The metrics file (report/metrics.py's
fleet file) is replaced whole at the end of every fleet run, interrupted or not. Both are
checked before any org starts (exit 2); a file that cannot be written or a ping that fails is a
warning, never the fleet's verdict. Only the fleet's process reports: its workers do not.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from scf_batch.close.heartbeat import Ping, send_ping
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.verdicts import OrgVerdict
from scf_batch.redact import Scrubber
from scf_batch.report.metrics import (
    FleetEnd,
    OrgEnd,
    read_previous,
    render_fleet_metrics,
    write_metrics,
)
from scf_batch.run.monitoring import check_metrics_file, check_ping_url, warn
from scf_batch.text import show

ROW_KINDS = ("create", "update", "delete", "unchanged", "failing", "invalid")


@dataclass
class FleetWatch:
    """One fleet run seen from outside: where its heartbeat and metrics go."""

    fleet: str  # the manifest's name, the metrics' `fleet` label
    ping_url: str | None = None
    metrics_file: Path | None = None
    secrets: Iterable[str] = ()
    clock: Callable[[], float] = time.time
    timer: Callable[[], float] = time.monotonic
    _began: float = field(default=0.0, init=False)

    def check(self) -> None:
        """Refuse a heartbeat URL that is not https (or loopback) and a metrics file whose
        folder is not there, before any org starts (UsageError: exit 2)."""
        if self.ping_url is not None:
            check_ping_url(self.ping_url)
        if self.metrics_file is not None:
            check_metrics_file(str(self.metrics_file))

    def start(self, orgs: int) -> None:
        """The fleet starts: `URL/start`."""
        self._began = self.timer()
        self._ping(Ping.START, f"scf-batch: fleet {self.fleet} started ({orgs} org(s))")

    def ended(self, code: ExitCode, meaning: str, verdicts: list[OrgVerdict]) -> None:
        """The fleet ended with `code`: the metrics file, then `URL` or `URL/fail`."""
        if self.metrics_file is not None:
            self._write_metrics(self.metrics_file, code, verdicts)
        by_code = Counter(int(v.exit_code) for v in verdicts)
        orgs = ", ".join(f"{n} exit {c}" for c, n in sorted(by_code.items()))
        body = f"scf-batch: fleet {self.fleet}: {meaning} (exit {int(code)}); orgs: {orgs}"
        self._ping(Ping.SUCCESS if code is ExitCode.OK else Ping.FAIL, body)

    def refused(self, message: str) -> None:
        """The fleet was refused before it started (exit 2): `URL/fail`, no metrics."""
        self._ping(Ping.FAIL, f"scf-batch: fleet {self.fleet}: usage error: {message}")

    def _write_metrics(self, path: Path, code: ExitCode, verdicts: list[OrgVerdict]) -> None:
        end = FleetEnd(
            fleet=self.fleet,
            exit_code=int(code),
            ended_at_s=self.clock(),
            duration_s=self.timer() - self._began if self._began else 0.0,
            orgs=tuple(_org_end(v) for v in verdicts),
        )
        try:
            write_metrics(path, render_fleet_metrics(end, read_previous(path)))
        except OSError as exc:  # the fleet's own verdict is the one to report
            warn("metrics_not_written", path=str(path), error=exc.strerror or str(exc))

    def _ping(self, ping: Ping, body: str) -> None:
        url = self.ping_url
        if url is None:
            return
        text = Scrubber(self.secrets).text(body)
        problem = anyio.run(lambda: send_ping(url, ping, text), backend="asyncio")
        if problem is not None:
            host = urlsplit(url).hostname or ""
            warn("ping_failed", ping=str(ping) or "success", host=show(host), error=problem)


def _org_end(verdict: OrgVerdict) -> OrgEnd:
    rows = {kind: int(getattr(verdict, kind)) for kind in ROW_KINDS}
    return OrgEnd(
        name=verdict.name,
        org_id=verdict.org_id,
        exit_code=int(verdict.exit_code),
        rows=rows,
        drift_repaired=verdict.drift_repaired,
    )
