"""A fleet's orgs split over worker processes, one per usable core.

One process runs some 700 rows a second before its one core is busy, and Close's limits are
per key and per org, so a fleet of many orgs is bound by this machine's cores, not by Close.
Worker k of W takes the selected orgs k, k + W, k + 2W, ... and its even part of `parallel`;
each is the same `scf-batch fleet run|plan ...` command with `--worker k/W`: the ordinary
fleet engine over its share, printing each org's verdict as one JSON line on its stdout. This
process reads them, and the caller writes the fleet's summary and prints the table as it does
for one process. A handful of processes for the whole fleet, never one per org.

Ending: SIGINT or SIGTERM here is passed to every worker, each of which stops its orgs with
their checkpoints, as one process does. A worker dies with this process: its stdin is a pipe
from here, and at its end (this process gone, even by `kill -9`) the worker kills itself, as
a `kill -9` of the whole tree would; every run is crash-safe, and rerunning continues it.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import anyio
import structlog
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.signals import STOP_SIGNALS, handlers_kept
from scf_batch.fleet.verdicts import OrgVerdict, stopped
from scf_batch.text import show

log = structlog.get_logger("scf_batch.fleet")
MAX_VERDICT_LINE = 1 << 20
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # a container's CPU limit (cgroup v2)
T = TypeVar("T")


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: those it may run on (its CPU affinity where the system
    tells it), fewer when its cgroup's CPU quota is smaller (a container's CPU limit)."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cpu_max)
    return max(1, min(cores, math.ceil(quota))) if quota is not None else cores


def cgroup_cpu_quota(cpu_max: Path = CGROUP_CPU_MAX) -> float | None:
    """The cgroup v2 CPU limit in cores (`cpu.max`: "QUOTA PERIOD", or "max" for none); None
    without one, or without a file that says it."""
    try:
        quota, _, period = cpu_max.read_text(encoding="ascii").strip().partition(" ")
        cores = int(quota) / int(period)
    except (OSError, UnicodeDecodeError, ValueError, ZeroDivisionError):
        return None  # no cgroup v2 here, "max", or not what the kernel writes
    return cores if cores > 0 else None


def worker_count(requested: int | None, *, parallel: int, orgs: int, cores: int) -> int:
    """How many processes run the fleet: `requested` (one per core when None), never more
    than the orgs at once (`parallel`) or the orgs, at least one."""
    wanted = cores if requested is None else requested
    return max(1, min(wanted, parallel, orgs))


def share(items: Sequence[T], index: int, count: int) -> list[T]:
    """Worker `index` of `count`'s items: every count-th, from its index."""
    return list(items[index::count])


def parallel_share(parallel: int, index: int, count: int) -> int:
    """Worker `index` of `count`'s part of `parallel` (the parts add up to it)."""
    return parallel // count + (1 if index < parallel % count else 0)


def parse_worker(text: str) -> tuple[int, int]:
    """`k/W` -> (k, W), with 0 <= k < W; UsageError otherwise."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count) <= 256):
        raise UsageError(f"--worker: found {show(text)}; expected k/W with 0 <= k < W <= 256")
    return int(index), int(count)


def verdict_line(verdict: OrgVerdict) -> str:
    """How a worker tells its parent one org's verdict: one JSON line."""
    return json.dumps(verdict.document(), separators=(",", ":"))


def die_with_parent() -> None:
    """In a worker: kill this process when its stdin (a pipe from the parent) ends.

    The watcher reads the descriptor itself, not `sys.stdin`: a thread blocked inside
    sys.stdin's buffer holds its lock, and the interpreter's exit waits a second for it."""
    stdin = sys.stdin.fileno()

    def watch() -> None:
        try:
            while os.read(stdin, 1 << 16):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


async def in_workers(
    command: Sequence[str],
    names: Sequence[str],
    count: int,
    *,
    finished: Callable[[OrgVerdict], None],
) -> None:
    """Run `command --worker k/count` for each k at once; `finished` sees each org's verdict
    as its worker tells it, and a verdict for every org of `names` its worker ended without.
    Raises KeyboardInterrupt, once every worker has ended, if a signal stopped the fleet."""
    interrupted: list[int] = []
    with handlers_kept(), anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async with anyio.create_task_group() as group:
            procs = [await _start(command, index, count) for index in range(count)]
            group.start_soon(_forward, signals, procs, interrupted)
            async with anyio.create_task_group() as workers:
                for index, proc in enumerate(procs):
                    mine = share(names, index, count)
                    workers.start_soon(_follow, proc, mine, finished, interrupted)
            group.cancel_scope.cancel()
    if interrupted:
        raise KeyboardInterrupt


async def _start(command: Sequence[str], index: int, count: int) -> Process:
    """Worker `index`: its stdin a pipe it watches, its verdicts on a pipe, its logs ours."""
    argv = [*command, "--worker", f"{index}/{count}"]
    return await anyio.open_process(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None
    )


async def _forward(
    signals: AsyncIterator[int], procs: list[Process], interrupted: list[int]
) -> None:
    """Pass each SIGINT/SIGTERM to every worker still running, as SIGTERM."""
    async for signum in signals:
        if not interrupted:
            log.warning("fleet_interrupted", signal=signal.Signals(signum).name)
            interrupted.append(signum)
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)


async def _follow(
    proc: Process,
    names: list[str],
    finished: Callable[[OrgVerdict], None],
    interrupted: list[int],
) -> None:
    """Read one worker's verdicts until it ends; then the verdict of each org it left."""
    told: set[str] = set()
    assert proc.stdout is not None
    lines = BufferedByteReceiveStream(proc.stdout)
    while True:
        try:
            line = await lines.receive_until(b"\n", MAX_VERDICT_LINE)
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound):
            break
        verdict = _verdict(line)
        if verdict is None or verdict.name not in names or verdict.name in told:
            log.error("fleet_worker_said", line=line[:200].decode("utf-8", "replace"))
            continue
        told.add(verdict.name)
        finished(verdict)
    code = await proc.wait()
    with anyio.CancelScope(shield=True):
        await proc.aclose()
    for name in names:
        if name not in told:
            finished(_left(name, code, interrupted=bool(interrupted)))


def _verdict(line: bytes) -> OrgVerdict | None:
    try:
        return OrgVerdict.from_document(json.loads(line))
    except (ValueError, KeyError, TypeError):
        return None


def _left(name: str, code: int, *, interrupted: bool) -> OrgVerdict:
    """An org whose worker ended before telling its verdict."""
    if interrupted or code in (ExitCode.INTERRUPTED, -signal.SIGINT, -signal.SIGTERM):
        return stopped(name, ExitCode.INTERRUPTED, "interrupted before it finished")
    return stopped(
        name, ExitCode.ROWS_FAILED, f"its worker process ended (exit {code}) before it finished"
    )
