"""`scf-batch validate`: exit codes, text and JSON output, and --online against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from tests.jobfiles import FIELD_1, FIELD_2, csv_of, write
from tests.simproc import SimProcess, sim_process

GOOD_ROWS = [
    f"associate,{FIELD_1},lead",
    f"ensure,{FIELD_2},contact",
    f"disassociate,{FIELD_2},lead",
]


def test_clean_file_prints_a_summary_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid file prints rows by action and object type, and exits 0."""
    path = csv_of(tmp_path, *GOOD_ROWS)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: 3 row(s), no problems\n"
        "  by action:      associate 1, disassociate 1, ensure 1\n"
        "  by object type: contact 1, lead 2\n"
    )


def test_problems_are_printed_one_a_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each problem prints as path:line: column: found X; expected Y, then a count."""
    path = csv_of(tmp_path, GOOD_ROWS[0], "nope,cf_x,lead")
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f'{path}:3: action: found "nope"; expected one of associate, update, disassociate, ensure '
        "(empty = associate)",
        f'{path}:3: scf_id: found "cf_x"; expected cf_ and 43 letters or digits'
        " (older ids: e.g. lcf_...)",
        f"{path}: 2 problem(s) in 1 of 2 row(s); nothing was sent",
    ]


def test_only_the_first_50_problems_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past 50 problems the rest are counted, not printed."""
    path = csv_of(tmp_path, *["bad,lead"] * 70, header="scf_id,object_type")
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert (len(lines), lines[50], lines[51]) == (
        52,
        "... and 20 more",
        f"{path}: 70 problem(s) in 70 of 70 row(s); nothing was sent",
    )


