"""The exit codes users and cron jobs rely on (DESIGN.md, "Exit codes")."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ROWS_FAILED = 1
    USAGE = 2
    ABORTED = 3
    STOPPED_EARLY = 4
    LOCKED = 75
    INTERRUPTED = 130
