"""The fleet's verdicts: counts from a run's tally, the fleet's exit code, the tables, and
fleet-summary.json's one writer and reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.verdicts import (
    OrgVerdict,
    fleet_exit_code,
    latest_verdicts,
    plan_table,
    run_counts,
    run_table,
    stopped,
)
from scf_batch.runfolder.fleetfile import (
    FleetSummary,
    read_fleet_summaries,
    read_fleet_summary,
    write_fleet_summary,
)


def verdict(
    name: str, code: ExitCode = ExitCode.OK, *, create: int = 0, update: int = 0, unchanged: int = 0
) -> OrgVerdict:
    return OrgVerdict(
        name,
        code,
        org_id=f"orga_{name}",
        org_name=name.title(),
        create=create,
        update=update,
        unchanged=unchanged,
    )


def test_run_counts_sort_a_tally_into_the_plans_kinds_of_change() -> None:
    """created and recreated count as creates, failed and invalid rows apart, the rest as
    unchanged."""
    tally = {
        "ok/created": 2,
        "ok/recreated": 1,
        "ok/updated": 3,
        "ok/deleted": 1,
        "ok/unchanged": 5,
        "ok/already_associated": 2,
        "failed/rejected": 1,
        "invalid/invalid": 4,
    }
    assert run_counts(tally) == {
        "create": 3,
        "update": 3,
        "delete": 1,
        "unchanged": 7,
        "failing": 1,
        "invalid": 4,
    }


@pytest.mark.parametrize(
    ("codes", "interrupted", "expected"),
    [
        ([ExitCode.OK, ExitCode.OK], False, ExitCode.OK),
        ([ExitCode.OK, ExitCode.STOPPED_EARLY], False, ExitCode.STOPPED_EARLY),
        ([ExitCode.STOPPED_EARLY, ExitCode.USAGE], False, ExitCode.ROWS_FAILED),
        ([ExitCode.OK, ExitCode.LOCKED], False, ExitCode.ROWS_FAILED),
        ([ExitCode.OK, ExitCode.REFUSING], False, ExitCode.ROWS_FAILED),
        ([ExitCode.OK], True, ExitCode.INTERRUPTED),
    ],
)
def test_the_fleets_exit_code_follows_its_orgs(
    codes: list[ExitCode], interrupted: bool, expected: ExitCode
) -> None:
    """0 when every org exited 0, 4 when the rest stopped early on purpose, 130 when
    interrupted, else 1."""
    verdicts = [verdict(f"org{n}", code) for n, code in enumerate(codes)]
    assert fleet_exit_code(verdicts, interrupted=interrupted) == expected


def test_plan_table_has_a_row_per_org_its_reason_and_the_totals() -> None:
    """An org that could not be planned shows its reason; the totals add the counts up."""
    verdicts = [
        verdict("acme", create=2, update=1, unchanged=7),
        verdict("globex", unchanged=10),
        stopped("initech", ExitCode.USAGE, "CLOSE_KEY_INITECH: not set"),
    ]
    lines = plan_table(verdicts).splitlines()
    assert lines[1].split() == ["acme", '"Acme"', "2", "1", "0", "7", "0", "0", "would", "change"]
    assert lines[2].split()[-3:] == ["nothing", "to", "do"]
    assert lines[3].endswith("CLOSE_KEY_INITECH: not set")
    assert lines[4].split()[:8] == ["total", "3", "org(s)", "2", "1", "0", "17", "0"]
    assert lines[-1] == "1 of 3 org(s) would change; 1 could not be planned"


def test_names_from_the_server_reach_the_table_escaped() -> None:
    """A Close org named with terminal escapes is shown quoted and escaped."""
    hostile = OrgVerdict("acme", ExitCode.OK, org_id="orga_x", org_name="Evil\x1b]0;pwned\x07")
    table = run_table([hostile], ExitCode.OK)
    assert ("\x1b" in table, "\x07" in table) == (False, False)
    assert "\\u001b" in table


def test_fleet_summary_round_trips_and_the_newest_verdict_of_an_org_wins(tmp_path: Path) -> None:
    """Shard summaries are read oldest first; an org's newest verdict is the one shown."""
    old = FleetSummary(
        "fleet.toml",
        1,
        "x",
        "2026-01-01T00:00:00+00:00",
        (
            verdict("acme", ExitCode.USAGE).document(),
            verdict("globex").document(),
        ),
    )
    new = FleetSummary(
        "fleet.toml", 0, "y", "2026-01-02T00:00:00+00:00", (verdict("acme", create=1).document(),)
    )
    write_fleet_summary(tmp_path, old, (0, 2))
    write_fleet_summary(tmp_path, new)
    summaries = read_fleet_summaries(tmp_path)
    assert [s.finished_at for s in summaries] == [old.finished_at, new.finished_at]
    latest = latest_verdicts(org for s in summaries for org in s.orgs)
    assert [(v.name, v.exit_code, v.create) for v in latest] == [
        ("acme", ExitCode.OK, 1),
        ("globex", ExitCode.OK, 0),
    ]


def test_a_damaged_fleet_summary_is_refused_naming_the_file(tmp_path: Path) -> None:
    """An entry without its exit code is an error naming the file, not a traceback."""
    path = tmp_path / "fleet-summary.json"
    document = {
        "version": 1,
        "manifest": "m",
        "exit_code": 0,
        "meaning": "",
        "finished_at": "",
        "orgs": [{"name": "acme", "reason": ""}],
    }
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=r"fleet-summary\.json: found org entry 1 without"):
        read_fleet_summary(path)


def test_no_fleet_summary_says_to_run_the_fleet_first(tmp_path: Path) -> None:
    """`fleet report` before any `fleet run` is a clear error."""
    with pytest.raises(UsageError, match="run the fleet first"):
        read_fleet_summaries(tmp_path)
