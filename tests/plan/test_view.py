"""How a plan reads: a field the job creates goes by its name, an invalid row names its line
once, and a typo of an object type or action gets the closest valid name."""

from __future__ import annotations

from pathlib import Path

from scf_batch.job.opsfile import OperationsFile
from scf_batch.plan.prepare import prepare
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.view import plan_line, plan_record
from tests.jobfiles import write, write_jsonl

ME = {"organizations": [{"id": "orga_1", "name": "Org"}]}


def lines(path: Path) -> list[str]:
    snapshot = Snapshot.from_lists(ME, [], [], [], [])
    rows = prepare(OperationsFile(path).items(), snapshot, where=str(path))
    found = [plan_line(prepared, snapshot) for prepared in rows]
    return [line for line in found if line is not None]


def test_rows_naming_a_field_the_job_creates_show_its_name_not_a_placeholder(
    tmp_path: Path,
) -> None:
    """`+ ensure "Churn Risk" (new) → lead`, and the JSON record names the field too."""
    job = write_jsonl(
        tmp_path / "job.jsonl",
        [
            {"define": "field", "scf_name": "Churn Risk", "type": "text"},
            {"action": "ensure", "scf_name": "Churn Risk", "object_type": "lead"},
        ],
    )
    assert lines(job)[1] == '+ ensure "Churn Risk" (new) → lead (not required)'
    snapshot = Snapshot.from_lists(ME, [], [], [], [])
    rows = prepare(OperationsFile(job).items(), snapshot, where=str(job))
    records = [plan_record(prepared, snapshot) for prepared in rows]
    assert records[1]["scf_name"] == "Churn Risk"


def test_an_invalid_row_names_its_line_once_and_suggests_the_closest_object_type(
    tmp_path: Path,
) -> None:
    """`! line 2: invalid: object_type: found "leed"; … (did you mean "lead"?)`, without the
    file's path and line a second time."""
    job = write(tmp_path / "job.csv", "key,action,scf_name,object_type\nk1,ensure,Industry,leed\n")
    (line,) = lines(job)
    assert line.startswith('! line 2: invalid: object_type: found "leed"; expected one of lead,')
    assert line.endswith('(did you mean "lead"?)')
    assert str(job) not in line


def test_a_misspelt_action_gets_the_closest_action(tmp_path: Path) -> None:
    """`asociate` -> did you mean "associate"?"""
    job = write(tmp_path / "job.csv", "action,scf_name,object_type\nasociate,Industry,lead\n")
    (line,) = lines(job)
    assert 'found "asociate"' in line
    assert line.endswith('(did you mean "associate" or "disassociate"?)')


def test_a_misspelt_key_of_a_definition_gets_the_closest_key(tmp_path: Path) -> None:
    """`name` in a definition line -> did you mean "scf_name"?"""
    job = write_jsonl(tmp_path / "job.jsonl", [{"define": "field", "name": "X", "type": "text"}])
    assert 'did you mean "scf_name"?' in lines(job)[0]


def test_an_undo_job_shows_each_label_beside_its_step(tmp_path: Path) -> None:
    """A field deletion warns of the values it deletes; each line of an undo job ends with its
    label and what the label means."""
    snapshot = Snapshot.from_lists(
        ME, [{"id": "cf_1", "name": "Risk", "type": "text", "associations": []}], [], [], []
    )
    job = write_jsonl(
        tmp_path / "undo.jsonl",
        [
            {"define": "field", "scf_name": "Risk", "delete": True, "undo": "lossy"},
            {
                "action": "associate",
                "scf_name": "Risk",
                "object_type": "lead",
                "undo": "irreversible",
            },
        ],
    )
    rows = prepare(OperationsFile(job).items(), snapshot, where=str(job))
    assert [
        '- field "Risk"   DELETES the field and every value stored in it'
        "   [lossy: deletes the values entered since the pass]",
        '+ associate "Risk" → lead (not required)'
        "   [irreversible: the values the pass deleted are gone]",
    ] == [plan_line(prepared, snapshot) for prepared in rows]
