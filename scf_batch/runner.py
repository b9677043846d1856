"""One run: check the whole job, then reader -> bounded stream -> workers -> one writer.

Memory is bounded by `--concurrency`, not by the file: the reader streams the operations
file and admits at most `4 * concurrency` rows that are not finished yet. Rows that touch the
same (field, target) form a chain that one worker runs in input order; others run in parallel.
"""

from __future__ import annotations

import math
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from scf_batch import checkpoint
from scf_batch.actions import ActionRunner, AssociationApi, Attempts
from scf_batch.catalog import Catalog
from scf_batch.close_client import ClientStats
from scf_batch.errors import AuthError
from scf_batch.exitcodes import ExitCode
from scf_batch.jobfile import read_operations
from scf_batch.models import (
    Operation,
    Outcome,
    ResolvedOperation,
    RowError,
    RowResult,
    Status,
)
from scf_batch.progress import Reporter, Snapshot
from scf_batch.repeats import KnownRepeats
from scf_batch.results import (
    RESULTS_FILE,
    SUMMARY_FILE,
    ResultsWriter,
    Tally,
    write_json_atomically,
)
from scf_batch.retry import RetryPolicy
from scf_batch.settings import RunSettings

log = structlog.get_logger("scf_batch.runner")

CHECKPOINT_INTERVAL_S = 2.0
PENDING_PER_WORKER = 4


class RunClient(AssociationApi, Protocol):
    """What a run needs of the client: the association calls and its counters."""

    stats: ClientStats


@dataclass
class RunReport:
    """How a run ended, for the summary and the exit code."""

    exit_code: ExitCode
    folder: Path
    total_rows: int
    tally: Tally
    elapsed_s: float
    requests: int
    rate_limited: int
    rate_per_s: float
    reason: str | None = None
    remaining: int = 0
    resumed_rows: int = 0
    retried_rows: int = 0

    def to_summary(self) -> dict[str, Any]:
        return {
            "exit_code": int(self.exit_code),
            "reason": self.reason,
            "rows_total": self.total_rows,
            "rows_done": self.tally.done,
            "rows_remaining": self.remaining,
            "rows_done_before_this_run": self.resumed_rows,
            "rows_retried_this_run": self.retried_rows,
            "by_status": dict(self.tally.by_status),
            "by_outcome": dict(self.tally.by_outcome),
            "elapsed_s": round(self.elapsed_s, 3),
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "achieved_requests_per_s": round(self.requests / self.elapsed_s, 3)
            if self.elapsed_s > 0
            else 0.0,
            "allowed_requests_per_s_per_group": self.rate_per_s,
        }


def resolve(
    item: Operation | RowError, catalog: Catalog, path: str
) -> ResolvedOperation | RowError:
    """An operation with its names turned into ids, or a RowError saying what is unknown."""
    if isinstance(item, RowError):
        return item
    resolved = catalog.resolve(item, path)
    if isinstance(resolved, ResolvedOperation):
        return resolved
    return RowError(row=item.row, line=item.line, problems=tuple(resolved), key=item.key)


