"""Reading operations files: formats, encodings, line numbers and each row rule."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scf_batch.errors import JobFileError, JobHeaderError
from scf_batch.job.csvrows import UTF8_HINT
from scf_batch.job.files import fingerprint
from scf_batch.job.opsfile import check_operations, read_operations
from scf_batch.models import Action, ObjectType, Operation, Problem, Ref, RowError
from tests.jobfiles import (
    ACTITYPE,
    COTYPE,
    FIELD_1,
    FIELD_2,
    OLD_FIELD,
    ROLE,
    csv_of,
    problems,
    read,
    write,
    write_jsonl,
)

# --- formats and file-level errors ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["ops.csv", "ops.csv.gz", "OPS.CSV"])
def test_csv_rows_become_operations(tmp_path: Path, name: str) -> None:
    """A plain or gzipped CSV row becomes an Operation with its row and line numbers."""
    path = write(tmp_path / name, f"scf_id,object_type\n{FIELD_1},lead\n")
    assert read(path) == [Operation(1, 2, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)]


@pytest.mark.parametrize("name", ["ops.jsonl", "ops.jsonl.gz", "ops.ndjson"])
def test_jsonl_rows_become_operations(tmp_path: Path, name: str) -> None:
    """A plain or gzipped JSONL (or .ndjson) line becomes an Operation."""
    path = write(tmp_path / name, f'{{"scf_id": "{FIELD_1}", "object_type": "lead"}}\n')
    assert read(path) == [Operation(1, 1, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)]


def test_missing_file_raises_job_file_error_at_once(tmp_path: Path) -> None:
    """A missing file is reported when read_operations is called, naming the file."""
    with pytest.raises(JobFileError, match=r"nope\.csv: cannot open"):
        read_operations(tmp_path / "nope.csv")


def test_unknown_suffix_is_a_job_file_error(tmp_path: Path) -> None:
    """A file that is neither CSV nor JSONL is refused, naming the accepted suffixes."""
    path = write(tmp_path / "ops.xlsx", "x")
    with pytest.raises(JobFileError, match=r"ops\.xlsx: unknown kind.*\.csv"):
        read_operations(path)


@pytest.mark.parametrize("name", ["ops.csv.gz", "ops.jsonl.gz"])
def test_gz_that_is_not_gzip_is_a_job_file_error(tmp_path: Path, name: str) -> None:
    """A .gz file that is not gzip data cannot be read at all."""
    (tmp_path / name).write_bytes(b"scf_id,object_type\n")
    with pytest.raises(JobFileError, match="cannot read"):
        read_operations(tmp_path / name)


def test_truncated_gzip_raises_while_iterating(tmp_path: Path) -> None:
    """A gzip stream cut short raises JobFileError when the reader reaches the cut."""
    body = "scf_id,object_type\n" + f"{FIELD_1},lead\n" * 20000
    data = gzip.compress(body.encode())
    (tmp_path / "ops.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(JobFileError, match="cannot read"):
        read(tmp_path / "ops.csv.gz")


@pytest.mark.parametrize("text", ["", "\n\n  \n", ",,,\n"])
def test_csv_without_header_is_a_job_file_error(tmp_path: Path, text: str) -> None:
    """An empty CSV (or one of blank lines only) has no header to read rows with."""
    with pytest.raises(JobFileError, match="no header row"):
        read_operations(write(tmp_path / "ops.csv", text))


def test_empty_jsonl_has_no_rows(tmp_path: Path) -> None:
    """An empty JSONL file is valid and has no rows."""
    assert read(write(tmp_path / "ops.jsonl", "\n\n")) == []


def test_header_problems_are_reported_once_for_the_file(tmp_path: Path) -> None:
    """Unknown, duplicate and missing columns are each named once, on the header's line."""
    path = csv_of(tmp_path, "x,y,z", header="\n Scf_Name ,colour,scf_name")
    with pytest.raises(JobHeaderError) as caught:
        read_operations(path)
    assert [str(p) for p in caught.value.problems] == [
        f'{path}:2: "colour": found an unknown column; expected one of action, scf_id, '
        "scf_name, object_type, custom_activity_type_id, custom_activity_type_name, "
        "custom_object_type_id, custom_object_type_name, key, required, editable_with_roles",
        f"{path}:2: scf_name: found the column twice; expected each column once",
        f"{path}:2: object_type: found no such column; expected an object_type column",
    ]


