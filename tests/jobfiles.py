"""Helpers for the job-file tests: well-formed ids and writing files in any of the formats."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from scf_batch.job.opsfile import read_operations
from scf_batch.models import Operation, Problem, RowError

FIELD_1 = "cf_" + "a1B2c3D4e5" * 4 + "xyz"
FIELD_2 = "cf_" + "Z9y8X7w6V5" * 4 + "uts"
OLD_FIELD = "lcf_ORxgoOQ5YH1p7lDQzFJ88b4z0j7PLLTRaG66m8bmcKv"
ACTITYPE = "actitype_2FqdeKTAEfMTwD4SVWwXqX"
COTYPE = "cotype_4zhUd9gDKwVv0Bbl2Nk0Ud"
ROLE = "role_4zhUd9gDKwVv0Bbl2Nk0Ud"


def write(path: Path, text: str | bytes) -> Path:
    """Write text (UTF-8) or bytes, gzip-compressed when the name ends in .gz."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    """One JSON object a line."""
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


def read(path: Path) -> list[Operation | RowError]:
    """Every item of the file."""
    return list(read_operations(path))


def problems(path: Path) -> list[str]:
    """Every problem of the file, as printed."""
    found: list[Problem] = []
    for item in read(path):
        if isinstance(item, RowError):
            found.extend(item.problems)
    return [str(problem) for problem in found]


def csv_of(tmp_path: Path, *rows: str, header: str = "action,scf_id,object_type") -> Path:
    """A CSV file with the header and rows given, LF-terminated."""
    return write(tmp_path / "ops.csv", "\n".join([header, *rows]) + "\n")