def test_json_format_for_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints one document with the counts and each problem's parts."""
    path = csv_of(tmp_path, GOOD_ROWS[0], f"update,{FIELD_1},lead")
    assert main(["validate", str(path), "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    assert (document["rows"], document["invalid_rows"], document["problem_count"]) == (2, 1, 1)
    assert document["problems"][0] == {
        "path": str(path),
        "line": 3,
        "column": "action",
        "found": "update that sets nothing",
        "expected": "a value in required or editable_with_roles (or another action)",
        "message": f"{path}:3: action: found update that sets nothing; expected a value in "
        "required or editable_with_roles (or another action)",
    }


def test_json_format_for_a_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A clean file's JSON has ok, the row count and the counts by action and object type."""
    path = csv_of(tmp_path, *GOOD_ROWS)
    assert main(["validate", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["rows"], document["by_object_type"]) == (
        True,
        3,
        {"contact": 1, "lead": 2},
    )


def test_header_problems_are_reported_like_row_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV header with an unknown column prints its problem and exits 2."""
    path = csv_of(tmp_path, "x,lead,y", header="scf_id,object_type,colour")
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.startswith(
        f'{path}:1: "colour": found an unknown column; expected one of'
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("missing.csv", None, "cannot open"),
        ("ops.txt", b"x", "unknown kind of operations file"),
        ("ops.csv.gz", b"not gzip", "cannot read"),
        ("ops.csv", b"", "no header row"),
        ("job.toml", b"operations = 1", "operations: found 1"),
    ],
)
def test_unreadable_jobs_print_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes | None, message: str
) -> None:
    """Files that cannot be read at all give one message on stderr and exit 2, no traceback."""
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unreadable_job_in_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --format json even a fatal error is one JSON document on stdout."""
    assert main(["validate", str(tmp_path / "missing.csv"), "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], "cannot open" in document["error"]) == (False, True)


def test_a_spec_validates_its_operations_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job spec is followed to its operations file, relative to the spec."""
    csv_of(tmp_path, *GOOD_ROWS)
    spec = write(tmp_path / "job.toml", 'operations = "ops.csv"\n')
    assert main(["validate", str(spec)]) == 0
    assert "3 row(s), no problems" in capsys.readouterr().out


def test_invalid_utf8_prints_without_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Undecodable input is reported and printed without breaking the output."""
    path = write(tmp_path / "ops.jsonl", b'{"scf_name": "a\\ud800", "object_type": "lead"}\n\xff\n')
    assert main(["validate", str(path)]) == 2
    assert main(["validate", str(path), "--format", "json"]) == 2
    assert "not UTF-8" in capsys.readouterr().out


def test_online_without_a_key_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--online needs the API key in the environment and says which variable."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    assert main(["validate", str(csv_of(tmp_path, *GOOD_ROWS)), "--online"]) == 2
    assert "CLOSE_API_KEY" in capsys.readouterr().err


# --- online, against the simulator -------------------------------------------------------------

TARGET_KEY = "api_target_key_1"
SEED = Path(__file__).parents[2] / "data" / "sim" / "seed.json"


TWIN_IDS = ("cf_" + "D" * 43, "cf_" + "E" * 43)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """One simulator for this module, its target org seeded with two fields both named "Twin".

    The simulator refuses to create a field under a name that is taken, so the twins come from
    the seed: an org may still hold such a pair (renames, old data), and rows must not guess.
    """
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    (org,) = [org for org in seed["orgs"] if TARGET_KEY in org["api_keys"]]
    first = org["shared_custom_fields"][0]
    for twin_id in TWIN_IDS:
        twin = {**first, "id": twin_id, "name": "Twin", "associations": []}
        org["shared_custom_fields"].append(twin)
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    with sim_process("--seed", str(path)) as process:
        yield process


@pytest.fixture
def target(sim: SimProcess, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The target org, freshly reset, its key in CLOSE_API_KEY."""
    sim.reset()
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    (org,) = [org for org in sim.state()["orgs"] if TARGET_KEY in org["api_keys"]]
    return dict(org)


def online(path: Path, sim: SimProcess, *extra: str) -> int:
    """Run validate --online against the simulator."""
    return main(["validate", str(path), "--online", "--base-url", sim.base_url, *extra])


def test_online_clean_file_resolves_names_and_ids(
    tmp_path: Path, sim: SimProcess, target: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Names and ids that exist in the org pass; the summary says the check ran."""
    fields = target["shared_custom_fields"]
    assert isinstance(fields, list)
    role = target["roles"][0]  # type: ignore[index]
    activity = target["custom_activity_types"][0]  # type: ignore[index]
    path = csv_of(
        tmp_path,
        f'ensure,{fields[0]["id"]},,lead,,"admin;{role["name"]}"',
        f"associate,,{fields[1]['name']},custom_activity_type,{activity['name']},",
        header="action,scf_id,scf_name,object_type,custom_activity_type_name,editable_with_roles",
    )
    assert online(path, sim) == 0
    assert "checked online" in capsys.readouterr().out


def test_online_reports_unknown_id_unknown_name_and_ambiguous_name(
    tmp_path: Path, sim: SimProcess, target: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown id, an unknown name and a name two fields share are reported at their line."""
    path = csv_of(
        tmp_path,
        f"associate,{FIELD_1},,lead",
        "associate,,No Such Field,lead",
        "associate,,Twin,lead",
        header="action,scf_id,scf_name,object_type",
    )
    assert online(path, sim, "--format", "json") == 2
    document = json.loads(capsys.readouterr().out)
    assert [(p["line"], p["column"]) for p in document["problems"]] == [
        (2, "scf_id"),
        (3, "scf_name"),
        (4, "scf_name"),
    ]
    assert "no shared custom field of the org" in document["problems"][0]["found"]
    assert "the name of no shared custom field" in document["problems"][1]["found"]
    ambiguous = document["problems"][2]["found"]
    assert "the name of 2 shared custom fields" in ambiguous
    assert [twin in ambiguous for twin in TWIN_IDS] == [True, True]


def test_online_reports_offline_and_org_problems_in_one_pass(
    tmp_path: Path, sim: SimProcess, target: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """A row that fails offline and a row naming what the org lacks are both reported."""
    path = csv_of(
        tmp_path,
        "associate,,No Such Field,lead",
        "associate,,Twin,leads",
        header="action,scf_id,scf_name,object_type",
    )
    assert online(path, sim, "--format", "json") == 2
    document = json.loads(capsys.readouterr().out)
    assert [(p["line"], p["column"]) for p in document["problems"]] == [
        (2, "scf_name"),
        (3, "object_type"),
    ]


def test_online_with_a_wrong_key_exits_3(
    tmp_path: Path,
    sim: SimProcess,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Credentials the org refuses stop the check with exit 3 and never print the key."""
    monkeypatch.setenv("CLOSE_API_KEY", "wrong_secret_key")
    assert online(csv_of(tmp_path, *GOOD_ROWS), sim) == 3
    captured = capsys.readouterr()
    assert "wrong_secret_key" not in captured.out + captured.err


# --- the shipped examples ----------------------------------------------------------------------

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"


@pytest.mark.parametrize("name", ["onboarding.csv", "migration.jsonl", "onboarding.toml"])
def test_good_examples_validate_offline(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The onboarding CSV, its job file and the migration JSONL are clean."""
    assert main(["validate", str(EXAMPLES / name)]) == 0
    assert "no problems" in capsys.readouterr().out


@pytest.mark.parametrize(("name", "rows"), [("invalid.csv", 18), ("invalid.jsonl", 6)])
def test_invalid_examples_show_one_problem_per_bad_row(
    name: str, rows: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad row of the invalid examples shows exactly one kind of mistake."""
    assert main(["validate", str(EXAMPLES / name), "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    lines = [problem["line"] for problem in document["problems"]]
    assert (document["rows"], len(lines), len(set(lines))) == (
        rows,
        rows - (name == "invalid.csv"),
        len(lines),
    )


@pytest.mark.parametrize("name", ["onboarding.csv", "migration.jsonl"])
def test_good_examples_validate_online_against_the_target_org(
    name: str, sim: SimProcess, target: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every id and name in the good examples exists in the simulator's target org."""
    assert online(EXAMPLES / name, sim) == 0, capsys.readouterr().out


def test_docs_show_what_validate_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """docs/jobfiles.md shows the real output for the examples, and its job file loads."""
    root = Path(__file__).parents[2]
    text = (root / "docs" / "jobfiles.md").read_text(encoding="utf-8")
    monkeypatch.chdir(root)
    for command in ("onboarding.toml", "invalid.csv"):
        block = text.split(f"$ scf-batch validate data/examples/{command}\n", 1)[1].split("```", 1)[
            0
        ]
        main(["validate", f"data/examples/{command}"])
        assert capsys.readouterr().out == block
    toml = text.split("## A job file", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)  # its out (../../runs/...) must stay under the current folder
    (tmp_path / "data" / "examples").mkdir(parents=True)
    spec = write(tmp_path / "data" / "examples" / "onboarding.toml", toml)
    assert main(["validate", str(spec), "--format", "json"]) == 2  # its onboarding.csv is absent
    assert "onboarding.csv: cannot open" in capsys.readouterr().out