def test_header_without_a_field_column_is_reported(tmp_path: Path) -> None:
    """A header naming neither scf_id nor scf_name cannot identify any field."""
    with pytest.raises(JobHeaderError) as caught:
        read_operations(csv_of(tmp_path, header="object_type"))
    assert [p.column for p in caught.value.problems] == ["scf_id"]


def test_fingerprint_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    """The fingerprint changes with the content and matches hashlib's."""
    path = write(tmp_path / "ops.csv", "scf_id,object_type\n")
    assert fingerprint(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    write(path, "scf_id,object_type\n\n")
    assert fingerprint(path) == hashlib.sha256(b"scf_id,object_type\n\n").hexdigest()


def test_fingerprint_of_a_missing_file_is_a_job_file_error(tmp_path: Path) -> None:
    """A fingerprint of nothing is a JobFileError naming the file."""
    with pytest.raises(JobFileError, match=r"gone\.csv"):
        fingerprint(tmp_path / "gone.csv")


# --- encodings, line endings, physical lines ----------------------------------------------------


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    """A UTF-8 BOM and CRLF line endings read the same as plain LF."""
    path = write(tmp_path / "ops.csv", f"\ufeffscf_id,object_type\r\n{FIELD_1},lead\r\n")
    assert read(path) == [Operation(1, 2, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)]


def test_jsonl_bom_is_tolerated(tmp_path: Path) -> None:
    """A BOM before the first JSONL object is skipped."""
    path = write(tmp_path / "ops.jsonl", '\ufeff{"scf_name": "Owner", "object_type": "lead"}\n')
    assert read(path) == [Operation(1, 1, Action.ASSOCIATE, Ref(name="Owner"), ObjectType.LEAD)]


def test_quoted_multiline_fields_keep_physical_lines(tmp_path: Path) -> None:
    """A quoted name spanning lines keeps its newline and the next row's line stays right."""
    path = csv_of(
        tmp_path,
        '"Two\nline name",lead',
        '"Three\r\nline\nname",contact',
        "Plain,opportunity",
        header="scf_name,object_type",
    )
    ops = [op for op in read(path) if isinstance(op, Operation)]
    assert [(op.row, op.line, op.field.name) for op in ops] == [
        (1, 2, "Two\nline name"),
        (2, 4, "Three\r\nline\nname"),
        (3, 7, "Plain"),
    ]


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    """Blank and all-empty CSV lines are not rows; later rows keep their physical line."""
    path = csv_of(
        tmp_path, "", f"{FIELD_1},lead", "  ", ",,", f"{FIELD_2},lead", header="scf_id,object_type"
    )
    assert [(op.row, op.line) for op in read(path)] == [(1, 3), (2, 6)]


def test_jsonl_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    """Blank JSONL lines are not rows; the next row reports its physical line."""
    row = '{"scf_name": "A", "object_type": "lead"}'
    path = write(tmp_path / "ops.jsonl", f"\n{row}\r\n   \n\n{row.replace('A', 'B')}")
    assert [(op.row, op.line) for op in read(path)] == [(1, 2), (2, 5)]


def test_surrounding_whitespace_is_trimmed(tmp_path: Path) -> None:
    """Cells and JSON strings lose surrounding spaces; case of keywords does not matter."""
    path = csv_of(
        tmp_path,
        f"  Update , {FIELD_1} , Lead , Yes , admin ; {ROLE} , k 1 ",
        header="action,scf_id,object_type,required,editable_with_roles,key",
    )
    assert read(path) == [
        Operation(
            1,
            2,
            Action.UPDATE,
            Ref(id=FIELD_1),
            ObjectType.LEAD,
            None,
            True,
            ("admin", ROLE),
            "k 1",
        )
    ]


def test_invalid_utf8_is_reported_on_its_physical_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported at the line they are on, in their column."""
    data = b'scf_name,object_type\n"ok\nbad \xff",lead\nfine,lead\n'
    path = write(tmp_path / "ops.csv", data)
    items = read(path)
    assert problems(path) == [
        f"{path}:3: scf_name: found bytes that are not UTF-8; expected {UTF8_HINT}"
    ]
    assert isinstance(items[1], Operation)


def test_invalid_utf8_in_jsonl_is_reported(tmp_path: Path) -> None:
    """A JSONL line that is not UTF-8 is a row error at that line."""
    path = write(tmp_path / "ops.jsonl", b'{"scf_name": "\xc3(", "object_type": "lead"}\n')
    assert problems(path) == [
        f"{path}:1: row: found bytes that are not UTF-8 (at byte 15); expected UTF-8 text"
    ]


def test_jsonl_lone_surrogate_escape_is_reported(tmp_path: Path) -> None:
    """A \\ud800 escape cannot become text to send; it is reported, printably."""
    path = write(tmp_path / "ops.jsonl", '{"scf_name": "a\\ud800", "object_type": "lead"}\n')
    assert problems(path) == [
        f'{path}:1: scf_name: found "a\\ud800"; expected valid Unicode text (no lone surrogates)'
    ]


# --- JSONL shapes and types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("[1, 2]", "a JSON array"),
        ('"text"', "a JSON string"),
        ("42", "a JSON number"),
        ("null", "a JSON null"),
        ('{"scf_id": ', "JSON that does not parse (Expecting value)"),
        ("[" * 100000, "JSON that does not parse (too deeply nested)"),
    ],
)
def test_jsonl_lines_that_are_not_objects(tmp_path: Path, line: str, found: str) -> None:
    """Each JSONL line must be one JSON object."""
    path = write(tmp_path / "ops.jsonl", line + "\n")
    expected = "one JSON object per line"
    assert problems(path) == [f"{path}:1: row: found {found}; expected {expected}"]


@pytest.mark.parametrize(
    ("key", "value", "found", "expected"),
    [
        ("scf_name", 5, "5, a JSON number", "a string"),
        ("object_type", ["lead"], "a JSON array", "a string"),
        ("key", True, "true, a JSON boolean", "a string or integer"),
        ("required", "true", '"true", a JSON string', "true, false or null"),
        ("editable_with_roles", "admin", '"admin", a JSON string', "an array of strings or null"),
        (
            "editable_with_roles",
            ["admin", 3],
            "a JSON array holding non-strings",
            "an array of strings or null",
        ),
    ],
)
def test_jsonl_wrong_types(
    tmp_path: Path, key: str, value: object, found: str, expected: str
) -> None:
    """Values of the wrong JSON type are reported with the type found."""
    row: dict[str, object] = {"scf_name": "A", "object_type": "lead", "action": "ensure"}
    row[key] = value
    path = write_jsonl(tmp_path / "ops.jsonl", [row])
    assert f"{path}:1: {key}: found {found}; expected {expected}" in problems(path)


def test_jsonl_integer_key_and_typed_values(tmp_path: Path) -> None:
    """JSON booleans, arrays and integer keys are taken as they are."""
    path = write_jsonl(
        tmp_path / "ops.jsonl",
        [
            {
                "scf_id": FIELD_1,
                "object_type": "lead",
                "required": False,
                "editable_with_roles": [],
                "key": 7,
            }
        ],
    )
    assert read(path) == [
        Operation(1, 1, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD, None, False, (), "7")
    ]


def test_jsonl_unknown_keys_are_reported_per_row(tmp_path: Path) -> None:
    """A key that is no column is a problem of its row."""
    path = write_jsonl(
        tmp_path / "ops.jsonl", [{"scf_name": "A", "object_type": "lead", "requierd": True}]
    )
    assert problems(path)[0].startswith(
        f'{path}:1: "requierd": found an unknown key; expected one of action'
    )


def test_jsonl_overlong_line_is_reported_not_loaded(tmp_path: Path) -> None:
    """A line over a megabyte is one row error; the next line still reads."""
    big = '{"scf_name": "' + "x" * (1 << 20) + '", "object_type": "lead"}'
    path = write(tmp_path / "ops.jsonl", big + '\n{"scf_name": "A", "object_type": "lead"}\n')
    items = read(path)
    assert [type(item) for item in items] == [RowError, Operation]
    assert items[1].line == 2


# --- row rules ----------------------------------------------------------------------------------

ALL = ",".join(
    [
        "action",
        "scf_id",
        "scf_name",
        "object_type",
        "custom_activity_type_id",
        "custom_activity_type_name",
        "custom_object_type_id",
        "custom_object_type_name",
        "required",
        "editable_with_roles",
        "key",
    ]
)


def one(tmp_path: Path, row: str) -> Operation | RowError:
    """The single item of a CSV with every column and this row."""
    (item,) = read(csv_of(tmp_path, row, header=ALL))
    return item


def found(tmp_path: Path, row: str) -> list[tuple[str, str]]:
    """(column, found) of each problem of the row."""
    item = one(tmp_path, row)
    assert isinstance(item, RowError)
    return [(p.column, p.found) for p in item.problems]


def test_every_column_of_a_custom_activity_row(tmp_path: Path) -> None:
    """A full row with a custom activity type by id reads into every Operation field."""
    row = (
        f'ensure,{FIELD_1},,custom_activity_type,{ACTITYPE},,,,no,"[""admin"", ""Sales; EU""]",r-1'
    )
    assert one(tmp_path, row) == Operation(
        1,
        2,
        Action.ENSURE,
        Ref(id=FIELD_1),
        ObjectType.CUSTOM_ACTIVITY_TYPE,
        Ref(id=ACTITYPE),
        False,
        ("admin", "Sales; EU"),
        "r-1",
    )


def test_custom_object_type_by_name_and_old_field_id(tmp_path: Path) -> None:
    """Custom object types can be named; older field ids with another prefix are accepted."""
    row = f"disassociate,{OLD_FIELD},,custom_object_type,,,,Invoice,,,"
    assert one(tmp_path, row) == Operation(
        1,
        2,
        Action.DISASSOCIATE,
        Ref(id=OLD_FIELD),
        ObjectType.CUSTOM_OBJECT_TYPE,
        Ref(name="Invoice"),
    )


def test_empty_action_is_associate_and_roles_list_forms(tmp_path: Path) -> None:
    """No action means associate; `[]` means no roles; an empty cell means not set."""
    first = one(tmp_path, f",{FIELD_1},,lead,,,,,,[],")
    assert isinstance(first, Operation)
    assert (first.action, first.editable_with_roles, first.required) == (Action.ASSOCIATE, (), None)


def test_unknown_action_and_object_type(tmp_path: Path) -> None:
    """Actions and object types outside the lists are named with the valid choices, and the
    closest of them suggested."""
    item = one(tmp_path, f"assoc,{FIELD_1},,leads,,,,,,,")
    assert isinstance(item, RowError)
    assert [str(p).split(": ", 1)[1] for p in item.problems] == [
        'action: found "assoc"; expected one of associate, update, disassociate, ensure'
        ' (empty = associate) (did you mean "associate"?)',
        'object_type: found "leads"; expected one of lead, contact, opportunity,'
        ' custom_activity_type, custom_object_type (did you mean "lead"?)',
    ]


@pytest.mark.parametrize(
    "scf_id",
    [
        "cf_short",
        "cf_" + "a" * 42 + "!",
        "cf " + "a" * 43,
        "CF_" + "a" * 43,
        "lcf_",
        "xlcf_a b",
        "field_1",
    ],
)
def test_malformed_field_ids(tmp_path: Path, scf_id: str) -> None:
    """Field ids must be a lowercase prefix, cf_ and base62 (43 of them for a bare cf_)."""
    assert found(tmp_path, f",{scf_id},,lead,,,,,,,")[0][0] == "scf_id"


def test_field_by_id_and_name_at_once_or_neither(tmp_path: Path) -> None:
    """A row names its field by exactly one of id and name."""
    assert found(tmp_path, f",{FIELD_1},Owner,lead,,,,,,,") == [
        ("scf_name", "both an id and a name")
    ]
    assert found(tmp_path, ",,,lead,,,,,,,") == [("scf_id", "nothing")]


def test_missing_object_type(tmp_path: Path) -> None:
    """object_type is required on every row."""
    assert found(tmp_path, f",{FIELD_1},,,,,,,,,") == [("object_type", "nothing")]


def test_custom_type_needs_its_type_column(tmp_path: Path) -> None:
    """custom_activity_type / custom_object_type rows must say which type."""
    assert found(tmp_path, f",{FIELD_1},,custom_object_type,,,,,,,") == [
        ("custom_object_type_id", "nothing")
    ]


def test_superfluous_type_columns(tmp_path: Path) -> None:
    """A type column that does not fit the object type is reported."""
    assert found(tmp_path, f",{FIELD_1},,lead,{ACTITYPE},,,Invoice,,,") == [
        ("custom_activity_type_id", f'"{ACTITYPE}"'),
        ("custom_object_type_name", '"Invoice"'),
    ]
    assert found(tmp_path, f",{FIELD_1},,custom_activity_type,{ACTITYPE},,{COTYPE},,,,") == [
        ("custom_object_type_id", f'"{COTYPE}"')
    ]


@pytest.mark.parametrize(
    ("type_cells", "column"),
    [
        ("actitype_short,,,", "custom_activity_type_id"),
        (f"{ACTITYPE},Calls,,", "custom_activity_type_name"),
    ],
)
def test_malformed_or_doubled_type_refs(tmp_path: Path, type_cells: str, column: str) -> None:
    """Type ids are checked for their form; id and name at once is refused."""
    assert found(tmp_path, f",{FIELD_1},,custom_activity_type,{type_cells},,,")[0][0] == column


def test_wrong_type_id_prefix_is_malformed(tmp_path: Path) -> None:
    """A custom object type id in the activity type column is malformed there."""
    assert found(tmp_path, f",{FIELD_1},,custom_activity_type,{COTYPE},,,,,,") == [
        ("custom_activity_type_id", f'"{COTYPE}"')
    ]


@pytest.mark.parametrize("value", ["maybe", "2", "t", "yess"])
def test_unparseable_booleans(tmp_path: Path, value: str) -> None:
    """required accepts true/false/yes/no/1/0 only."""
    assert found(tmp_path, f",{FIELD_1},,lead,,,,,{value},,") == [("required", f'"{value}"')]


@pytest.mark.parametrize(
    ("value", "expected"), [("TRUE", True), ("No", False), ("1", True), ("0", False)]
)
def test_booleans_in_any_case(tmp_path: Path, value: str, expected: bool) -> None:
    """Spreadsheet spellings of booleans are accepted."""
    item = one(tmp_path, f",{FIELD_1},,lead,,,,,{value},,")
    assert isinstance(item, Operation)
    assert item.required is expected


@pytest.mark.parametrize(
    ("cell", "found_text"),
    [
        ("admin;;user", "an empty entry"),
        ("role_abc", '"role_abc"'),
        ('"[""admin"", 3]"', "a JSON array holding something other than strings"),
        ('"[""admin"""', "a JSON array that does not parse"),
        (";".join(["user"] * 101), "101 roles"),
    ],
)
def test_malformed_role_lists(tmp_path: Path, cell: str, found_text: str) -> None:
    """Role lists: no empty entries, well-formed role ids, JSON arrays of strings, bounded."""
    assert found(tmp_path, f",{FIELD_1},,lead,,,,,,{cell},") == [
        ("editable_with_roles", found_text)
    ]


