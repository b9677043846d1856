"""The exit codes users and cron jobs rely on (the README's "Exit codes")."""

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
