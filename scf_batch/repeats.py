"""Which (field, target) pairs occur more than once, so the conflict check can forget the rest.

The conflict check (conflicts.py) keeps a small state per pair, and a pair met only once can
never conflict. A file names at most fields x targets pairs, a few thousand in any real org, so
the check keeps every pair up to a cap; past it, it asks a `Repeats` whether to keep a new pair,
by the pair's hash:

- `RepeatFinder` keeps none and notes each hash, in a temporary file: a pass with it finds every
  conflict among the pairs kept before the cap, and then which pairs past it repeat.
- `KnownRepeats` keeps exactly those pairs, so a later pass over the same file finds every
  conflict with memory for the pairs that repeat only.
- `FindRepeatsFirst` is for a reader on its own: when the cap is first reached, it runs a
  finder pass over the whole file, then acts as the KnownRepeats it got.

A pair is known by Python's 64-bit hash of it, so results hold within one process only. Two
pairs sharing a hash (about one chance in 10^7 for a million pairs) only make one more pair kept.
"""

from __future__ import annotations

import tempfile
from array import array
from collections import Counter
from collections.abc import Callable
from typing import IO, Protocol

BUCKETS = 256  # a power of two: hashes are spilled by bucket, each read back on its own
BLOCK = 1024  # hashes a bucket holds in memory before they are written out: 2 MB in all
HASH_BYTES = array("q").itemsize


class Repeats(Protocol):
    """Tells the conflict check whether to keep the state of a pair it meets past its cap."""

    def keep(self, pair_hash: int) -> bool:
        """Whether the pair with this hash may occur again."""
        ...


class RepeatFinder:
    """Keeps no pair past the cap; writes their hashes out, to find those met more than once.

    Memory stays flat: hashes go to a temporary file by bucket, BLOCK at a time, and `found`
    reads one bucket back at a time (a million pairs past the cap: 8 MB on disk, 32 kB a bucket).
    """

    __slots__ = ("_blocks", "_buffers", "_found", "_spill")

    def __init__(self) -> None:
        self._buffers = [array("q") for _ in range(BUCKETS)]  # empty arrays: 16 kB in all
        self._blocks: list[list[tuple[int, int]]] = [[] for _ in range(BUCKETS)]  # (offset, count)
        self._spill: IO[bytes] | None = None  # created when the first block is written
        self._found: KnownRepeats | None = None

    def keep(self, pair_hash: int) -> bool:
        """Note the hash; never keep the pair."""
        buffer = self._buffers[pair_hash & (BUCKETS - 1)]
        buffer.append(pair_hash)
        if len(buffer) == BLOCK:
            self._write(pair_hash & (BUCKETS - 1))
        return False

    def found(self) -> KnownRepeats:
        """The pairs past the cap met more than once (worked out once, then the file is gone)."""
        if self._found is None:
            self._found = KnownRepeats(frozenset(self._repeated()))
            self._close()
        return self._found

    def _write(self, bucket: int) -> None:
        if self._spill is None:
            # not a with block: the finder owns the file until found() closes it (the OS removes it)
            self._spill = tempfile.TemporaryFile(prefix="scf-batch-pairs-")  # noqa: SIM115
        buffer = self._buffers[bucket]
        self._blocks[bucket].append((self._spill.seek(0, 2), len(buffer)))
        buffer.tofile(self._spill)
        del buffer[:]

    def _repeated(self) -> set[int]:
        repeated: set[int] = set()
        for bucket, buffer in enumerate(self._buffers):
            hashes = array("q")
            for offset, count in self._blocks[bucket]:
                assert self._spill is not None  # blocks exist only once written
                self._spill.seek(offset)
                hashes.frombytes(self._spill.read(count * HASH_BYTES))
            hashes.extend(buffer)
            if len(set(hashes)) < len(hashes):  # the common case, no repeat, at C speed
                repeated.update(h for h, seen in Counter(hashes).items() if seen > 1)
        return repeated

    def _close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._buffers, self._blocks = [], []


class KnownRepeats:
    """Keeps the pairs a RepeatFinder noted over the same file."""

    __slots__ = ("hashes",)

    def __init__(self, hashes: frozenset[int]) -> None:
        self.hashes = hashes

    def keep(self, pair_hash: int) -> bool:
        """Whether the finder met this hash twice."""
        return pair_hash in self.hashes


class FindRepeatsFirst:
    """Finds the repeating pairs (by a pass over the file) the first time it is asked."""

    __slots__ = ("_find", "_known")

    def __init__(self, find: Callable[[], KnownRepeats]) -> None:
        self._find = find
        self._known: KnownRepeats | None = None

    def keep(self, pair_hash: int) -> bool:
        """Whether the pair repeats, the file read once more on the first call."""
        if self._known is None:
            self._known = self._find()
        return self._known.keep(pair_hash)
