"""`scf-batch retry`: an operations file of the rows of a pass that did not end ok.

Each row keeps its own values. It points back to the original by its `key`: a row that had
one keeps it (the original results carry it with the row's line); a row without one gets
`line-N`, N its first physical line in the original file (`definitions-line-N` for a line of
the job's definitions file). The key is the one place both formats allow (an operations file
refuses unknown columns and JSON keys), and results echo it.
Two streams (results, then the input): only the selected row numbers are held.

A job whose spec names a definitions file is retried as one JSONL operations file: its failed
define lines first, then its failed association rows, which a JSONL file holds together (the
definitions run first in any job). A CSV holds association rows only, so a CSV retry of such a
job is refused when a define line failed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from scf_batch.errors import UsageError
from scf_batch.job.files import file_format
from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.rawrows import (
    RawFile,
    RawRow,
    as_csv_cells,
    as_json_object,
    definitions_rows,
    open_raw_job,
)
from scf_batch.models import Status
from scf_batch.runfolder.durable import open_private
from scf_batch.runfolder.folder import DoneRows
from scf_batch.runfolder.records import ResultLine

NOT_OK = tuple(status.value for status in Status if status is not Status.OK)
DEFAULT_STATUSES = (Status.FAILED.value,)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which result lines to take: by status and by outcome (empty: any)."""

    statuses: frozenset[str]
    outcomes: frozenset[str]

    @classmethod
    def of(cls, statuses: Collection[str], outcomes: Collection[str]) -> Selection:
        """No filter at all means failed rows; an outcome alone means any status but ok."""
        if not statuses:
            statuses = NOT_OK if outcomes else DEFAULT_STATUSES
        return cls(frozenset(statuses), frozenset(outcomes))

    def takes(self, result: ResultLine) -> bool:
        if result.status not in self.statuses:
            return False
        return not self.outcomes or result.outcome in self.outcomes


def select_rows(results: Iterable[ResultLine], selection: Selection) -> DoneRows:
    """The row numbers of the result lines the selection takes."""
    rows = DoneRows()
    for result in results:
        if selection.takes(result):
            rows.add(result.row)
    return rows


@dataclass(frozen=True, slots=True)
class Written:
    """What `write_retry` wrote: rows written, and selected rows it could not echo (each as
    `path:line`)."""

    rows: int
    unreadable: tuple[str, ...]


def write_retry(source: OperationsFile, rows: DoneRows, out: Path) -> Written:
    """Write the rows of the job `source` whose numbers are in `rows` to `out`, in input order.

    The format is `out`'s (its suffix; `.gz` compressed); rows that could not be read at all
    (CSV that does not parse) are counted, not written. A CSV `out` is refused (UsageError,
    nothing written) when a selected row is a line of the job's definitions file.
    """
    kind = file_format(out)
    if kind == "csv":
        _refuse_defines_in_csv(source, rows, out)
    written, unreadable = 0, list[str]()
    with open_raw_job(source) as raw, open_output(out) as stream:
        columns = _columns(raw, kind)
        writer = (
            csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
            if kind == "csv"
            else None
        )
        if writer is not None:
            writer.writeheader()
        for item in raw.rows:
            if item.row not in rows:
                continue
            if item.values is None:
                where = source.definitions if item.defined else source.path
                unreadable.append(f"{where}:{item.line}")
                continue
            values = pointed_back(item)
            if writer is not None:
                writer.writerow(as_csv_cells(values))
            else:
                line = json.dumps(as_json_object(values), ensure_ascii=False)
                stream.write(line + "\n")
            written += 1
    return Written(written, tuple(unreadable))


def _refuse_defines_in_csv(source: OperationsFile, rows: DoneRows, out: Path) -> None:
    last = definitions_rows(source)
    defines = sum(1 for row in range(1, last + 1) if row in rows)
    if defines:
        raise UsageError(
            f"-o {out}: found {defines} selected define line(s) of {source.definitions}, which "
            "a CSV cannot hold; expected a .jsonl output, which holds the define lines and the "
            "association rows together"
        )


def pointed_back(item: RawRow) -> dict[str, object]:
    """The row's values, with `key` = `line-N` (`definitions-line-N`) when it had none."""
    values = dict(item.values or {})
    key = values.get("key")
    if key is None or (isinstance(key, str) and not key.strip()):
        values["key"] = f"definitions-line-{item.line}" if item.defined else f"line-{item.line}"
    return values


def _columns(raw: RawFile, kind: str) -> list[str]:
    """The output's columns: the input's named ones, plus `key` when it had none."""
    columns = [name for name in raw.columns if name]
    if kind == "csv" and "key" not in columns:
        columns.insert(0, "key")
    return columns


@contextmanager
def open_output(out: Path) -> Iterator[IO[str]]:
    """`out` for writing text, created 0600 and never through a link; gzip when it ends in .gz."""
    with open_private(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as binary:
        if not out.name.lower().endswith(".gz"):
            with io.TextIOWrapper(binary, encoding="utf-8", newline="") as stream:
                yield stream
            return
        with (
            gzip.GzipFile(fileobj=binary, mode="wb") as packed,
            io.TextIOWrapper(packed, encoding="utf-8", newline="") as stream,
        ):
            yield stream
