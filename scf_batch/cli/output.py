"""What every command does with the process's output: a closed stdout, the log format it
chose, and the summary event that ends a command's logs off a terminal. cli/main.py uses it
before any command is imported."""

from __future__ import annotations

import os
import sys
from typing import Any

from scf_batch.exitcodes import ExitCode


def pipe_closed() -> int:
    """The reader of stdout went away (`| head`): end quietly with 141, as shell tools do.

    stdout is pointed at /dev/null so the interpreter's last flush does not complain.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return ExitCode.BROKEN_PIPE


def log_summary(code: int, *, meaning: str | None = None, **fields: Any) -> None:
    """The canonical last line of a command off a terminal: its exit code and what it means
    (the exit code table's words unless the command gives its own)."""
    import structlog  # noqa: PLC0415 (logs.configure has imported it)

    if meaning is None:
        meaning = ExitCode(code).meaning if code in set(ExitCode) else ""
    structlog.get_logger("scf_batch").info(
        "summary", exit_code=int(code), meaning=meaning, **fields
    )


def logs_are_json() -> bool:
    """Whether this command set its logs to JSON lines (structlog, and so logs, is imported
    only by a command that configures them: --help and offline commands never do)."""
    logs = sys.modules.get("scf_batch.logs")
    return logs is not None and bool(logs.renders_json())


def forget_logs() -> None:
    """A new command chooses its log format afresh (tests run many commands per process)."""
    logs = sys.modules.get("scf_batch.logs")
    if logs is not None:
        logs.forget()