def invalid_result(error: RowError, action: str = "") -> RowResult:
    return RowResult(
        row=error.row,
        line=error.line,
        key=error.key,
        action=action,
        scf_id=None,
        object_type=None,
        target=None,
        status=Status.INVALID,
        outcome=Outcome.INVALID,
        error="; ".join(str(p) for p in error.problems),
        finished_at=_utc_now(),
    )


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Run:
    """Runs the rows of one job that are not done yet against one client."""

    def __init__(
        self,
        settings: RunSettings,
        client: RunClient,
        catalog: Catalog,
        *,
        digest: str,
        total_rows: int,
        resume: checkpoint.Resume,
        reporter: Reporter,
        repeats: KnownRepeats | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.repeats = repeats  # from the offline pass: its conflicts in one pass (repeats.py)
        self.client = client
        self.catalog = catalog
        self.digest = digest
        self.total_rows = total_rows
        self.done = resume.done
        self.tally = resume.tally
        self.resumed_rows = resume.done.count
        self.reporter = reporter
        self.clock = clock
        self.policy = RetryPolicy(
            max_retries=settings.max_retries, row_deadline_s=settings.row_deadline_s
        )
        self.started = clock()
        self.exit_code: ExitCode | None = None
        self.reason: str | None = None
        self.halting = False
        self.in_flight = 0
        self.admitted = 0
        self.retried_rows = 0
        self.more_rows = False
        self._chains: dict[tuple[str, str], deque[ResolvedOperation]] = {}
        self._slots = anyio.Semaphore(settings.concurrency * PENDING_PER_WORKER)
        self._scope: anyio.CancelScope | None = None
        self._writer = ResultsWriter(settings.out / RESULTS_FILE)
        self._last_checkpoint = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    async def execute(self) -> RunReport:
        try:
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._watch_signals, outer.cancel_scope)
                await self._pipeline()
                outer.cancel_scope.cancel()
        finally:
            # synchronous on purpose: nothing can cancel the final flush and checkpoint
            report = self._finish()
        return report

    async def _watch_signals(self, outer: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self._stop(ExitCode.INTERRUPTED, f"interrupted by {signal.Signals(signum).name}")
                return

    async def _pipeline(self) -> None:
        work_send, work_recv = anyio.create_memory_object_stream[ResolvedOperation](
            self.settings.concurrency
        )
        result_send, result_recv = anyio.create_memory_object_stream[RowResult](
            self.settings.concurrency * 2
        )
        async with anyio.create_task_group() as tg:
            self._scope = tg.cancel_scope
            tg.start_soon(self._read, work_send, result_send.clone())
            for _ in range(self.settings.concurrency):
                tg.start_soon(self._work, work_recv.clone(), result_send.clone())
            work_recv.close()
            result_send.close()
            tg.start_soon(self._write, result_recv)

    def _stop(self, code: ExitCode, reason: str) -> None:
        """Stop at once: cancel in-flight requests; their rows run again on resume."""
        if self.exit_code is None:
            self.exit_code = code
            self.reason = reason
        self.halting = True
        if self._scope is not None:
            self._scope.cancel()

    # -- reader ------------------------------------------------------------------------------

    async def _read(
        self,
        work: MemoryObjectSendStream[ResolvedOperation],
        results: MemoryObjectSendStream[RowResult],
    ) -> None:
        path = str(self.settings.operations)
        deadline = (
            self.started + self.settings.max_duration_s
            if self.settings.max_duration_s is not None
            else math.inf
        )
        async with work, results:
            skipped = 0
            for item in read_operations(self.settings.operations, self.repeats):
                if item.row in self.done:
                    skipped += 1
                    if skipped % 1000 == 0:
                        await anyio.lowlevel.checkpoint()
                    continue
                if self._must_stop_admitting(deadline):
                    self.more_rows = True
                    return
                await self._slots.acquire()
                if self._must_stop_admitting(deadline):
                    self.more_rows = True
                    self._slots.release()
                    return
                self.admitted += 1
                resolved = resolve(item, self.catalog, path)
                if isinstance(resolved, RowError):
                    action = "" if isinstance(item, RowError) else item.action.value
                    await results.send(invalid_result(resolved, action))
                    self._slots.release()
                    continue
                await self._admit(resolved, work)

    def _must_stop_admitting(self, deadline: float) -> bool:
        if self.halting:
            return True
        if self.settings.limit is not None and self.admitted >= self.settings.limit:
            self._halt(f"--limit {self.settings.limit} reached")
            return True
        if self.clock() >= deadline:
            self._halt(f"--max-duration {self.settings.max_duration_s}s reached")
            return True
        return False

    def _halt(self, reason: str) -> None:
        """Stop admitting rows; rows in flight finish and are recorded."""
        if self.exit_code is None:
            self.exit_code = ExitCode.STOPPED_EARLY
            self.reason = reason
        self.halting = True

    async def _admit(
        self, rop: ResolvedOperation, work: MemoryObjectSendStream[ResolvedOperation]
    ) -> None:
        chain = self._chains.get(rop.pair)
        if chain is not None:
            chain.append(rop)  # its pair is in flight: run after it, in input order
            return
        self._chains[rop.pair] = deque()
        await work.send(rop)

    # -- workers -----------------------------------------------------------------------------

    async def _work(
        self,
        work: MemoryObjectReceiveStream[ResolvedOperation],
        results: MemoryObjectSendStream[RowResult],
    ) -> None:
        async with work, results:
            async for first in work:
                current: ResolvedOperation | None = first
                while current is not None:
                    result = await self._process(current)
                    if result is None:
                        return  # the run is stopping: this row stays undone
                    await results.send(result)
                    self._slots.release()
                    current = self._next_in_chain(current.pair)

    def _next_in_chain(self, pair: tuple[str, str]) -> ResolvedOperation | None:
        chain = self._chains[pair]
        if chain and not self.halting:
            return chain.popleft()
        for _ in chain:  # halting: these rows stay undone and run on resume
            self._slots.release()
        del self._chains[pair]
        return None

    async def _process(self, rop: ResolvedOperation) -> RowResult | None:
        started = self.clock()
        attempts = Attempts(self.policy)
        self.in_flight += 1
        try:
            with structlog.contextvars.bound_contextvars(row=rop.op.row):
                verdict = await ActionRunner(self.client, attempts).perform(rop)
        except AuthError as exc:
            self._stop(ExitCode.ABORTED, f"Close refused the credentials (HTTP {exc.status})")
            return None
        finally:
            self.in_flight -= 1
        self.retried_rows += attempts.retried
        op = rop.op
        result = RowResult(
            row=op.row,
            line=op.line,
            key=op.key,
            action=op.action.value,
            scf_id=rop.scf_id,
            object_type=rop.target.object_type.value,
            target=rop.target.path,
            status=verdict.status,
            outcome=verdict.outcome,
            http_status=verdict.http_status,
            attempts=attempts.count,
            error=verdict.error,
            field_errors=verdict.field_errors,
            duration_ms=round((self.clock() - started) * 1000),
            finished_at=_utc_now(),
        )
        log.debug("row", action=result.action, status=result.status, outcome=result.outcome)
        return result

    # -- writer ------------------------------------------------------------------------------

    async def _write(self, results: MemoryObjectReceiveStream[RowResult]) -> None:
        async with results:
            async for result in results:
                now = self.clock()
                self._writer.write(result, now=now)
                self.done.add(result.row)
                self.tally.add(result.status.value, result.outcome.value)
                self.reporter.update(self.snapshot(now), now=now)
                if now - self._last_checkpoint >= CHECKPOINT_INTERVAL_S:
                    self._save_checkpoint(now, complete=False)
                max_errors = self.settings.max_errors
                if max_errors is not None and self.tally.failed >= max_errors:
                    self._stop(ExitCode.ABORTED, f"--max-errors {max_errors} reached")

    def snapshot(self, now: float) -> Snapshot:
        return Snapshot(
            done=self.tally.done,
            total=self.total_rows,
            in_flight=self.in_flight,
            rate_limited=self.client.stats.rate_limited,
            requests=self.client.stats.requests,
            elapsed_s=now - self.started,
        )

    def _save_checkpoint(self, now: float, *, complete: bool) -> None:
        self._writer.sync(now=now)
        self._last_checkpoint = now
        checkpoint.write_checkpoint(
            self.settings.out,
            checkpoint_document(
                self.settings, self.digest, self.total_rows, self.tally, complete=complete
            ),
        )

    def _finish(self) -> RunReport:
        now = self.clock()
        remaining = self.total_rows - self.tally.done
        complete = remaining == 0
        self._save_checkpoint(now, complete=complete)
        self._writer.close()
        self.reporter.update(self.snapshot(now), now=math.inf)
        code = self.exit_code
        if code is None or (code is ExitCode.STOPPED_EARLY and complete):
            code = ExitCode.OK if self.tally.not_ok == 0 else ExitCode.ROWS_FAILED
            if not complete:  # should not happen: every admitted row ends with a result
                code = ExitCode.STOPPED_EARLY
        report = RunReport(
            exit_code=code,
            folder=self.settings.out,
            total_rows=self.total_rows,
            tally=self.tally,
            elapsed_s=now - self.started,
            requests=self.client.stats.requests,
            rate_limited=self.client.stats.rate_limited,
            rate_per_s=self.settings.rate_per_s,
            reason=self.reason,
            remaining=remaining,
            resumed_rows=self.resumed_rows,
            retried_rows=self.retried_rows,
        )
        write_json_atomically(self.settings.out / SUMMARY_FILE, report.to_summary())
        return report


def checkpoint_document(
    settings: RunSettings, digest: str, total_rows: int, tally: Tally, *, complete: bool
) -> dict[str, Any]:
    """What checkpoint.json holds: the input's fingerprint, the settings and the progress."""
    return {
        "version": checkpoint.CHECKPOINT_VERSION,
        "job": settings.name,
        "input": {"path": str(settings.operations), "fingerprint": digest},
        "settings": settings.fingerprint_settings(),
        "rows_total": total_rows,
        "rows_done": tally.done,
        "complete": complete,
        "updated_at": _utc_now(),
    }
