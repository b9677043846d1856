"""The signals that stop a fleet, and keeping the CLI's handlers of them around a receiver."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def handlers_kept() -> Iterator[None]:
    """Put the CLI's SIGINT/SIGTERM handlers back on the way out: an anyio signal receiver's
    exit leaves the system's defaults."""
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
