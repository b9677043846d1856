"""Properties: CSV and JSONL say the same thing; no input makes the reader raise a foreign error."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scf_batch.errors import ScfBatchError
from scf_batch.job.rowrules import COLUMNS
from scf_batch.models import Operation, RowError
from tests.jobfiles import ACTITYPE, COTYPE, FIELD_1, FIELD_2, OLD_FIELD, ROLE, read

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
)
roles = st.lists(
    st.sampled_from(["admin", "user", ROLE]) | names.filter(lambda n: ";" not in n), max_size=3
)


@st.composite
def operation_rows(draw: st.DrawFn) -> dict[str, object]:
    """One valid row as a dict of typed values (JSONL's view)."""
    row: dict[str, object] = {
        "action": draw(st.sampled_from(["associate", "ensure", "disassociate"]))
    }
    if draw(st.booleans()):
        row["scf_id"] = draw(st.sampled_from([FIELD_1, FIELD_2, OLD_FIELD]))
    else:
        row["scf_name"] = draw(names)
    object_type = draw(
        st.sampled_from(["lead", "contact", "custom_activity_type", "custom_object_type"])
    )
    row["object_type"] = object_type
    if object_type == "custom_activity_type":
        row["custom_activity_type_id"] = ACTITYPE
    elif object_type == "custom_object_type":
        row["custom_object_type_name"] = draw(names)
    row["required"] = draw(st.none() | st.booleans())
    row["editable_with_roles"] = draw(st.none() | roles)
    row["key"] = draw(st.none() | names)
    return row


def as_csv(rows: list[dict[str, object]]) -> str:
    """The same rows as CSV: booleans as true/false, role lists as JSON arrays."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row.get(column)
            if isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, list):
                value = json.dumps(value)
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return out.getvalue()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(operation_rows(), max_size=8))
def test_csv_and_jsonl_of_the_same_rows_give_equal_operations(
    tmp_path: Path, rows: list[dict[str, object]]
) -> None:
    """The same rows written as CSV and as JSONL read into equal operations (lines aside)."""
    csv_path = tmp_path / "ops.csv"
    csv_path.write_text(as_csv(rows), encoding="utf-8")
    jsonl_path = tmp_path / "ops.jsonl"
    jsonl_path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    from_csv, from_jsonl = read(csv_path), read(jsonl_path)
    assert [_sans_line(i) for i in from_csv] == [_sans_line(i) for i in from_jsonl]


def _sans_line(item: Operation | RowError) -> object:
    if isinstance(item, RowError):
        return ("error", item.row, tuple(p.column for p in item.problems))
    return (
        "op",
        item.row,
        item.action,
        item.field,
        item.object_type,
        item.type_ref,
        item.required,
        item.editable_with_roles,
        item.key,
    )


def _read_bytes(data: bytes, name: str) -> None:
    """Read bytes stored under `name`; only the project's own errors may come out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        try:
            items = read(path)
        except ScfBatchError:
            return
        for item in items:
            assert isinstance(item, Operation | RowError)
            for problem in getattr(item, "problems", ()):
                str(problem).encode("utf-8")  # every message is printable


header = (
    b"action,scf_id,scf_name,object_type,custom_activity_type_id,required,editable_with_roles\n"
)
csvish = st.lists(
    st.sampled_from(
        [b",", b'"', b"\n", b"\r\n", b"\xff", b"\x00", b"lead", b"cf_", b"[", b";", b" ", b"update"]
    )
    | st.binary(max_size=8),
    max_size=40,
).map(b"".join)


@pytest.mark.parametrize("name", ["ops.csv", "ops.csv.gz", "ops.jsonl", "ops.jsonl.gz"])
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_a_foreign_error(name: str, data: bytes) -> None:
    """Random bytes in any format give rows, row errors or a JobFileError — nothing else."""
    _read_bytes(data, name)


@settings(max_examples=300, deadline=None)
@given(body=csvish)
def test_arbitrary_csv_rows_never_raise_a_foreign_error(body: bytes) -> None:
    """Rows of CSV-ish fragments under a valid header never raise."""
    _read_bytes(header + body, "ops.csv")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from([*COLUMNS, "other"]),
            json_values
            | st.sampled_from(
                ["lead", "update", "custom_activity_type", FIELD_1, ACTITYPE, COTYPE, "admin"]
            ),
        ),
        max_size=5,
    )
)
def test_arbitrary_jsonl_rows_never_raise_a_foreign_error(rows: list[dict[str, object]]) -> None:
    """JSON objects with any keys and values become operations or row errors."""
    _read_bytes("".join(json.dumps(row) + "\n" for row in rows).encode(), "ops.jsonl")