def test_role_names_and_slugs_are_kept_as_written(tmp_path: Path) -> None:
    """A role entry that is neither an id nor a slug is a role name, kept for online resolution."""
    item = one(tmp_path, f",{FIELD_1},,lead,,,,,,restricted_user;Sales Team;{ROLE},")
    assert isinstance(item, Operation)
    assert item.editable_with_roles == ("restricted_user", "Sales Team", ROLE)


def test_update_that_sets_nothing(tmp_path: Path) -> None:
    """An update with neither required nor editable_with_roles would change nothing."""
    assert found(tmp_path, f"update,{FIELD_1},,lead,,,,,,,") == [
        ("action", "update that sets nothing")
    ]


def test_oversized_values(tmp_path: Path) -> None:
    """Values over 1000 characters are reported by size, not echoed."""
    assert found(tmp_path, f",,{'n' * 1001},lead,,,,,,,") == [
        ("scf_name", "a value of 1001 characters")
    ]


def test_extra_cells_must_be_empty(tmp_path: Path) -> None:
    """Cells beyond the header are fine when empty (spreadsheet commas), reported otherwise."""
    path = csv_of(
        tmp_path, f"{FIELD_1},lead,,", f"{FIELD_2},lead,,surprise", header="scf_id,object_type"
    )
    assert problems(path) == [
        f'{path}:3: column 4: found "surprise"; expected nothing in a column without a name'
    ]


