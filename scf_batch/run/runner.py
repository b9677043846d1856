"""One run: reader -> bounded stream -> workers -> the sink, under the run's limits.

The runner knows three seams only: a row (its number and its chain), something that executes
a row (`RowExecutor`) and somewhere results go (`ResultSink`); run/job.py assembles the real
ones. Memory is bounded by `concurrency`, not by the file: the reader streams rows and admits at
most `4 * concurrency` rows that are not finished yet. Rows of the same chain (one pair) run in
input order, on one worker; other rows run in parallel.

Rows come in stages, run one after the other: the next stage is asked for once every row of the
one before has ended (a barrier), so a stage may be built from what the earlier ones left (the
association rows resolve the fields the definitions made). One run, one set of limits and stop
rules, one sink, whatever the stage.

A worker records its row in the sink the moment the row ends, in the same step of the event
loop (`ResultSink.write` is synchronous), so the sink has one writer at a time without a writer
task, and no finished row waits in a buffer where a crash would lose it.
"""

from __future__ import annotations

import math
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Container, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import anyio
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from scf_batch.close.retry import RefusalStreak
from scf_batch.errors import AuthError, ServerRefusing
from scf_batch.exitcodes import ExitCode
from scf_batch.models import Outcome as RowOutcome
from scf_batch.models import RowResult
from scf_batch.run.progress import Progress, Reporter
from scf_batch.runfolder.results import Tally

log = structlog.get_logger("scf_batch.run.runner")

PENDING_PER_WORKER = 4
# rows in a row that gave up on 429s before the run stops (at least the concurrency)
REFUSAL_BUDGET_ROWS = 5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
ChainKey = tuple[str, str]


class Row(Protocol):
    """What the runner knows of a row: its number, and the chain it runs in (None: alone)."""

    @property
    def row(self) -> int: ...
    @property
    def chain(self) -> ChainKey | None: ...


R = TypeVar("R", bound=Row)
R_contra = TypeVar("R_contra", bound=Row, contravariant=True)


class RowExecutor(Protocol[R_contra]):
    """Carries out one row and says how it ended."""

    async def execute(self, prepared: R_contra) -> RowResult: ...


class ResultSink(Protocol):
    """Where finished rows go (the run folder); `close` runs once, whatever happened."""

    def write(self, result: RowResult, *, now: float) -> None: ...
    def close(self, *, complete: bool, now: float) -> None: ...


class Counters(Protocol):
    """What the client has sent and met so far, for progress."""

    requests: int
    rate_limited: int


