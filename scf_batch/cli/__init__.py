"""The command line. `main` arms Ctrl-C and SIGTERM before anything heavy is imported, so a
signal at any moment, the imports included, ends with one line and exit 130."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from types import FrameType

INTERRUPTED = 130  # exitcodes.ExitCode.INTERRUPTED, not imported: this runs before any import


def main(argv: Sequence[str] | None = None) -> int:
    """The `scf-batch` program: the CLI's exit code, a signal during start-up included."""
    if argv is None:
        signal.signal(signal.SIGINT, _stop_during_start_up)
        signal.signal(signal.SIGTERM, _stop_during_start_up)
    from scf_batch.cli.main import main as run_cli  # noqa: PLC0415 (after the handlers, on purpose)

    return run_cli(argv)


def _stop_during_start_up(signum: int, frame: FrameType | None) -> None:
    """Before the CLI has started there is nothing to clean up: say so in one line and exit."""
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    os.write(2, f"scf-batch: interrupted by {name} while starting; nothing was done\n".encode())
    os._exit(INTERRUPTED)
