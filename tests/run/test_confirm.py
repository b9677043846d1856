"""The one confirm-by-reading loop, with a fake subject: a counter on the org that a step sets."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import pytest

from scf_batch.errors import ApiError, UnknownFate
from scf_batch.models import StepKind
from scf_batch.run.confirm import Ending, confirm

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class SetTo:
    """Set the counter to `value`; nothing to do when it holds it already."""

    kind: StepKind
    value: int


class Counter:
    """The org's counter; `answers` is a queue of what the next sends meet: "ok", "lost" (an
    unknown fate, not applied), "landed" (unknown fate, applied), or an ApiError (not applied);
    `others` is what someone else sets the counter to just before each read."""

    def __init__(self, value: int, *answers: str | ApiError, others: tuple[int, ...] = ()) -> None:
        self.value = value
        self.answers: deque[str | ApiError] = deque(answers)
        self.others = deque(others)
        self.sent: list[int] = []
        self.reads = 0

    async def send(self, step: SetTo) -> tuple[int, int]:
        self.sent.append(step.value)
        answer = self.answers.popleft() if self.answers else "ok"
        if isinstance(answer, ApiError):
            raise answer
        if answer != "lost":
            self.value = step.value
        if answer != "ok":
            raise UnknownFate
        return 200, step.value

    async def read(self, refused: ApiError | None) -> int:
        self.reads += 1
        if self.others:
            self.value = self.others.popleft()
        return self.value

    def plan(self, state: int) -> SetTo:
        return SetTo(StepKind.NOTHING if state == WANTED else StepKind.UPDATE, WANTED)

    def explains(self, refused: ApiError, step: SetTo) -> bool:
        return refused.status == 400

    def surprising(self, before: int, now: int, refused: ApiError | None) -> bool:
        return refused is not None or now != before


WANTED = 7


async def test_a_write_that_is_answered_lands_without_a_read() -> None:
    """An answered write ends `landed`, with the state it leaves and no read."""
    org = Counter(1)
    done = await confirm(org, org.plan(1), 1, max_surprises=3)
    assert (done.ending, done.state, done.status, org.reads) == (Ending.LANDED, 7, 200, 0)


async def test_a_write_of_unknown_fate_that_landed_is_read_not_sent_again() -> None:
    """Unknown fate, applied: the read shows nothing to do; `sent` names the write that did it."""
    org = Counter(1, "landed")
    done = await confirm(org, org.plan(1), 1, max_surprises=3)
    assert (done.ending, done.sent, org.sent, org.reads) == (
        Ending.SETTLED,
        SetTo(StepKind.UPDATE, 7),
        [7],
        1,
    )


async def test_a_write_of_unknown_fate_that_did_not_land_is_replayed_after_a_read() -> None:
    """Unknown fate, not applied: read, planned again, sent again; no surprise is counted."""
    org = Counter(1, "lost", "lost", "lost", "lost", "lost")
    done = await confirm(org, org.plan(1), 1, max_surprises=0)
    assert (done.ending, org.sent, org.reads) == (Ending.LANDED, [7] * 6, 5)


async def test_a_refusal_no_read_explains_ends_the_row_without_a_read() -> None:
    """A refusal the subject does not explain (a 422): `refused` at once, nothing read."""
    refusal = ApiError("no", status=422)
    org = Counter(1, refusal)
    done = await confirm(org, org.plan(1), 1, max_surprises=3)
    assert (done.ending, done.refused, org.reads) == (Ending.REFUSED, refusal, 0)


async def test_a_refusal_a_read_explains_is_planned_again() -> None:
    """A 400 because someone set the counter meanwhile: the read shows nothing left to do."""
    org = Counter(1, ApiError("taken", status=400), others=(7,))
    done = await confirm(org, org.plan(1), 1, max_surprises=3)
    assert (done.ending, done.state, org.sent) == (Ending.SETTLED, 7, [7])


async def test_a_refusal_that_the_read_does_not_change_is_refused() -> None:
    """A 400 where the read plans the same write again: not a state problem, `refused`."""
    org = Counter(1, ApiError("bad", status=400))
    done = await confirm(org, org.plan(1), 1, max_surprises=3)
    assert (done.ending, org.sent, org.reads) == (Ending.REFUSED, [7], 1)


async def test_a_state_that_keeps_changing_ends_unsettled_past_the_allowance() -> None:
    """Each read finds another value than the last: past `max_surprises`, `unsettled`."""
    org = Counter(1, "lost", "lost", "lost", others=(2, 3, 4))
    done = await confirm(org, org.plan(1), 1, max_surprises=2)
    assert (done.ending, org.reads) == (Ending.UNSETTLED, 3)
