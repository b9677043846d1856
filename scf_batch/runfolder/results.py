"""results.jsonl: its one writer, its one reader, and the tally of results.

The reader's policy is the run folder's: only a last line without its newline is a torn write
(left by `kill -9` or a power cut mid-write) and is passed over; any other line that is not one
result of a row from 1 to the pass's row count, or that repeats a row an earlier line holds, is
damage, refused (exit 2) naming the file and line. A line is read up to MAX_RESULT_LINE_BYTES.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from scf_batch.errors import UsageError
from scf_batch.models import RowResult, Status
from scf_batch.runfolder.durable import naming, open_private
from scf_batch.runfolder.records import MAX_ROWS, ResultLine

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
MAX_RESULT_LINE_BYTES = 1 << 20
# One encoder for every result line (json.dumps with options builds a new one per call).
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_line(line: ResultLine) -> bytes:
    """A result line as results.jsonl holds it, newline included."""
    return (_LINE_ENCODER.encode(line.to_json()) + "\n").encode()


@dataclass(frozen=True, slots=True)
class ReadLine:
    """A complete line of results.jsonl: its number, its bytes and its record."""

    number: int
    raw: bytes
    result: ResultLine


def complete_lines(path: Path, handle: IO[bytes], *, rows_total: int) -> Iterator[ReadLine]:
    """Every complete line of an open results.jsonl, checked; stops before a torn last line."""
    first_line_of: dict[int, int] = {}
    for number, raw in enumerate(bounded_lines(handle), 1):
        if not raw.endswith(b"\n") and len(raw) <= MAX_RESULT_LINE_BYTES:
            return  # the torn last line
        result = _parse_line(path, number, raw, rows_total)
        first = first_line_of.setdefault(result.row, number)
        if first != number:
            raise UsageError(
                f"{path}:{number}: found a second result of row {result.row} (the first is on "
                f"line {first}); expected one line per row. Restore the file, or rerun with "
                "--restart to start the pass over"
            )
        yield ReadLine(number, raw, result)


def read_results(path: Path, *, rows_total: int = MAX_ROWS) -> Iterator[ResultLine]:
    """The results of a pass, in the order they were written; none when there is no file."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for read in complete_lines(path, handle, rows_total=rows_total):
            yield read.result


def bounded_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, each read up to the cap (a longer one comes back cut, as damage)."""
    while raw := handle.readline(MAX_RESULT_LINE_BYTES + 1):
        yield raw


def _parse_line(path: Path, number: int, raw: bytes, rows_total: int) -> ResultLine:
    try:
        result = ResultLine.from_json(json.loads(raw))
        if result.row > rows_total:
            raise ValueError(f"row: got {result.row}, expected 1 to {rows_total}")
    except (ValueError, RecursionError) as exc:
        plain = type(exc) is ValueError  # a field at fault, not JSON that does not parse
        why = str(exc) if plain else "not one JSON object"
        raise UsageError(
            f"{path}:{number}: found a damaged line ({why}); expected one JSON result per line, "
            f"of a row 1 to {rows_total}. Restore the file, or rerun with --restart to start "
            "the pass over"
        ) from None
    return result


def result_to_dict(result: RowResult) -> dict[str, object]:
    """The JSON object of one result line, in the contract's field order."""
    return ResultLine.of(result).to_json()


@dataclass
class Tally:
    """Counts of finished rows by status and by (status, outcome)."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)

    def count(self, result: ResultLine) -> None:
        self.add(result.status, result.outcome)

    def add(self, status: str, outcome: str) -> None:
        self.by_status[status] += 1
        self.by_outcome[f"{status}/{outcome}"] += 1

    @property
    def done(self) -> int:
        return sum(self.by_status.values())

    @property
    def failed(self) -> int:
        return self.by_status[Status.FAILED.value]

    @property
    def not_ok(self) -> int:
        return self.done - self.by_status[Status.OK.value]


class ResultsWriter:
    """Appends result lines, each flushed to the OS at once (it survives kill -9); `sync` makes
    them durable (they survive a power cut) and is the owner's to call, from any thread: it
    touches only the file's descriptor. `close` syncs and closes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._fd = self._file.fileno()

    def write(self, result: RowResult) -> None:
        data = encode_line(ResultLine.of(result))
        with naming(self._path):
            self._file.write(data)
            self._file.flush()

    def sync(self) -> None:
        """fsync the lines written so far (each was flushed when written)."""
        with naming(self._path):
            os.fsync(self._fd)

    def close(self) -> None:
        if not self._file.closed:
            with naming(self._path):
                self._file.flush()
                os.fsync(self._fd)
                self._file.close()