def test_short_rows_read_missing_cells_as_empty(tmp_path: Path) -> None:
    """A row with fewer cells than the header has empty trailing cells."""
    path = csv_of(tmp_path, f"{FIELD_1},lead", header="scf_id,object_type,required,key")
    assert read(path) == [Operation(1, 2, Action.ASSOCIATE, Ref(id=FIELD_1), ObjectType.LEAD)]


def test_all_problems_of_a_row_are_reported_together(tmp_path: Path) -> None:
    """One RowError carries every problem of its row and the row's key."""
    item = one(tmp_path, "nope,bad id,,,,,,,maybe,,k-9")
    assert isinstance(item, RowError)
    assert (item.row, item.line, item.key, len(item.problems)) == (1, 2, "k-9", 4)
    assert all(isinstance(p, Problem) for p in item.problems)


def test_rows_keep_input_order_and_count(tmp_path: Path) -> None:
    """Valid and invalid rows come back one each, in input order."""
    path = csv_of(
        tmp_path, f"{FIELD_1},lead", "bad,lead", f"{FIELD_2},contact", header="scf_id,object_type"
    )
    assert [(type(i).__name__, i.row) for i in read(path)] == [
        ("Operation", 1),
        ("RowError", 2),
        ("Operation", 3),
    ]


