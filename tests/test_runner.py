"""The run pipeline in-process, against the in-memory fake of the association API."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from scf_batch import conflicts, jobfile
from scf_batch.catalog import Catalog
from scf_batch.checkpoint import Resume
from scf_batch.close_client import ClientStats
from scf_batch.errors import AuthError
from scf_batch.exitcodes import ExitCode
from scf_batch.models import Target
from scf_batch.progress import Snapshot
from scf_batch.repeats import KnownRepeats
from scf_batch.runner import Run
from scf_batch.settings import RunSettings
from scf_batch.validation import check_offline
from tests.test_actions import FIELD, FakeApi

pytestmark = pytest.mark.anyio

OTHER = "cf_" + "b" * 43


class CountingApi(FakeApi):
    """The fake API with client counters; refuses the credentials from the `refuse_from`-th
    write on, as Close does when a key is revoked mid-run."""

    def __init__(self, refuse_from: int | None = None) -> None:
        super().__init__()
        self.fields |= {OTHER}
        self.stats = ClientStats()
        self.writes = 0
        self.refuse_from = refuse_from

    async def create_association(self, scf_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.writes += 1
        self.stats.requests += 1
        if self.refuse_from is not None and self.writes >= self.refuse_from:
            raise AuthError("unauthorized", status=401)
        return await super().create_association(scf_id, body)

    async def get_association(self, scf_id: str, target: Target) -> dict[str, Any] | None:
        self.stats.requests += 1
        return await super().get_association(scf_id, target)


class SilentReporter:
    def update(self, snapshot: Snapshot, *, now: float) -> None:
        self.last = snapshot


def job(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "ops.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "action", "scf_id", "object_type"])
        writer.writerows([(f"k{i}", action, FIELD, ot) for i, (action, ot) in enumerate(rows)])
    return path


def catalog() -> Catalog:
    fields = [{"id": FIELD, "name": "Owner"}, {"id": OTHER, "name": "Other"}]
    return Catalog.from_lists(fields, [], [], [])


def make_run(
    tmp_path: Path,
    ops: Path,
    api: CountingApi,
    total: int,
    repeats: KnownRepeats | None = None,
    **options: Any,
) -> Run:
    out = tmp_path / "run"
    out.mkdir()
    settings = RunSettings(name="t", operations=ops, out=out, **options)
    return Run(
        settings,
        api,
        catalog(),
        digest="d",
        total_rows=total,
        resume=Resume(),
        reporter=SilentReporter(),
        repeats=repeats,
    )


def lines(tmp_path: Path) -> list[dict[str, Any]]:
    text = (tmp_path / "run" / "results.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


async def test_credentials_refused_mid_run_stop_it_with_exit_3(tmp_path: Path) -> None:
    """A 401 in the middle of a run stops it (exit 3) without an exception escaping; rows
    finished before are recorded, the refused and unsent ones are not, and nothing more is sent."""
    targets = ["lead", "contact", "opportunity"] * 4
    ops = job(tmp_path, [("associate", t) for t in targets[:3]])
    api = CountingApi(refuse_from=3)
    run = make_run(tmp_path, ops, api, 3, concurrency=1)
    report = await run.execute()
    assert (report.exit_code, report.remaining) == (ExitCode.ABORTED, 1)
    assert [r["outcome"] for r in lines(tmp_path)] == ["created", "created"]
    assert api.writes == 3
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["exit_code"] == 3


async def test_a_completed_run_writes_a_complete_checkpoint(tmp_path: Path) -> None:
    """After every row is done the checkpoint says complete and counts every row."""
    ops = job(tmp_path, [("associate", "lead"), ("ensure", "contact"), ("disassociate", "lead")])
    report = await make_run(tmp_path, ops, CountingApi(), 3).execute()
    checkpoint = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert (report.exit_code, checkpoint["complete"], checkpoint["rows_done"]) == (
        ExitCode.OK,
        True,
        3,
    )
    assert [r["outcome"] for r in lines(tmp_path)] == ["created", "created", "deleted"]


async def test_a_run_refuses_conflicts_past_the_cap_in_its_single_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the offline pass's repeats, the run finds a conflict between pairs past the conflict
    check's cap without reading the file once more, and records it invalid (--skip-invalid)."""
    monkeypatch.setattr(conflicts, "MAX_PAIRS", 2)
    ops = tmp_path / "ops.csv"
    ops.write_text(
        "action,scf_id,object_type,required\n"
        f"associate,{FIELD},lead,true\n"
        f"associate,{FIELD},contact,true\n"
        f"associate,{FIELD},opportunity,true\n"  # past the cap
        f"associate,{FIELD},opportunity,false\n"  # contradicts row 3
    )
    offline = check_offline(ops)
    assert offline.invalid_rows == 1

    def no_second_look(path: Path) -> None:
        raise AssertionError("the run read the file again to find repeats")

    monkeypatch.setattr(jobfile, "find_repeats", no_second_look)
    api = CountingApi()
    run = make_run(tmp_path, ops, api, 4, repeats=offline.repeats, skip_invalid=True)
    report = await run.execute()
    assert report.exit_code == ExitCode.ROWS_FAILED
    assert sorted((r["row"], r["status"]) for r in lines(tmp_path)) == [
        (1, "ok"),
        (2, "ok"),
        (3, "ok"),
        (4, "invalid"),
    ]
    assert api.writes == 3
