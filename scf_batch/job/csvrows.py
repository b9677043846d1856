"""CSV rows -> Operation | RowError: the header, then each row's cells, checked by rowrules.

Memory stays bounded whatever the file holds: csv.reader reads physical lines through `Lines`,
which cuts a line over MAX_LINE_CHARS (and a row spread over lines past MAX_ROW_CHARS) and
reports it as that row's problem; a row of more than MAX_COLUMNS cells is reported unread. The
delimiter (`,`, `;` or tab, as spreadsheets save CSV) is the one that splits the header into
the most known column names.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, TextIO

from scf_batch.errors import JobFileError, JobHeaderError, LineTooLong
from scf_batch.job.rowrules import (
    COLUMNS,
    MAX_BLANK_LINES,
    MAX_VALUE_CHARS,
    ONE_OF_COLUMNS,
    RowProblems,
    assemble,
    checked_roles,
    is_unicode,
    parse_csv_bool,
    parse_csv_roles,
)
from scf_batch.models import Operation, Problem, RowError
from scf_batch.text import did_you_mean, show

MAX_LINE_CHARS = 1 << 20  # one physical line; a real row is a few hundred characters
MAX_ROW_CHARS = 1 << 20  # one row, when quoted cells spread it over several lines
MAX_COLUMNS = 1000  # cells in a row (a spreadsheet may add empty ones; 11 columns are known)
DELIMITERS = (",", ";", "\t")
UTF8_HINT = 'UTF-8 text (in Excel: Save As "CSV UTF-8"; or give --encoding cp1252)'


class Lines:
    """The stream's physical lines for csv.reader, each read with a cap; counts lines.

    `row_chars` counts the characters of the row being read; the reader of rows sets it to 0
    before each row.
    """

    __slots__ = ("line", "row_chars", "stream")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.line = 0
        self.row_chars = 0

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        text = self.stream.readline(MAX_LINE_CHARS + 1)
        if not text:
            raise StopIteration
        self.line += 1
        if len(text) > MAX_LINE_CHARS and text[-1] not in "\r\n":
            while text and text[-1] not in "\r\n":  # the rest of the line, never held whole
                text = self.stream.readline(MAX_LINE_CHARS)
            raise LineTooLong(self.line, f"a line over {MAX_LINE_CHARS} characters")
        self.row_chars += len(text)
        if self.row_chars > MAX_ROW_CHARS:
            raise LineTooLong(self.line, f"a row over {MAX_ROW_CHARS} characters")
        return text


def csv_reader(where: str, stream: TextIO) -> tuple[Any, Lines]:
    """A csv.reader over the stream's capped lines, its delimiter read from the header line.

    Blank lines before the header are counted (in `Lines.line`) but not given to the reader.
    """
    lines = Lines(stream)
    try:
        for text in lines:
            if text.strip():
                return csv.reader(chain([text], lines), delimiter=delimiter_of(text)), lines
            lines.row_chars = 0
            if lines.line > MAX_BLANK_LINES:
                raise JobFileError(f"{where}: no header in the first {MAX_BLANK_LINES} lines")
    except LineTooLong as exc:
        raise JobFileError(f"{where}:{exc.line}: the header is {exc.found}") from exc
    return csv.reader(()), lines


def delimiter_of(header: str) -> str:
    """`,`, `;` or tab: the one that splits the header into the most known column names."""

    def known(delimiter: str) -> int:
        cells = (cell.strip().strip('"').strip().lower() for cell in header.split(delimiter))
        return sum(cell in COLUMNS for cell in cells)

    return max(DELIMITERS, key=known)  # on a tie the first: a comma


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row as read: its number, its first line, and its cells or why there are none."""

    row: int
    line: int
    cells: list[str] | None
    problem: Problem | None = None


def csv_rows(where: str, stream: TextIO) -> tuple[list[str | None], Iterator[CsvRow]]:
    """The header's columns, and every data row's cells, numbered as every reader numbers them:
    blank rows skipped, a row that does not parse still a row. JobFileError/JobHeaderError for a
    file no row can be read from; more than MAX_BLANK_LINES lines without a row raise one too
    (a file of blank lines would otherwise take unbounded time)."""
    reader, lines = csv_reader(where, stream)
    names = csv_header(where, reader, lines)
    return names, _data_rows(where, reader, lines)


def _data_rows(where: str, reader: Any, lines: Lines) -> Iterator[CsvRow]:
    row, end, blank = 0, lines.line, 0
    while True:
        try:
            lines.row_chars = 0
            for cells in reader:
                start, end = end + 1, lines.line
                lines.row_chars = 0
                if len(cells) <= MAX_COLUMNS and not "".join(cells).strip():
                    blank += end - start + 1
                    if blank > MAX_BLANK_LINES:
                        raise JobFileError(f"{where}:{end}: {_too_many_blank()}")
                    continue
                row += 1
                yield CsvRow(row, start, cells)
            return
        except (csv.Error, LineTooLong) as exc:
            row += 1
            start, end = end + 1, lines.line
            yield CsvRow(row, start, None, _unreadable(where, start, exc))


def csv_items(
    where: str, stream: TextIO, *, encoding: str = "utf-8"
) -> Iterator[Operation | RowError]:
    """Every data row of the CSV stream, in order, checked; `where` names the file.

    `encoding` names what undecodable bytes are not (in their problem).
    """
    names, rows = csv_rows(where, stream)
    for read in rows:
        if read.cells is None:
            assert read.problem is not None
            yield RowError(read.row, read.line, (read.problem,))
        else:
            yield _csv_row(where, read.row, read.line, names, read.cells, encoding=encoding)