@dataclass(frozen=True, slots=True)
class Limits:
    """When a run stops before its rows are all done."""

    concurrency: int
    limit: int | None = None
    max_errors: int | None = None
    max_duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the run ended."""

    exit_code: ExitCode
    reason: str | None
    elapsed_s: float
    tally: Tally


class Run(Generic[R]):
    """Runs the rows that are not done yet, stage after stage."""

    def __init__(
        self,
        stages: Iterable[Iterable[R]],
        executor: RowExecutor[R],
        sink: ResultSink,
        limits: Limits,
        *,
        total_rows: int,
        done: Container[int],
        tally: Tally,
        counters: Counters,
        reporter: Reporter,
        clock: Callable[[], float] = time.monotonic,
        own_signals: bool = True,
    ) -> None:
        self.stages = stages
        self.own_signals = own_signals  # False: the caller (a fleet) handles SIGINT/SIGTERM
        self.executor = executor
        self.sink = sink
        self.limits = limits
        self.total_rows = total_rows
        self.done = done
        self.tally = tally
        self.counters = counters
        self.reporter = reporter
        self.clock = clock
        self.started = clock()
        self.exit_code: ExitCode | None = None
        self.reason: str | None = None
        self.halting = False
        self.in_flight = 0
        self.admitted = 0
        self.wrote = 0  # rows of this run that sent a request: what --limit counts
        self.unsettled = 0  # admitted rows not finished yet (each may still write)
        self._settled = anyio.Event()
        self._chains: dict[ChainKey, deque[R]] = {}
        self._slots = anyio.Semaphore(limits.concurrency * PENDING_PER_WORKER)
        self._scope: anyio.CancelScope | None = None
        self._refusals = RefusalStreak(budget=max(limits.concurrency, REFUSAL_BUDGET_ROWS))

    # -- lifecycle ---------------------------------------------------------------------------

    async def execute(self) -> Outcome:
        if not self.own_signals:  # cancelled from outside: the finish below still runs
            try:
                await self._pipeline()
            finally:
                outcome = self._finish()
            return outcome
        # The receiver stays open until the checkpoint is written, so a second signal cannot
        # cut it short; then the handlers from before the run are back (the receiver's exit
        # would leave the system's defaults: a later SIGTERM would kill without a word).
        handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        try:
            with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
                try:
                    async with anyio.create_task_group() as outer:
                        outer.start_soon(self._watch_signals, signals)
                        await self._pipeline()
                        outer.cancel_scope.cancel()
                finally:
                    # synchronous on purpose: nothing can cancel the final flush and checkpoint
                    outcome = self._finish()
        finally:
            for signum, handler in handlers.items():
                if handler is not None:
                    signal.signal(signum, handler)
        return outcome

    async def _watch_signals(self, signals: AsyncIterator[int]) -> None:
        async for signum in signals:  # the first one stops the run; later ones change nothing
            self._stop(ExitCode.INTERRUPTED, f"interrupted by {signal.Signals(signum).name}")

    async def _pipeline(self) -> None:
        concurrency = self.limits.concurrency
        work_send, work_recv = anyio.create_memory_object_stream[R](concurrency)
        async with anyio.create_task_group() as tg:
            self._scope = tg.cancel_scope
            tg.start_soon(self._read, work_send)
            for _ in range(concurrency):
                tg.start_soon(self._work, work_recv.clone())
            work_recv.close()

    def _stop(self, code: ExitCode, reason: str) -> None:
        """Stop at once: cancel in-flight requests; their rows run again on resume."""
        if self.exit_code is None:
            self.exit_code = code
            self.reason = reason
        self.halting = True
        if self._scope is not None:
            self._scope.cancel()

    def _halt(self, reason: str) -> None:
        """Stop admitting rows; rows in flight finish and are recorded."""
        if self.exit_code is None:
            self.exit_code = ExitCode.STOPPED_EARLY
            self.reason = reason
        self.halting = True

    # -- reader ------------------------------------------------------------------------------

    async def _read(self, work: MemoryObjectSendStream[R]) -> None:
        limit_s = self.limits.max_duration_s
        deadline = self.started + limit_s if limit_s is not None else math.inf
        async with work:
            for stage in self.stages:
                if not await self._read_stage(stage, work, deadline):
                    return
                # the barrier: the next stage is built once every row of this one has ended
                while self.unsettled > 0 and not self.halting:
                    await self._settled.wait()
                if self.halting:
                    return

    async def _read_stage(
        self, rows: Iterable[R], work: MemoryObjectSendStream[R], deadline: float
    ) -> bool:
        """Admit the stage's rows that are not done; False once the run stops admitting."""
        skipped = 0
        for prepared in rows:
            if prepared.row in self.done:
                skipped += 1
                if skipped % 1000 == 0:
                    await anyio.lowlevel.checkpoint()
                continue
            if await self._must_stop_admitting(deadline):
                return False
            await self._slots.acquire()  # at most 4 x concurrency rows ahead of the workers
            if await self._must_stop_admitting(deadline):
                self._slots.release()
                return False
            self.admitted += 1
            self.unsettled += 1
            await self._admit(prepared, work)
        return True

    async def _must_stop_admitting(self, deadline: float) -> bool:
        if self.halting:
            return True
        limit = self.limits.limit
        if limit is not None:
            # exact: a row is admitted only while the rows that wrote plus those that still may
            # stay under the limit; rows that need no write are not counted
            while self.wrote < limit <= self.wrote + self.unsettled and not self.halting:
                await self._settled.wait()
            if self.wrote >= limit:
                self._halt(f"--limit {limit} reached: {limit} row(s) that write were run")
                return True
        if self.halting:
            return True
        if self.clock() >= deadline:
            self._halt(f"--max-duration {self.limits.max_duration_s:g}s reached")
            return True
        return False

    async def _admit(self, prepared: R, work: MemoryObjectSendStream[R]) -> None:
        key = prepared.chain
        if key is not None:
            chain = self._chains.get(key)
            if chain is not None:
                chain.append(prepared)  # its pair is in flight: run after it, in input order
                return
            self._chains[key] = deque()
        await work.send(prepared)

    # -- workers -----------------------------------------------------------------------------

    async def _work(self, work: MemoryObjectReceiveStream[R]) -> None:
        async with work:
            while (first := await _next_row(work)) is not None:
                current: R | None = first
                while current is not None:
                    result = await self._process(current)
                    if result is None:
                        return  # the run is stopping: this row stays undone
                    self._record(result)
                    self._slots.release()
                    current = self._next_in_chain(current)

    def _next_in_chain(self, prepared: R) -> R | None:
        key = prepared.chain
        if key is None:
            return None
        chain = self._chains[key]
        if chain and not self.halting:
            return chain.popleft()
        for _ in chain:  # halting: these rows stay undone and run on resume
            self._slots.release()
            self._settle()
        del self._chains[key]
        return None

    async def _process(self, prepared: R) -> RowResult | None:
        self.in_flight += 1
        try:
            result = await self.executor.execute(prepared)
        except AuthError as exc:
            self._stop(ExitCode.ABORTED, f"Close refused the credentials (HTTP {exc.status})")
            return None
        except ServerRefusing as exc:
            self._stop(ExitCode.REFUSING, str(exc))
            return None
        finally:
            self.in_flight -= 1
        log.debug("row", row=result.row, status=result.status, outcome=result.outcome)
        return result

    # -- recording ---------------------------------------------------------------------------

    def _record(self, result: RowResult) -> None:
        """Write a finished row to the sink and count it; synchronous, so rows never interleave."""
        now = self.clock()
        self.sink.write(result, now=now)
        self.tally.add(result.status.value, result.outcome.value)
        self.wrote += result.requests > 0
        self._settle()
        self.reporter.update(self.progress(now), now=now)
        max_errors = self.limits.max_errors
        if max_errors is not None and self.tally.failed >= max_errors:
            self._stop(ExitCode.REFUSING, f"--max-errors {max_errors} reached")
        gave_up = result.outcome is RowOutcome.GAVE_UP
        refusing = self._refusals.see(gave_up=gave_up, status=result.http_status)
        if refusing is not None:
            self._stop(ExitCode.REFUSING, refusing)

    def _settle(self) -> None:
        """One admitted row is finished (or dropped): a reader waiting on --limit re-checks."""
        self.unsettled -= 1
        self._settled.set()
        self._settled = anyio.Event()

    def progress(self, now: float) -> Progress:
        return Progress(
            done=self.tally.done,
            total=self.total_rows,
            in_flight=self.in_flight,
            rate_limited=self.counters.rate_limited,
            requests=self.counters.requests,
            elapsed_s=now - self.started,
        )

    def _finish(self) -> Outcome:
        now = self.clock()
        complete = self.tally.done >= self.total_rows
        self.sink.close(complete=complete, now=now)
        self.reporter.update(self.progress(now), now=math.inf)
        code = self.exit_code
        if code is None or (code is ExitCode.STOPPED_EARLY and complete):
            code = ExitCode.OK if self.tally.not_ok == 0 else ExitCode.ROWS_FAILED
            if not complete:  # should not happen: every admitted row ends with a result
                code = ExitCode.STOPPED_EARLY
        return Outcome(code, self.reason, now - self.started, self.tally)


async def _next_row(work: MemoryObjectReceiveStream[R]) -> R | None:
    """The next row for a worker (None when the reader is done)."""
    try:
        return await work.receive()
    except anyio.EndOfStream:
        return None
