"""The run folder's lock: one run at a time, and who holds it.

`.lock` holds the pid of the run that holds the folder. The file stays when the run ends
(removing it would race with a run starting): a lock file nobody holds is harmless, the next
run takes it and writes its own pid.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from scf_batch.errors import LockHeldError
from scf_batch.runfolder.durable import open_private

LOCK_FILE = ".lock"


class RunLock:
    """An exclusive, non-blocking lock on the run folder, released when the process dies."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / LOCK_FILE
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        handle = open_private(self._path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(handle)
            handle.close()
            holder = "another run" if pid is None else f"another run (pid {pid})"
            raise LockHeldError(f"{self._path.parent}: {holder} holds {self._path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _pid_in(handle: IO[bytes]) -> int | None:
    handle.seek(0)
    text = handle.read(32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def run_holding(folder: Path) -> int | None:
    """The pid of the run that holds the folder's lock now (0 when it wrote none yet); None
    when no run holds it. The lock is tested with a shared, non-blocking flock let go at once."""
    try:
        handle = open_private(folder / LOCK_FILE, os.O_RDWR)
    except OSError:
        return None  # no lock file (no run ever held it), or one we may not open
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(handle)
            return 0 if pid is None else pid
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None
