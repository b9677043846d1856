"""`export --format csv` round trip on the simulator: the associations as an operations CSV,
the definitions and field orders beside it as JSONL, and a job spec naming both; editing one
cell makes `plan SPEC` show exactly that step, and the spec builds the org again elsewhere."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scf_batch.cli.main import main
from scf_batch.exitcodes import ExitCode
from tests.e2e import TARGET_KEY, results
from tests.simproc import SimProcess, sim_process

SEED = Path(__file__).parents[2] / "data" / "sim" / "seed.json"
SOURCE_KEY = "api_source_key_1"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """The simulator with the default seed (export and plan only read)."""
    with sim_process() as process:
        yield process


def export(sim: SimProcess, path: Path, *extra: str) -> int:
    """`export -o PATH --format csv` of the org whose key is in CLOSE_API_KEY."""
    return main(["export", "-o", str(path), "--format", "csv", "--base-url", sim.base_url, *extra])


@pytest.fixture
def exported(sim: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The source org exported as CSV (its spec: source.toml), the source's key in
    CLOSE_API_KEY."""
    monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
    path = tmp_path / "source.csv"
    assert export(sim, path) == 0
    return path


def plan_steps(
    sim: SimProcess, path: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    """The rows of `plan --format json` that would write."""
    capsys.readouterr()
    assert main(["plan", str(path), "--base-url", sim.base_url, "--format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return [r for r in lines if r.get("step") not in (None, "nothing", "invalid")]


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_csv_writes_the_associations_the_define_lines_and_a_spec_naming_both(
    sim: SimProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One ensure row per association in the CSV; one definition per field, then the field
    orders, in the JSONL; a spec with the name and both files (no credentials), and the message
    naming the spec."""
    monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
    exported = tmp_path / "source.csv"
    capsys.readouterr()
    assert export(sim, exported) == 0
    out = capsys.readouterr().out
    rows = csv_rows(exported)
    defines = jsonl(tmp_path / "source.definitions.jsonl")
    kinds = [line["define"] for line in defines]
    assert (48, {"ensure"}) == (len(rows), {r["action"] for r in rows})
    assert 25 == kinds.count("field")
    assert kinds.count("order") > 0
    assert kinds == sorted(kinds)  # "field" lines, then "order" lines
    spec = tomllib.loads((tmp_path / "source.toml").read_text(encoding="utf-8"))
    expected = {
        "name": "source",
        "operations": "source.csv",
        "definitions": "source.definitions.jsonl",
    }
    assert expected == spec
    assert out.rstrip().endswith(f"validate, plan or run {tmp_path / 'source.toml'}")


def test_the_spec_names_the_key_variable_export_was_given_never_the_key(
    sim: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --api-key-env, the spec's api_key_env is that variable; the key itself is in none of
    the files written."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    monkeypatch.setenv("ACME_CLOSE_SOURCE", SOURCE_KEY)
    assert export(sim, tmp_path / "org.csv", "--api-key-env", "ACME_CLOSE_SOURCE") == 0
    spec = tomllib.loads((tmp_path / "org.toml").read_text(encoding="utf-8"))
    assert "ACME_CLOSE_SOURCE" == spec["api_key_env"]
    for written in tmp_path.iterdir():
        assert SOURCE_KEY not in written.read_text(encoding="utf-8"), written


def test_export_csv_refuses_an_output_without_the_csv_suffix(
    sim: SimProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The spec names the CSV as an operations file, so `-o` must end in .csv: exit 2 saying
    so, nothing written."""
    monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
    assert export(sim, tmp_path / "org.txt") == ExitCode.USAGE
    assert "expected a name such as org.csv" in capsys.readouterr().err
    assert [] == list(tmp_path.iterdir())


def test_the_unedited_spec_plans_nothing_and_one_edited_cell_plans_one_step(
    sim: SimProcess, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the org it came from the spec (CSV, definitions and orders) changes nothing;
    flip one `required` cell and the plan has exactly one step, an update of that pair."""
    spec = exported.with_suffix(".toml")
    assert [] == plan_steps(sim, spec, capsys)
    rows = csv_rows(exported)
    (edited,) = [r for r in rows if r["scf_name"] == "Industry" and r["object_type"] == "lead"]
    edited["required"] = "true"
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    exported.write_text(out.getvalue(), encoding="utf-8")
    (step,) = plan_steps(sim, spec, capsys)
    assert ("update", "Industry", "lead") == (step["step"], step["scf_name"], step["target"])


def test_a_missing_definitions_file_stops_validate_with_exit_2_naming_key_and_path(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The spec's definitions file gone: validate exits 2 naming the spec's key and the path."""
    definitions = exported.with_name("source.definitions.jsonl")
    definitions.unlink()
    capsys.readouterr()
    assert main(["validate", str(exported.with_suffix(".toml"))]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert 'definitions: found "source.definitions.jsonl"' in err
    assert str(definitions) in err


def empty_target_seed(folder: Path, *, keep: tuple[str, ...] = ()) -> Path:
    """The default seed with the target org's shared fields gone (but those named in `keep`,
    turned into text fields), its schemas without them."""
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    (org,) = [org for org in seed["orgs"] if TARGET_KEY in org["api_keys"]]
    kept = [f for f in org["shared_custom_fields"] if f["name"] in keep]
    for field in kept:
        field.update(type="text", choices=None, associations=[])
    gone = {f["id"] for f in org["shared_custom_fields"]} - {f["id"] for f in kept}
    org["shared_custom_fields"] = kept
    for schema in org["custom_field_schemas"]:
        schema["fields"] = [f for f in schema["fields"] if f not in gone]
    path = folder / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    return path


def run_spec(sim: SimProcess, spec: Path, out: Path) -> int:
    return main(["run", str(spec), "--out", str(out), "--base-url", sim.base_url, "--no-progress"])


@pytest.mark.slow
def test_the_spec_builds_an_empty_org_into_the_same_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run against an org without shared fields, the spec creates the fields, associations and
    field orders: the org's own export then matches the source's, file for file. The run has one
    result line per row of both files, numbered 1..N across them."""
    with sim_process("--seed", str(empty_target_seed(tmp_path))) as sim:
        monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
        assert export(sim, tmp_path / "source.csv") == 0
        monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
        out = tmp_path / "run"
        assert run_spec(sim, tmp_path / "source.toml", out) == ExitCode.OK
        assert export(sim, tmp_path / "target.csv") == 0
    defines = jsonl(tmp_path / "source.definitions.jsonl")
    rows = csv_rows(tmp_path / "source.csv")
    assert defines == jsonl(tmp_path / "target.definitions.jsonl")
    assert rows == csv_rows(tmp_path / "target.csv")
    lines = results(out)
    assert list(range(1, len(defines) + len(rows) + 1)) == sorted(r["row"] for r in lines)
    assert {"ok"} == {r["status"] for r in lines}
    first_row = next(r for r in lines if r["row"] == len(defines) + 1)
    assert 2 == first_row["line"]  # the CSV's first row, under its header


@pytest.mark.slow
def test_retry_of_a_two_file_job_writes_its_failed_define_lines_as_jsonl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A definition that fails (the target has the field as text: a type cannot change) is in
    the retry file, by its definitions file's line, with the failed rows; the retry JSONL
    validates; a CSV retry is refused, naming the JSONL that would hold it."""
    seed = empty_target_seed(tmp_path, keep=("Industry",))
    with sim_process("--seed", str(seed)) as sim:
        monkeypatch.setenv("CLOSE_API_KEY", SOURCE_KEY)
        assert export(sim, tmp_path / "source.csv") == 0
        monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
        out = tmp_path / "run"
        assert run_spec(sim, tmp_path / "source.toml", out) == ExitCode.ROWS_FAILED
    failed = {r["row"]: r for r in results(out) if r["status"] == "failed"}
    defines = jsonl(tmp_path / "source.definitions.jsonl")
    industry = 1 + [d.get("scf_name") for d in defines].index("Industry")
    assert failed[industry]["outcome"] == "conflict"
    retry = tmp_path / "retry.jsonl"
    assert main(["retry", str(out), "-o", str(retry)]) == ExitCode.OK
    written = jsonl(retry)
    assert len(failed) == len(written)
    assert {"define": "field", "key": f"definitions-line-{industry}"}.items() <= written[0].items()
    assert main(["validate", str(retry)]) == ExitCode.OK
    capsys.readouterr()
    assert main(["retry", str(out), "-o", str(tmp_path / "retry.csv")]) == ExitCode.USAGE
    assert "expected a .jsonl output" in capsys.readouterr().err


def test_a_saved_plan_of_the_spec_is_refused_once_the_definitions_file_changed(
    sim: SimProcess, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan SPEC -o PLAN.json` records both files and one fingerprint over them; a change to the
    definitions file alone makes `run PLAN.json` refuse the plan (exit 2), nothing sent."""
    plan = exported.with_name("plan.json")
    spec = exported.with_suffix(".toml")
    assert main(["plan", str(spec), "--base-url", sim.base_url, "-o", str(plan)]) == 0
    job = json.loads(plan.read_text(encoding="utf-8"))["job"]
    definitions = exported.with_name("source.definitions.jsonl")
    assert (str(spec), str(exported), str(definitions)) == (
        job["spec"],
        job["operations"],
        job["definitions"],
    )
    with definitions.open("a", encoding="utf-8") as handle:
        handle.write("\n")  # a blank line: the same rows, other bytes
    capsys.readouterr()
    out = exported.with_name("run")
    assert main(["run", str(plan), "--out", str(out)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "the operations or definitions file changed since the plan was made" in err


def test_a_stopped_pass_is_not_continued_once_the_definitions_file_changed(
    sim: SimProcess, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A canary run (--limit 1) leaves the pass unfinished; after a change to the definitions
    file alone, the rerun is refused as a changed job (exit 2) naming both files."""
    spec, out = exported.with_suffix(".toml"), exported.with_name("run")
    args = ["run", str(spec), "--out", str(out), "--base-url", sim.base_url, "--no-progress"]
    assert main([*args, "--limit", "1"]) == ExitCode.STOPPED_EARLY
    definitions = exported.with_name("source.definitions.jsonl")
    with definitions.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    capsys.readouterr()
    assert main(args) == ExitCode.USAGE
    assert f"{definitions} + {exported}: changed since the pass" in capsys.readouterr().err


def test_the_files_beside_an_upper_case_csv_share_its_stem() -> None:
    """`ORG.CSV` (accepted: the suffix check ignores case) puts `ORG.definitions.jsonl` and
    `ORG.toml` beside it, not `ORG.CSV.toml`."""
    from scf_batch.run.export import definitions_beside, spec_beside  # noqa: PLC0415

    assert definitions_beside(Path("out/ORG.CSV")) == Path("out/ORG.definitions.jsonl")
    assert spec_beside(Path("out/ORG.CSV")) == Path("out/ORG.toml")
    assert spec_beside(Path("org.csv")) == Path("org.toml")
