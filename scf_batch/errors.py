"""The one exception tree of scf-batch.

ScfBatchError
├── UsageError            bad command line, job spec or environment (exit 2)
│   └── JobFileError      an operations file that cannot be read at all (exit 2)
│   │   └── JobHeaderError    its CSV header names unknown, duplicate or too few columns
│   ├── JobInvalid        the job has invalid rows and --skip-invalid was not given
│   ├── DeletesRefused    the plan disassociates pairs and --allow-delete was not given
│   └── PlanStale         a saved plan no longer matches the org or the job it was made from
├── LineTooLong           a CSV line or row past its cap: that row's problem, the rest is read
├── LockHeldError         another run holds the run folder (exit 75)
├── CredentialsRefused    Close refused the credentials before anything changed (exit 3)
├── GaveUp                a row's retries or time cap ran out (its outcome: gave_up)
├── UnknownFate           a write got no clear answer: confirm by reading before replaying
└── CloseError            anything that happened while talking to Close
    ├── TransientError    worth retrying: 5xx, timeouts, dropped connections
    │   ├── ServerError       5xx answer
    │   ├── NetworkError      connection refused/reset, timeout; the request may have landed
    │   ├── RateLimited       429; carries retry_after_s
    │   └── ResponseTooLarge  an answer past the body cap; carries the status seen
    ├── ServerRefusing    a 429 asking a wait past the bound: stop the run (exit 5)
    ├── AuthError         401/402/403: stop the run
    └── ApiError          any other 4xx: a per-row outcome
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from scf_batch.exitcodes import ExitCode

if TYPE_CHECKING:
    from scf_batch.models import Problem

# what refused a job carries for its message: the preparation pass's report, the snapshot
R = TypeVar("R")
S = TypeVar("S")


class ScfBatchError(Exception):
    """Root of every error scf-batch raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(ScfBatchError):
    """The command line, job spec or environment is wrong; nothing was sent."""


class JobFileError(UsageError):
    """An operations file cannot be read at all (missing, not a known format)."""


class JobHeaderError(JobFileError):
    """A CSV header no row can be read with; `problems` names each column at fault, once."""

    def __init__(self, message: str, problems: tuple[Problem, ...]) -> None:
        super().__init__(message)
        self.problems = problems


class JobInvalid(UsageError, Generic[R]):
    """The job has invalid rows and --skip-invalid was not given; nothing was sent."""

    def __init__(self, report: R, *, invalid_rows: int, problem_count: int) -> None:
        super().__init__(f"{invalid_rows} invalid row(s), {problem_count} problem(s)")
        self.report = report


class DeletesRefused(UsageError, Generic[R, S]):
    """The plan deletes associations or fields (and every value stored in them) without
    --allow-delete."""

    def __init__(self, report: R, snapshot: S, *, delete_count: int) -> None:
        super().__init__(f"the plan deletes {delete_count} association(s) or field(s)")
        self.report = report
        self.snapshot = snapshot


class PlanStale(UsageError):
    """A saved plan whose pairs, fields, org or job file moved since it was made; nothing was
    sent. `moved` names each, one per line of the message."""

    def __init__(self, why: str, moved: list[str]) -> None:
        shown = "".join(f"\n  {line}" for line in moved)
        super().__init__(f"{why}; nothing was sent{shown}")
        self.moved = moved


class LineTooLong(ScfBatchError):
    """A physical line or a row past its cap; the line was read to its end and dropped.

    Never reaches a user as an exception: the CSV reader turns it into the row's problem.
    """

    def __init__(self, line: int, found: str) -> None:
        super().__init__(found)
        self.line = line
        self.found = found


class LockHeldError(ScfBatchError):
    """Another run holds the run folder's lock."""

    exit_code: ClassVar[ExitCode] = ExitCode.LOCKED


class CredentialsRefused(ScfBatchError):
    """Close refused the credentials before anything was changed (exit 3)."""

    exit_code: ClassVar[ExitCode] = ExitCode.ABORTED

    def __init__(self, status: int | None) -> None:
        super().__init__(
            f"Close refused the credentials (HTTP {status}); check the API key's env var "
            "and its permissions"
        )
        self.status = status


class GaveUp(ScfBatchError):
    """Retries or the row's time cap ran out; carries the last error."""

    def __init__(self, last: CloseError) -> None:
        super().__init__(str(last))
        self.last = last


class UnknownFate(ScfBatchError):
    """A write got no clear answer: it may have been applied. Confirm before replaying."""


class CloseError(ScfBatchError):
    """Something went wrong talking to Close; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class TransientError(CloseError):
    """Retrying may succeed."""


class ServerError(TransientError):
    """Close (or a gateway) answered 5xx."""


class NetworkError(TransientError):
    """No answer: connection error or timeout. The request may or may not have been applied."""


class RateLimited(TransientError):
    """429: wait `retry_after_s` (None when no usable hint came) before this endpoint group."""

    def __init__(
        self, message: str, *, retry_after_s: float | None, status: int = 429, body: object = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after_s = retry_after_s


class ResponseTooLarge(TransientError):
    """An answer whose body passed the client's cap; reading stopped there.

    A failed attempt like a dropped connection, so the retry policy applies (a row ends
    `gave_up` when it persists). `status` is the answer's status: a 2xx means Close applied the
    write, and the retry's read-before-write confirms the row's real outcome.
    """


class ServerRefusing(CloseError):
    """A 429 asked for a wait longer than a row may take (`wait_s` > `max_wait_s`): stop the run.

    Not transient on purpose: no retry policy should sleep for days. The runner stops the run
    with exit 5 and a message saying what the server asked; `group` is the endpoint group.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.REFUSING

    def __init__(
        self,
        message: str,
        *,
        wait_s: float,
        max_wait_s: float,
        group: str,
        status: int = 429,
        body: object = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.wait_s = wait_s
        self.max_wait_s = max_wait_s
        self.group = group


class AuthError(CloseError):
    """401/402/403: the credentials or plan do not allow this; the run stops."""

    exit_code: ClassVar[ExitCode] = ExitCode.ABORTED


class ApiError(CloseError):
    """Any other 4xx answer: a per-row outcome, with Close's field errors when it sent some."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: object = None,
        field_errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.field_errors = field_errors or {}