def _csv_row(
    where: str, row: int, line: int, names: list[str | None], cells: list[str], *, encoding: str
) -> Operation | RowError:
    if len(cells) > MAX_COLUMNS:  # not even trimmed: a row this wide is not a real one
        found = f"a row of {len(cells)} cells"
        return RowError(row, line, (Problem(where, line, "row", found, f"at most {MAX_COLUMNS}"),))
    trimmed = [cell.strip() for cell in cells]
    return csv_row(where, row, line, names, trimmed, encoding=encoding)


def _unreadable(where: str, start: int, exc: csv.Error | LineTooLong) -> Problem:
    if isinstance(exc, LineTooLong):
        line, found = exc.line, exc.found
    else:
        line, found = start, f"CSV that does not parse ({exc})"
    return Problem(where, line, "row", found, "well-formed CSV")


def _too_many_blank() -> str:
    return (
        f"found more than {MAX_BLANK_LINES} lines without a row (blank or all-empty); "
        "expected an operations file"
    )


def csv_header(where: str, reader: Any, lines: Lines) -> list[str | None]:
    """The column of each position (None: a column without a name); JobHeaderError if unusable.

    A first line that names no known column is not an operations file's header: it is reported
    without echoing it (it may be any file a spec or a symlink points at).
    """
    header = _first_row(where, reader)
    line = lines.line
    if len(header) > MAX_COLUMNS:
        raise JobFileError(
            f"{where}:{line}: the header has {len(header)} cells; expected at most {MAX_COLUMNS}"
        )
    names = [cell.strip().lower() or None for cell in header]
    if not any(name in COLUMNS for name in names):
        found = "a first line that names no known column"
        expected = f"a header naming the columns, e.g. object_type,scf_id ({ONE_OF_COLUMNS})"
        raise JobHeaderError(
            f"{where}: the header cannot be used",
            (Problem(where, line, "header", found, expected),),
        )
    problems = []
    for position, name in enumerate(names):
        if name is None:
            continue
        if name not in COLUMNS or not is_unicode(name):
            names[position] = None
            close = did_you_mean(name, COLUMNS)
            expected = f"a known column: {close}" if close else ONE_OF_COLUMNS
            problems.append(Problem(where, line, show(name), "an unknown column", expected))
        elif names.index(name) < position:
            problems.append(Problem(where, line, name, "the column twice", "each column once"))
    if "object_type" not in names:
        problems.append(
            Problem(where, line, "object_type", "no such column", "an object_type column")
        )
    if "scf_id" not in names and "scf_name" not in names:
        problems.append(Problem(where, line, "scf_id", "no such column", "scf_id or scf_name"))
    if problems:
        raise JobHeaderError(f"{where}: the header cannot be used", tuple(problems))
    return names


def _first_row(where: str, reader: Any) -> list[str]:
    """The first row that is not blank: the header."""
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                found: list[str] = cells
                return found
    except csv.Error as exc:
        raise JobFileError(f"{where}: the header is not valid CSV: {exc}") from exc
    except LineTooLong as exc:
        raise JobFileError(f"{where}:{exc.line}: the header is {exc.found}") from exc
    raise JobFileError(f"{where}: no header row; expected a first line naming the columns")


def csv_row(
    where: str,
    row: int,
    line: int,
    names: list[str | None],
    cells: list[str],
    *,
    encoding: str = "utf-8",
) -> Operation | RowError:
    """The checks of one row's trimmed cells."""
    bad = RowProblems(where, line)
    if not "".join(cells).isascii():
        _undecodable(names, cells, bad, encoding)
    if len(cells) > len(names) or None in names:
        for position, cell in enumerate(cells):
            if cell and (position >= len(names) or names[position] is None):
                found = show(cell)
                bad.add(f"column {position + 1}", found, "nothing in a column without a name")
    texts: dict[str | None, str | None] = dict(zip(names, cells, strict=False))
    if max(map(len, cells)) > MAX_VALUE_CHARS:
        for name, value in texts.items():
            if name is not None and value is not None and len(value) > MAX_VALUE_CHARS:
                bad.add(name, f"a value of {len(value)} characters", f"at most {MAX_VALUE_CHARS}")
                texts[name] = None
    required = _required(texts.get("required"), bad)
    roles = _roles(texts.get("editable_with_roles"), bad)
    return assemble(row, texts, required, roles, bad)


def _undecodable(
    names: list[str | None], cells: list[str], bad: RowProblems, encoding: str
) -> None:
    """Report each cell holding bytes that are not in the encoding, on its own line; blank it."""
    utf8 = encoding == "utf-8"
    found = "bytes that are not UTF-8" if utf8 else f"bytes that are not {encoding}"
    expected = UTF8_HINT if utf8 else f"{encoding} text"
    line = bad.line
    for position, cell in enumerate(cells):
        if not is_unicode(cell):
            first = next(i for i, char in enumerate(cell) if "\udc80" <= char <= "\udcff")
            column = names[position] if position < len(names) else None
            bad.add(
                column or f"column {position + 1}",
                found,
                expected,
                line=line + cell.count("\n", 0, first),
            )
            cells[position] = ""
        line += cell.count("\n")


def _required(text: str | None, bad: RowProblems) -> bool | None:
    if not text:
        return None
    value = parse_csv_bool(text)
    if value is None:
        bad.add("required", show(text), "true or false (also yes/no, 1/0), or empty")
    return value


def _roles(text: str | None, bad: RowProblems) -> tuple[str, ...] | None:
    if not text:
        return None
    roles = parse_csv_roles(text)
    if isinstance(roles, str):
        bad.add("editable_with_roles", roles, 'a ;-separated list or a JSON array like ["admin"]')
        return None
    return checked_roles(roles, bad)
