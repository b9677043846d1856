"""Conflicts are found alike however many pairs the file has: past the conflict check's cap,
only pairs that repeat keep a state, and the answers do not change (repeats.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scf_batch import conflicts, repeats
from scf_batch.conflicts import ConflictTracker
from scf_batch.jobfile import check_rows, find_repeats, read_operations
from scf_batch.models import Action, ObjectType, Operation, Ref
from scf_batch.repeats import KnownRepeats, RepeatFinder
from scf_batch.validation import check_offline
from tests.jobfiles import ACTITYPE, FIELD_1, FIELD_2, OLD_FIELD, csv_of, write_jsonl

HEADER = "action,scf_id,scf_name,object_type,custom_activity_type_id,required,editable_with_roles"
FIELDS = [(FIELD_1, ""), (FIELD_2, ""), (OLD_FIELD, ""), ("", "Plan"), ("", "Tier")]
TARGETS = [("lead", ""), ("contact", ""), ("custom_activity_type", ACTITYPE)]

row_strategy = st.tuples(
    st.sampled_from(["associate", "ensure", "update", "disassociate"]),
    st.sampled_from(FIELDS),
    st.sampled_from(TARGETS),
    st.sampled_from(["", "true", "false"]),
    st.sampled_from(["", "admin", "user", "admin;user"]),
)
Row = tuple[str, tuple[str, str], tuple[str, str], str, str]


def csv_rows(rows: list[Row]) -> list[str]:
    return [
        f"{action},{scf_id},{name},{object_type},{type_id},{required},{roles}"
        for action, (scf_id, name), (object_type, type_id), required, roles in rows
    ]


def shown(items: object) -> list[object]:
    """Items as comparable values: an Operation, or the problems of a RowError."""
    return [item if isinstance(item, Operation) else item.problems for item in items]  # type: ignore[attr-defined]


@pytest.fixture
def cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """A conflict check that keeps two pairs before asking which repeat (the real cap: 50,000)."""
    monkeypatch.setattr(conflicts, "MAX_PAIRS", 2)
    return 2


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(row_strategy, max_size=25))
def test_a_capped_check_finds_every_conflict_an_uncapped_one_finds(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Row]
) -> None:
    """Reading, validating and the finder's later pass all agree with keeping every pair."""
    path = csv_of(tmp_path_factory.mktemp("rows"), *csv_rows(rows), header=HEADER)
    uncapped = shown(read_operations(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conflicts, "MAX_PAIRS", 2)
        assert shown(read_operations(path)) == uncapped  # finds the repeats first, by itself
        report = check_offline(path)
        assert shown(read_operations(path, report.repeats)) == uncapped
    expected = [problems for problems in uncapped if not isinstance(problems, Operation)]
    assert report.problems == [problem for problems in expected for problem in problems]  # type: ignore[attr-defined]


def test_a_conflict_between_pairs_past_the_cap_is_found_and_names_the_earlier_row(
    tmp_path: Path, cap: int
) -> None:
    """Two fresh pairs fill the cap; a third pair, met twice later, still conflicts."""
    rows = [
        f"associate,{FIELD_1},,lead,,true,",
        f"associate,{FIELD_1},,contact,,true,",
        f"associate,{FIELD_2},,lead,,true,",  # row 3: past the cap
        f"associate,{FIELD_2},,contact,,true,",  # past the cap, met once
        f"associate,{FIELD_2},,lead,,false,",  # row 5: contradicts row 3
    ]
    path = csv_of(tmp_path, *rows, header=HEADER)
    report = check_offline(path)
    (problem,) = report.problems
    assert (problem.line, problem.column) == (6, "action")
    assert "row 3 (line 4)" in problem.found
    assert report.repeats is not None
    assert len(report.repeats.hashes) == 1  # only the pair that repeats past the cap


def test_a_file_whose_pairs_past_the_cap_never_repeat_is_read_once(
    tmp_path: Path, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validating a file of distinct pairs makes one pass, and later passes keep no new pair."""
    rows = [f"ensure,{FIELD_1},,{target},{type_id},true," for target, type_id in TARGETS]
    rows += [f"ensure,,Plan,{target},{type_id},false," for target, type_id in TARGETS]
    path = csv_of(tmp_path, *rows, header=HEADER)
    passes = []
    real = check_rows

    def counted(*args: object) -> object:
        passes.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("scf_batch.validation.check_rows", counted)
    report = check_offline(path)
    assert (report.ok, report.rows, len(passes)) == (True, 6, 1)
    assert report.repeats is not None
    assert report.repeats.hashes == frozenset()


def test_jsonl_conflicts_past_the_cap_are_found(tmp_path: Path, cap: int) -> None:
    """The JSONL reader keeps pairs past the cap the same way."""
    rows: list[dict[str, object]] = [
        {"action": "associate", "scf_id": FIELD_1, "object_type": "lead"},
        {"action": "associate", "scf_id": FIELD_1, "object_type": "contact"},
        {"action": "associate", "scf_name": "Plan", "object_type": "lead"},
        {"action": "associate", "scf_name": "Plan", "object_type": "lead", "required": True},
    ]
    path = write_jsonl(tmp_path / "ops.jsonl", rows)
    expected = "row 3 (line 3)"
    (problem,) = check_offline(path).problems
    assert expected in problem.found
    (error,) = [item for item in read_operations(path) if not isinstance(item, Operation)]
    assert expected in error.problems[0].found


def test_the_finder_finds_exactly_the_hashes_met_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashes spilled to its file over many blocks and buckets come back; singles do not."""
    monkeypatch.setattr(repeats, "BLOCK", 3)
    finder = RepeatFinder()
    singles = range(0, 4000, 2)
    doubles = [-(2**63), 2**63 - 1, 7, -12345, 10**15 + 1]
    for value in [*singles, *doubles, *reversed(doubles), *doubles]:
        assert finder.keep(value) is False
    assert finder.found().hashes == frozenset(doubles)
    assert finder.found() is finder.found()  # worked out once


def test_a_finder_that_met_nothing_finds_nothing() -> None:
    """A file whose pairs all fit under the cap leaves nothing to keep in later passes."""
    assert RepeatFinder().found().hashes == frozenset()


def test_the_tracker_keeps_the_cap_then_only_what_repeats() -> None:
    """Memory past the cap is for pairs that may repeat only."""
    known = KnownRepeats(frozenset({hash(((ObjectType.LEAD, None, None), "F9"))}))
    tracker = ConflictTracker(known, max_pairs=3)
    for number in range(10):
        op = Operation(number + 1, number + 2, Action.ENSURE, Ref(id=f"F{number}"), ObjectType.LEAD)
        assert tracker.see(op) is None
    assert len(tracker) == 4  # F0, F1, F2, then F9 past the cap


def test_find_repeats_reads_the_file_the_way_check_offline_does(tmp_path: Path, cap: int) -> None:
    """A reader on its own, past the cap, finds the same repeats check_offline records."""
    rows = csv_rows(
        [
            ("ensure", FIELDS[0], TARGETS[0], "true", ""),
            ("ensure", FIELDS[1], TARGETS[0], "true", ""),
            ("ensure", FIELDS[3], TARGETS[1], "true", ""),
            ("ensure", FIELDS[4], TARGETS[1], "true", ""),
            ("ensure", FIELDS[3], TARGETS[1], "true", "admin"),
        ]
    )
    path = csv_of(tmp_path, *rows, header=HEADER)
    report = check_offline(path)
    assert report.repeats is not None
    assert find_repeats(path).hashes == report.repeats.hashes
    assert len(report.repeats.hashes) == 1
