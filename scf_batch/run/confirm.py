"""The one confirm-by-reading loop every write of a run goes through, whatever the row's kind.

A write that meets another state than its plan expected (a 400, or a 404 the subject can read
the reason of) or whose fate is unknown (5xx, timeout, dropped connection on a POST or DELETE) is
confirmed by reading what it was meant to change, never by reading error text, and the row is
planned again against what was read. So a retry never writes twice, and what existed before the
run is never reported `created`. What a row writes (an association, a field) is a `Subject`:
how to send a step, read the state back and plan again; the loop is the same for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from scf_batch.errors import ApiError, AuthError, CloseError, GaveUp, ServerRefusing, UnknownFate
from scf_batch.models import Outcome, Status, StepKind


class Planned(Protocol):
    """A planned step: what kind of write it is (or that it writes nothing)."""

    @property
    def kind(self) -> StepKind: ...


S = TypeVar("S", bound=Planned)
T = TypeVar("T")


class Subject(Protocol[S, T]):
    """What one row writes on the org: its step sent, its state read back, planned again."""

    async def send(self, step: S) -> tuple[int, T]:
        """Send the write; its HTTP status and the state it leaves."""
        ...

    async def read(self, refused: ApiError | None) -> T:
        """The state now (`refused`: the refusal that made the read necessary, if any)."""
        ...

    def plan(self, state: T) -> S:
        """The step that brings `state` in line."""
        ...

    def explains(self, refused: ApiError, step: S) -> bool:
        """Whether a read may explain this refusal (else it ends the row, rejected)."""
        ...

    def surprising(self, before: T, now: T, refused: ApiError | None) -> bool:
        """Whether what a read found counts against the row's allowance of surprises."""
        ...


class Ending(StrEnum):
    """How the loop ended."""

    LANDED = "landed"  # a write was answered
    SETTLED = "settled"  # the last plan sends nothing
    REFUSED = "refused"  # refused, and not for a state a read explains
    UNSETTLED = "unsettled"  # the state kept changing past the allowance


@dataclass(frozen=True, slots=True)
class Confirmed(Generic[S, T]):
    """Where the loop ended: the last step planned, the state last known, a write of unknown
    fate sent before (`sent`), the write's HTTP status, or the refusal."""

    ending: Ending
    step: S
    state: T
    sent: S | None = None
    status: int | None = None
    refused: ApiError | None = None


async def confirm(
    subject: Subject[S, T], step: S, state: T, *, max_surprises: int
) -> Confirmed[S, T]:
    """Carry out `step` from `state`, confirming by reading whenever an answer leaves doubt.

    A write of unknown fate that a read shows did not land is no surprise: it is replayed, as
    often as the retry policy allows (the row's Attempts raise GaveUp past it).
    """
    sent: S | None = None
    surprises = 0
    while surprises <= max_surprises:
        if not step.kind.writes:
            return Confirmed(Ending.SETTLED, step, state, sent)
        refused: ApiError | None = None
        try:
            status, after = await subject.send(step)
        except UnknownFate:
            sent = step
        except ApiError as exc:
            if not subject.explains(exc, step):
                return Confirmed(Ending.REFUSED, step, state, sent, refused=exc)
            refused = exc
        else:
            return Confirmed(Ending.LANDED, step, after, sent, status)
        now = await subject.read(refused)
        again = subject.plan(now)
        if refused is not None and again.kind is step.kind:  # not a state problem
            return Confirmed(Ending.REFUSED, step, now, sent, refused=refused)
        surprises += subject.surprising(state, now, refused)
        state, step = now, again
    return Confirmed(Ending.UNSETTLED, step, state, sent)


@dataclass(frozen=True, slots=True)
class Verdict(Generic[T]):
    """How a row ended, and the state it leaves (as far as is known)."""

    status: Status
    outcome: Outcome
    after: T
    http_status: int | None = None
    error: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()
    note: str | None = None


def failed(outcome: Outcome, after: T, error: CloseError | str | None = None) -> Verdict[T]:
    """A failed row's verdict; a Close error gives its status, message and field errors."""
    if isinstance(error, CloseError):
        fields = error.field_errors if isinstance(error, ApiError) else {}
        return Verdict(
            Status.FAILED, outcome, after, error.status, str(error), tuple(sorted(fields.items()))
        )
    return Verdict(Status.FAILED, outcome, after, None, error)


async def carried_out(
    subject: Subject[S, T],
    step: S,
    state: T,
    *,
    max_surprises: int,
    verdict: Callable[[Confirmed[S, T]], Verdict[T]],
    unknown: T,
) -> Verdict[T]:
    """The row's verdict: `confirm`, then `verdict`; errors that end a row are its outcome
    (`unknown`: the state left when that is not known). Refused credentials and a server
    that refuses for longer than a row may wait are not a row's: they stop the run."""
    try:
        return verdict(await confirm(subject, step, state, max_surprises=max_surprises))
    except GaveUp as exc:
        return failed(Outcome.GAVE_UP, unknown, exc.last)
    except (AuthError, ServerRefusing):
        raise
    except CloseError as exc:  # an answer no rule covers (a redirect, a 2xx without JSON)
        return failed(Outcome.REJECTED, unknown, exc)
