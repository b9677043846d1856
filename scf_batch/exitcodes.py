"""The exit codes users and cron jobs rely on (the README's "Exit codes"), what each means, and
the one error -> exit code mapping every command uses.

Each error class of `errors.py` declares its code (`exit_code`), so the mapping reads it here
without this module importing the tree (it ranks below it).
"""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ROWS_FAILED = 1
    USAGE = 2
    ABORTED = 3  # the API refused the credentials
    STOPPED_EARLY = 4
    REFUSING = 5  # --max-errors reached, or Close kept refusing
    LOCKED = 75
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # the reader of our output went away (128 + SIGPIPE), as shell tools do

    @property
    def meaning(self) -> str:
        """What the code says, in the words of the README's table."""
        return MEANINGS[self]

    @property
    def verdict(self) -> str:
        """What a run's summary (printed, and on the report page) says of a run that ended so."""
        return VERDICTS.get(self, MEANINGS[self])


MEANINGS = {
    ExitCode.OK: "every row ok",
    ExitCode.ROWS_FAILED: "some rows failed",
    ExitCode.USAGE: "usage error: bad command line, job spec, environment or file",
    ExitCode.ABORTED: "Close refused the credentials",
    ExitCode.STOPPED_EARLY: "stopped early on purpose (--limit or --max-duration)",
    ExitCode.REFUSING: "stopped: --max-errors reached, or Close kept refusing",
    ExitCode.LOCKED: "another run holds the run folder",
    ExitCode.INTERRUPTED: "interrupted by SIGINT or SIGTERM",
    ExitCode.BROKEN_PIPE: "the output's reader closed the pipe",
}

VERDICTS = {
    ExitCode.OK: "every row ok",
    ExitCode.ROWS_FAILED: "finished; some rows failed or were invalid (see results.jsonl)",
    ExitCode.ABORTED: "aborted",
    ExitCode.REFUSING: "stopped",
    ExitCode.STOPPED_EARLY: "stopped early on purpose; rerun the same command to continue",
    ExitCode.INTERRUPTED: "interrupted; rerun the same command to continue",
}


# A deliberate early stop and a run folder another run holds: no failure, the next scheduled run
# continues. `--exit-zero-on-stop` makes the process exit 0 for them (exit_status).
STOPS = frozenset({ExitCode.STOPPED_EARLY, ExitCode.LOCKED})


def exit_status(code: int, *, zero_on_stop: bool) -> int:
    """The process's exit status for a command's exit code: 0 in place of a stop when asked,
    for schedulers that count every other code as a failure (the code itself is still reported
    in summary.json, the summary event and the metrics)."""
    return int(ExitCode.OK) if zero_on_stop and code in STOPS else int(code)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code a command ended by this exception gets (the caller prints the message).

    The project's errors carry their code; an OSError (a full disk, a closed pipe) is the
    environment's; anything else that ends a command (KeyboardInterrupt, the cancellation a
    signal made) is an interruption.
    """
    declared = getattr(exc, "exit_code", None)
    if isinstance(declared, ExitCode):
        return declared
    if isinstance(exc, BrokenPipeError):
        return ExitCode.BROKEN_PIPE
    if isinstance(exc, OSError):
        return ExitCode.USAGE
    return ExitCode.INTERRUPTED
