"""The run pipeline in-process: a fake executor and a recording sink behind the two seams."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import anyio
import pytest

from scf_batch.errors import AuthError, ServerRefusing
from scf_batch.exitcodes import ExitCode
from scf_batch.models import (
    Action,
    ObjectType,
    Operation,
    Outcome,
    Ref,
    ResolvedOperation,
    RowResult,
    Status,
    Target,
)
from scf_batch.plan.prepare import Prepared
from scf_batch.run.progress import Progress
from scf_batch.run.runner import Limits, Run
from scf_batch.runfolder.results import Tally
from tests.jobfiles import FIELD_1, FIELD_2

pytestmark = pytest.mark.anyio


class Counters:
    requests = 0
    rate_limited = 0


class QuietReporter:
    def __enter__(self) -> QuietReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, progress: Progress, *, now: float) -> None:
        self.last = progress


class RecordingSink:
    """Keeps results in memory; remembers how it was closed."""

    def __init__(self) -> None:
        self.results: list[RowResult] = []
        self.closed: bool | None = None

    def write(self, result: RowResult, *, now: float) -> None:
        self.results.append(result)

    def close(self, *, complete: bool, now: float) -> None:
        self.closed = complete


class FakeExecutor:
    """Executes rows after a short wait; `fail` rows fail, `raise_at` rows raise, `idle` rows
    need no write (they send no request)."""

    def __init__(
        self,
        *,
        fail: Collection[int] = (),
        raise_at: dict[int, Exception] | None = None,
        idle: Collection[int] = (),
    ) -> None:
        self.fail = fail
        self.raise_at = raise_at or {}
        self.idle = idle
        self.started: list[int] = []

    async def execute(self, prepared: Prepared) -> RowResult:
        self.started.append(prepared.row)
        if prepared.row in self.raise_at:
            raise self.raise_at[prepared.row]
        # later rows of a pair finish sooner: only the chain keeps them in order
        await anyio.sleep(0.002 * (10 - prepared.row % 10))
        status = Status.FAILED if prepared.row in self.fail else Status.OK
        if prepared.row in self.idle:
            return RowResult(prepared.row, prepared.line, None, "ensure", status, Outcome.UNCHANGED)
        return RowResult(
            prepared.row, prepared.line, None, "ensure", status, Outcome.UPDATED, requests=1
        )


def row(number: int, field: str = FIELD_1, object_type: ObjectType = ObjectType.LEAD) -> Prepared:
    op = Operation(number, number + 1, Action.ENSURE, Ref(id=field), object_type, required=True)
    rop = ResolvedOperation(op, field, Target(object_type), None)
    return Prepared(number, number + 1, None, op=op, resolved=rop)


def run_of(
    rows: list[Prepared],
    executor: FakeExecutor,
    sink: RecordingSink,
    *,
    done: Collection[int] = (),
    **limits: int,
) -> Run[Prepared]:
    return Run(
        [rows],
        executor,
        sink,
        Limits(concurrency=limits.pop("concurrency", 4), **limits),
        total_rows=len(rows),
        done=done,
        tally=Tally(),
        counters=Counters(),
        reporter=QuietReporter(),
    )


async def test_rows_of_one_pair_run_in_input_order_others_in_parallel() -> None:
    """Rows on the same (field, target) finish in input order even when later ones are faster."""
    rows = [row(n, FIELD_1 if n % 2 else FIELD_2) for n in range(1, 9)]
    sink = RecordingSink()
    ended = await run_of(rows, FakeExecutor(), sink).execute()
    assert ended.exit_code == ExitCode.OK
    first_pair = [r.row for r in sink.results if r.row % 2]
    second_pair = [r.row for r in sink.results if not r.row % 2]
    assert (first_pair, second_pair) == ([1, 3, 5, 7], [2, 4, 6, 8])
    assert sink.closed is True


async def test_done_rows_are_not_run_again() -> None:
    """Rows with a result line from an earlier run are skipped."""
    executor = FakeExecutor()
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    run = run_of(rows, executor, RecordingSink(), done={1, 3})
    run.tally.add("ok", "created")
    run.tally.add("ok", "created")
    ended = await run.execute()
    assert sorted(executor.started) == [2, 4, 5]
    assert (ended.exit_code, ended.tally.done) == (ExitCode.OK, 5)


async def test_credentials_refused_mid_run_stop_it_with_exit_3() -> None:
    """A 401 stops the run (exit 3) without an exception escaping; the refused row and the
    rows not sent have no result, and the pass is left unfinished."""
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    executor = FakeExecutor(raise_at={3: AuthError("no", status=401)})
    sink = RecordingSink()
    ended = await run_of(rows, executor, sink, concurrency=1).execute()
    assert (ended.exit_code, [r.row for r in sink.results], sink.closed) == (
        ExitCode.ABORTED,
        [1, 2],
        False,
    )


async def test_close_refusing_stops_the_run_with_exit_5() -> None:
    """A 429 asking for a wait longer than a row may take stops the run with exit 5."""
    refusing = ServerRefusing("429 asks to wait 99 days", wait_s=1e7, max_wait_s=300, group="g")
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    ended = await run_of(
        rows, FakeExecutor(raise_at={2: refusing}), RecordingSink(), concurrency=1
    ).execute()
    assert (ended.exit_code, ended.reason) == (ExitCode.REFUSING, str(refusing))


async def test_limit_stops_early_with_exit_4() -> None:
    """--limit N runs N rows that write, records them and stops with exit 4."""
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    sink = RecordingSink()
    ended = await run_of(rows, FakeExecutor(), sink, limit=2).execute()
    assert (ended.exit_code, len(sink.results), sink.closed) == (ExitCode.STOPPED_EARLY, 2, False)
    assert ended.reason is not None
    assert "2 row(s) that write" in ended.reason


@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_limit_counts_rows_that_write_exactly(concurrency: int) -> None:
    """--limit N ends after exactly N rows that write, however many run at once; rows that need
    no write before them run too and are not counted."""
    rows = [row(n, field=f"cf_{n}") for n in range(1, 41)]
    idle = {1, 2, 3, 5, 8, 9, 10, 20}
    sink = RecordingSink()
    executor = FakeExecutor(idle=idle)
    ended = await run_of(rows, executor, sink, limit=5, concurrency=concurrency).execute()
    wrote = sorted(r.row for r in sink.results if r.requests > 0)
    assert ended.exit_code == ExitCode.STOPPED_EARLY
    assert len(wrote) == 5
    assert len(executor.started) == len(sink.results)
    assert {r.row for r in sink.results} - set(wrote) <= idle


async def test_a_limit_above_the_rows_that_write_lets_the_run_finish() -> None:
    """Rows that need no write never use up --limit: a run with fewer writes ends complete."""
    rows = [row(n, field=f"cf_{n}") for n in range(1, 11)]
    sink = RecordingSink()
    executor = FakeExecutor(idle=set(range(1, 9)))
    ended = await run_of(rows, executor, sink, limit=3).execute()
    assert (ended.exit_code, len(sink.results), sink.closed) == (ExitCode.OK, 10, True)


async def test_max_errors_stops_with_exit_5() -> None:
    """--max-errors N stops the run once N rows failed."""
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    ended = await run_of(
        rows, FakeExecutor(fail={1, 2}), RecordingSink(), concurrency=1, max_errors=2
    ).execute()
    assert (ended.exit_code, ended.reason) == (ExitCode.REFUSING, "--max-errors 2 reached")


async def test_failed_rows_end_a_complete_run_with_exit_1() -> None:
    """Every row done, one failed: exit 1."""
    rows = [row(n, object_type=t) for n, t in enumerate(ObjectType, 1)]
    ended = await run_of(rows, FakeExecutor(fail={4}), RecordingSink()).execute()
    assert ended.exit_code == ExitCode.ROWS_FAILED


async def test_memory_of_admitted_rows_is_bounded_by_concurrency(tmp_path: Path) -> None:
    """The reader admits at most 4 x concurrency unfinished rows, however long the input."""
    admitted_at_peak = 0

    class Watching(FakeExecutor):
        async def execute(self, prepared: Prepared) -> RowResult:
            nonlocal admitted_at_peak
            admitted_at_peak = max(admitted_at_peak, run.admitted - len(sink.results))
            return await super().execute(prepared)

    rows = (row(n, f"cf_{n:043d}") for n in range(1, 400))
    sink = RecordingSink()
    run = Run(
        [rows],
        Watching(),
        sink,
        Limits(concurrency=2),
        total_rows=399,
        done=set(),
        tally=Tally(),
        counters=Counters(),
        reporter=QuietReporter(),
    )
    await run.execute()
    assert len(sink.results) == 399
    assert admitted_at_peak <= 2 * 4


async def test_rows_that_all_give_up_on_429s_stop_the_run_with_exit_5() -> None:
    """Five rows in a row giving up on 429s (Close refusing everything) stop the run."""

    class Refused(FakeExecutor):
        async def execute(self, prepared: Prepared) -> RowResult:
            self.started.append(prepared.row)
            return RowResult(
                prepared.row,
                prepared.line,
                None,
                "ensure",
                Status.FAILED,
                Outcome.GAVE_UP,
                http_status=429,
            )

    rows = [row(n, f"cf_{n:043d}") for n in range(1, 40)]
    executor = Refused()
    ended = await run_of(rows, executor, RecordingSink(), concurrency=1).execute()
    assert ended.exit_code == ExitCode.REFUSING
    assert "429 to every attempt of the last 5 rows" in (ended.reason or "")
    assert len(executor.started) == 5


async def test_a_stage_is_built_once_every_row_of_the_stage_before_has_ended() -> None:
    """Stages run one after the other: the second is asked for only when the first's rows are
    all recorded, so it may be built from what they left."""
    sink = RecordingSink()
    seen_when_built: list[int] = []

    def stages() -> Iterator[list[Prepared]]:
        yield [row(n, f"cf_{n:043d}") for n in range(1, 6)]
        seen_when_built.append(len(sink.results))
        yield [row(n, f"cf_{n:043d}") for n in range(6, 9)]

    run = Run(
        stages(),
        FakeExecutor(),
        sink,
        Limits(concurrency=4),
        total_rows=8,
        done=set(),
        tally=Tally(),
        counters=Counters(),
        reporter=QuietReporter(),
    )
    ended = await run.execute()
    assert (ended.exit_code, seen_when_built) == (ExitCode.OK, [5])
    assert sorted(r.row for r in sink.results[:5]) == [1, 2, 3, 4, 5]


async def test_a_run_stopped_in_a_stage_never_builds_the_next() -> None:
    """A stop rule met in the first stage (--max-errors) leaves the later stages unread."""
    built: list[str] = []

    def stages() -> Iterator[list[Prepared]]:
        yield [row(1, FIELD_1), row(2, FIELD_2)]
        built.append("second")
        yield [row(3, FIELD_1)]

    run = Run(
        stages(),
        FakeExecutor(fail={1, 2}),
        RecordingSink(),
        Limits(concurrency=1, max_errors=2),
        total_rows=3,
        done=set(),
        tally=Tally(),
        counters=Counters(),
        reporter=QuietReporter(),
    )
    ended = await run.execute()
    assert (ended.exit_code, built) == (ExitCode.REFUSING, [])
