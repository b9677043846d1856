"""How the run folder's files are opened and replaced: owner-only, never through a link, and
atomically (the one helper that writes a file whole: a temporary file, fsync, rename, fsync of
the folder; the temporary file is removed when any step fails).
"""

from __future__ import annotations

import errno
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TMP_SUFFIX = ".tmp"


def open_private(path: Path, flags: int) -> IO[bytes]:
    """Open `path` in binary mode, created 0600, refusing a symbolic link in its place."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(
                exc.errno, "is a symbolic link; refusing to follow it", str(path)
            ) from exc
        raise
    mode = "r+b" if flags & os.O_RDWR else "ab" if flags & os.O_APPEND else "wb"
    return os.fdopen(fd, mode)


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError raised on an open file (a full disk at write or fsync) names the file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Replace `path` by what `write` puts in a fresh file: a reader sees the old file or the new
    one, never half; a failure (a full disk) leaves the old file and no temporary one."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.unlink(missing_ok=True)  # a leftover of a crash, or a planted link: never written through
    try:
        with open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as handle, naming(tmp):
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_json_atomically(path: Path, document: object) -> None:
    """Replace `path` by `document` as indented JSON, streamed (a large snapshot is never one
    string)."""

    def dump(handle: IO[bytes]) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8")
        json.dump(document, text, indent=2)
        text.write("\n")
        text.flush()
        text.detach()

    write_atomically(path, dump)


def sync_folder(folder: Path) -> None:
    """Make a rename or truncation in `folder` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