def test_nul_and_broken_quotes_do_not_stop_the_reader(tmp_path: Path) -> None:
    """CSV the csv module rejects becomes a row error; the rows after it still read."""
    data = 'scf_name,object_type\n"a"b\x00,lead\nB,lead\n'
    items = read(write(tmp_path / "ops.csv", data))
    assert isinstance(items[-1], Operation)
    assert items[-1].field == Ref(name="B")


# --- the fast path for repeated CSV rows ----------------------------------------------------------


def test_repeated_rows_read_the_same_as_first_rows(tmp_path: Path) -> None:
    """Rows whose cells repeat an earlier valid row give the same Operations, keys and all."""
    rows = [f"ensure,{FIELD_1},lead,true,admin,k{n}" for n in range(3)]
    rows += [
        f"ensure,{FIELD_1},lead,true,admin,{'é' * 3}",
        f"ensure,{FIELD_1},lead,true,admin,{'x' * 1001}",
    ]
    path = csv_of(
        tmp_path, *rows, header="action,scf_id,object_type,required,editable_with_roles,key"
    )
    items = read(path)
    expected = [
        Operation(
            n + 1,
            n + 2,
            Action.ENSURE,
            Ref(id=FIELD_1),
            ObjectType.LEAD,
            None,
            True,
            ("admin",),
            key,
        )
        for n, key in enumerate(["k0", "k1", "k2", "ééé"])
    ]
    assert items[:4] == expected
    assert isinstance(items[4], RowError)
    assert [(p.column, p.found) for p in items[4].problems] == [
        ("key", "a value of 1001 characters")
    ]


