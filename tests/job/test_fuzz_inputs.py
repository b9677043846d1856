"""Fuzz: every file scf-batch reads ends in a value or its own error (exit 0 or 2), bounded.

Operations files (CSV and JSONL, plain and gzipped), job specs (TOML), checkpoints and results
lines are generated from random bytes and from their own tokens. Each must end in a value or a
ScfBatchError (UsageError for files: what the CLI maps to exit 2), never another exception.
The readers' caps are made small so each example stays fast, and memory is held to a bound:
what the reader allocates at its peak (tracemalloc) stays under MAX_PEAK_BYTES, whatever the
input inflates to. SCF_FUZZ_EXAMPLES=5000 explores further (default 150 a test).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scf_batch.errors import ScfBatchError
from scf_batch.job import csvrows, files, jsonlrows, opsfile
from scf_batch.job.rowrules import COLUMNS
from scf_batch.job.spec import RUN_KEYS, SIMULATOR_KEYS, JobSpec, load_job
from scf_batch.options import ENCODINGS, build_settings
from scf_batch.runfolder.folder import CHECKPOINT_FILE, read_checkpoint, scan_results

MAX_PEAK_BYTES = 4 << 20
FUZZ = settings(
    max_examples=int(os.environ.get("SCF_FUZZ_EXAMPLES", "150")),
    deadline=None,  # time is bounded by the caps and held by the suite's per-test timeout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUFFIXES = ("ops.csv", "ops.csv.gz", "ops.jsonl", "ops.jsonl.gz")


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The readers' caps, small: a few KB of input reaches every one of them."""
    monkeypatch.setattr(csvrows, "MAX_LINE_CHARS", 300)
    monkeypatch.setattr(csvrows, "MAX_ROW_CHARS", 600)
    monkeypatch.setattr(csvrows, "MAX_COLUMNS", 30)
    monkeypatch.setattr(csvrows, "MAX_BLANK_LINES", 40)
    monkeypatch.setattr(jsonlrows, "MAX_BLANK_LINES", 40)
    monkeypatch.setattr(jsonlrows, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(files, "MAX_INFLATED_BYTES", 64 << 10)


def bounded(action: Callable[[], object]) -> None:
    """Run `action`: it returns, or raises ScfBatchError; its peak allocation stays bounded."""
    tracemalloc.start()
    try:
        action()
    except ScfBatchError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES


@pytest.fixture
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# --- operations files ----------------------------------------------------------------------

CELL_TOKENS = [
    *COLUMNS,
    "lead",
    "contact",
    "custom_object_type",
    "associate",
    "update",
    "cf_" + "a" * 43,
    "role_" + "b" * 22,
    "true",
    "maybe",
    '["admin"]',
    "[",
    "9" * 5000,
    "Café",
]
TEXT_TOKENS = [
    ",",
    ";",
    "\t",
    '"',
    "\n",
    "\r",
    "\r\n",
    "\0",
    " ",
    "\ufeff",
    "\udcff",
    "{",
    "}",
    ":",
]
cell_text = st.lists(st.sampled_from(CELL_TOKENS + TEXT_TOKENS) | st.text(max_size=5), max_size=40)


@st.composite
def operations_bytes(draw: st.DrawFn) -> bytes:
    """Bytes an operations file may hold: tokens, JSON objects, raw bytes, long runs."""
    parts = draw(
        st.lists(
            st.one_of(
                cell_text.map(lambda tokens: "".join(tokens).encode("utf-8", "surrogateescape")),
                st.dictionaries(st.sampled_from(COLUMNS), json_values, max_size=5).map(
                    lambda obj: json.dumps(obj).encode() + b"\n"
                ),
                st.binary(max_size=30),
                st.tuples(
                    st.sampled_from([b"\0", b"\n", b",", b"x", b'"', b"\r\n"]), st.integers(0, 3000)
                ).map(lambda run: run[0] * run[1]),
            ),
            max_size=12,
        )
    )
    return b"".join(parts)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def read_all(path: Path, *, encoding: str) -> None:
    opsfile.check_operations(path, encoding=encoding, allow_empty=True)
    for number, item in enumerate(opsfile.read_operations(path, encoding=encoding), 1):
        assert item.row == number  # streamed: the rows are not kept


@pytest.mark.usefixtures("small_caps")
@FUZZ
@given(
    data=operations_bytes(),
    name=st.sampled_from(SUFFIXES),
    encoding=st.sampled_from(ENCODINGS),
    header=st.booleans(),
)
def test_any_operations_file_ends_in_rows_or_a_usage_error(
    folder: Path, data: bytes, name: str, encoding: str, header: bool
) -> None:
    """Every byte string, as each kind of file: rows numbered 1..n, or a UsageError; bounded."""
    if header:  # past the header, so the row readers see the rest
        data = b"scf_id,object_type,required,editable_with_roles,key\n" + data
    path = folder / name
    path.write_bytes(gzip.compress(data, compresslevel=1) if name.endswith(".gz") else data)
    bounded(lambda: read_all(path, encoding=encoding))


@pytest.mark.timeout(120)  # all examples together, under tracemalloc, on a busy machine
@pytest.mark.slow  # ~5 s: each example inflates up to 100 kB under tracemalloc
@pytest.mark.usefixtures("small_caps")
@FUZZ
@given(
    run=st.sampled_from([b"\0", b"\n", b"\r", b",\n", b"{}\n", b"x"]),
    count=st.integers(1, 100_000),
    name=st.sampled_from(SUFFIXES),
)
def test_a_long_run_of_one_byte_ends_bounded(
    folder: Path, run: bytes, count: int, name: str
) -> None:
    """Zip-bomb shapes (one byte repeated, gzipped): a value or a UsageError, memory bounded."""
    data = b"scf_id,object_type\n" * name.startswith("ops.csv") + run * count
    path = folder / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    bounded(lambda: read_all(path, encoding="utf-8"))


# --- job specs -------------------------------------------------------------------------------

KEYS = [*RUN_KEYS, *SIMULATOR_KEYS, "simulator", "x"]
TOML_TOKENS = [
    "[",
    "]",
    "{",
    "}",
    "=",
    '"',
    "'",
    ",",
    ".",
    "\n",
    "#",
    "0x",
    "inf",
    "nan",
    "1e999",
    "9" * 5000,
]


def toml_value(value: Any) -> str:
    """A TOML literal of a JSON-like value (strings as JSON, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value).replace("Infinity", "inf").replace("NaN", "nan")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items() if v is not None
        )
        return "{" + items + "}"
    return json.dumps(value if isinstance(value, str) else "")


spec_text = st.one_of(
    st.dictionaries(
        st.sampled_from(KEYS), json_values | st.integers(-(10**400), 10**400), max_size=8
    ).map(
        lambda table: "".join(
            f"{key} = {toml_value(value)}\n" for key, value in table.items() if value is not None
        )
    ),
    st.lists(st.sampled_from(KEYS + TOML_TOKENS) | st.text(max_size=4), max_size=40).map("".join),
    st.integers(1, 50_000).map(lambda depth: 'operations = "o.csv"\nx = ' + "[" * depth),
)


def load_and_settle(path: Path) -> None:
    spec = load_job(path)
    assert isinstance(spec, JobSpec)
    build_settings(name=spec.name, operations=spec.operations, spec_values=spec.values, flags={})


@FUZZ
@given(text=spec_text, raw=st.booleans())
def test_any_spec_ends_in_a_job_or_a_usage_error(folder: Path, text: str, raw: bool) -> None:
    """Spec text (structured or token soup): a JobSpec and its settings, or a UsageError."""
    path = folder / "job.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if not raw else text.encode("utf-16"))
    bounded(lambda: load_and_settle(path))


# --- checkpoints and results lines -----------------------------------------------------------

checkpoint_bytes = st.one_of(
    st.binary(max_size=200),
    st.dictionaries(
        st.sampled_from(["version", "pass", "complete", "input", "started_at", "rows_total", "x"]),
        json_values | st.integers(-(10**30), 10**30),
        max_size=7,
    ).map(lambda obj: json.dumps(obj).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(1, 50_000).map(lambda depth: b"[" * depth),
    st.integers(4000, 20_000).map(lambda digits: b"9" * digits),
)


@FUZZ
@given(data=checkpoint_bytes)
def test_any_checkpoint_ends_in_a_document_or_a_usage_error(folder: Path, data: bytes) -> None:
    """read_checkpoint: None, a checked dict, or a UsageError."""
    (folder / CHECKPOINT_FILE).write_bytes(data)
    bounded(lambda: read_checkpoint(folder))


result_line = st.one_of(
    st.binary(max_size=60),
    st.fixed_dictionaries(
        {
            "row": json_values | st.integers(-(10**20), 10**20),
            "status": json_values,
            "outcome": json_values,
        }
    ).map(lambda obj: json.dumps(obj).encode() + b"\n"),
    st.tuples(
        st.integers(1, 60), st.sampled_from(["ok", "failed"]), st.sampled_from(["created", "x"])
    ).map(lambda r: json.dumps({"row": r[0], "status": r[1], "outcome": r[2]}).encode() + b"\n"),
)


@FUZZ
@given(lines=st.lists(result_line, max_size=20), rows_total=st.integers(0, 100))
def test_any_results_file_ends_in_a_resume_or_a_usage_error(
    folder: Path, lines: list[bytes], rows_total: int
) -> None:
    """scan_results: the rows it holds (at most rows_total), or a UsageError naming a line."""
    path = folder / "results.jsonl"
    path.write_bytes(b"".join(lines))

    def scan() -> None:
        resume = scan_results(path, rows_total=rows_total)
        assert resume.done.count <= rows_total

    bounded(scan)
