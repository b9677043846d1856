"""Running one contender process and recording what it did: wall time, peak RSS, CPU, the table."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measure:
    """One line of the table: what was measured, its figure, the goal and whether it is met."""

    section: int
    case: str
    contender: str
    rows: int
    elapsed_s: float
    metric: str  # what `value` is: efficiency, ratio, MB, ...
    value: float
    goal: str = ""
    met: bool | None = None
    share_429: float | None = None
    lost: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finished:
    """A finished process: exit code, wall seconds from spawn, peak RSS (MB), CPU seconds."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    stdout: str
    stderr: str


class Proc:
    """A child process timed from spawn, reaped with `wait4` for its own peak RSS and CPU."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self._out = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in wait())
        self._err = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in wait())
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            command, stdout=self._out, stderr=self._err, env={**os.environ, **(env or {})}
        )

    def wait(self) -> Finished:
        _, status, usage = os.wait4(self.popen.pid, 0)
        wall_s = time.monotonic() - self.started
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        self._out.seek(0)
        self._err.seek(0)
        finished = Finished(
            returncode=self.popen.returncode,
            wall_s=wall_s,
            peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            cpu_s=usage.ru_utime + usage.ru_stime,
            stdout=self._out.read(),
            stderr=self._err.read(),
        )
        self._out.close()
        self._err.close()
        return finished


def scf_batch_run(
    job: Path, base_url: str, out: Path, *, rate: float, key: str, extra: tuple[str, ...] = ()
) -> Proc:
    """`scf-batch run` at default settings but `--rate`, with the key in its environment."""
    command = [sys.executable, "-m", "scf_batch", "run", str(job), "--base-url", base_url]
    command += ["--out", str(out), "--rate", f"{rate:g}", "--no-progress", "--log-format", "json"]
    return Proc([*command, *extra], env={"CLOSE_API_KEY": key})


def peer_run(contender: str, job: Path, base_url: str, *, rate: float, deadline_s: float) -> Proc:
    """One of `bench/peers.py`'s contenders, with the first simulator key."""
    command = [sys.executable, str(ROOT / "bench" / "peers.py"), contender, "--base-url", base_url]
    command += ["--job", str(job), "--rate", f"{rate:g}", "--deadline", f"{deadline_s:g}"]
    return Proc(command, env={"CLOSE_API_KEY": "api_target_key_1"})


COLUMNS = ("§", "case", "contender", "rows", "elapsed s", "metric", "value", "429 %", "lost")


def format_table(measures: list[Measure]) -> str:
    """One Markdown table of every measure, with its goal and whether it was met."""
    header = [*COLUMNS, "goal", "met"]
    lines = [header]
    for m in measures:
        share = "" if m.share_429 is None else f"{100 * m.share_429:.2f}"
        lost = "" if m.lost is None else str(m.lost)
        met = "" if m.met is None else ("yes" if m.met else "NO")
        value = f"{m.value:.3f}" if m.value < 10 else f"{m.value:,.1f}"
        cells = [str(m.section), m.case, m.contender, f"{m.rows:,}", f"{m.elapsed_s:.1f}"]
        lines.append([*cells, m.metric, value, share, lost, m.goal, met])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    rendered = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in lines
    ]
    rendered.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)