def test_repeated_rows_still_meet_the_conflict_check(tmp_path: Path) -> None:
    """A cached row that contradicts a later state is still refused."""
    rows = [
        f"associate,{FIELD_1},lead,true,,a",
        f"update,{FIELD_1},lead,false,,b",
        f"associate,{FIELD_1},lead,true,,c",
    ]
    path = csv_of(
        tmp_path, *rows, header="action,scf_id,object_type,required,editable_with_roles,key"
    )
    assert [type(item).__name__ for item in read(path)] == ["Operation", "Operation", "RowError"]


def test_pure_modules_import_nothing_that_speaks_http() -> None:
    """Reading and checking job files loads neither aiohttp, anyio nor structlog (STYLE.md)."""
    code = (
        "import sys\n"
        "import scf_batch.job.opsfile, scf_batch.job.spec\n"
        "import scf_batch.plan.snapshot, scf_batch.plan.steps\n"
        "print(sorted(m for m in ('aiohttp', 'anyio', 'structlog') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["job.csv", "job.jsonl"])
def test_a_fifo_named_like_an_operations_file_is_refused_at_once(tmp_path: Path, name: str) -> None:
    """A FIFO named `job.csv` is a JobFileError naming it a FIFO, without opening (and hanging)."""
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(JobFileError, match=r"job\.\w+: found a FIFO \(named pipe\); expected"):
        check_operations(fifo)
    with pytest.raises(JobFileError, match="found a FIFO"):
        fingerprint(fifo)


def test_a_symlink_to_dev_zero_is_refused_and_one_to_a_file_is_read(tmp_path: Path) -> None:
    """A symlink to /dev/zero is refused as a character device; one to a regular file reads."""
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    with pytest.raises(JobFileError, match=r"zero\.csv: found a character device; expected"):
        check_operations(zero)
    real = tmp_path / "real.csv"
    real.write_text("scf_name,object_type,action\nIndustry,lead,ensure\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    check_operations(link)


def test_a_misspelt_column_suggests_the_closest_column(tmp_path: Path) -> None:
    """`object_tpye` in a header is answered with "did you mean "object_type"?"."""
    path = csv_of(tmp_path, "x,lead", header="scf_name,object_tpye")
    with pytest.raises(JobHeaderError) as caught:
        read_operations(path)
    assert str(caught.value.problems[0]) == (
        f'{path}:1: "object_tpye": found an unknown column; expected a known column: '
        'did you mean "object_type" or "custom_object_type_id"?'
    )
