"""What a scheduler sees of a run: --exit-zero-on-stop turns a deliberate stop (4) and a held
lock (75) into exit 0, while summary.json and the summary event keep the real code."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import write_csv
from tests.runs import TARGET_KEY, new_pairs, run, summary, summary_event, write_job
from tests.simproc import SimProcess, sim_process


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """One simulator for the module; each test writes pairs the org does not hold yet."""
    with sim_process() as process:
        yield process


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The target org's key in CLOSE_API_KEY."""
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    return TARGET_KEY


@pytest.mark.parametrize(("extra", "status"), [((), 4), (("--exit-zero-on-stop",), 0)])
def test_a_deliberate_stop_exits_0_only_when_asked(
    sim: SimProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    status: int,
) -> None:
    """--limit stops after 1 of 2 writing rows: exit 4, or 0 with --exit-zero-on-stop; the
    summary and the summary event say 4 either way."""
    job = write_job(tmp_path, sim, writes=2)
    out = tmp_path / "run"
    assert status == run(job, sim, out, "--limit", "1", *extra)
    event = summary_event(capsys.readouterr().err)
    assert (4, 4) == (summary(out)["exit_code"], event["exit_code"])


def test_a_held_lock_exits_0_with_the_option_from_the_spec(
    sim: SimProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run folder another run holds exits 0 when the spec sets exit_zero_on_stop; the
    summary event still says 75 and nothing of the folder is touched."""
    write_job(tmp_path, sim, writes=1)
    spec = tmp_path / "job.toml"
    spec.write_text('operations = "job.csv"\nexit_zero_on_stop = true\n', encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    with (out / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert 0 == run(spec, sim, out)
    assert 75 == summary_event(capsys.readouterr().err)["exit_code"]
    assert [".lock"] == [path.name for path in out.iterdir()]


def test_failed_rows_still_exit_1_with_the_option(sim: SimProcess, tmp_path: Path) -> None:
    """The option forgives stops only: a row that fails keeps exit 1."""
    (pair,) = new_pairs(sim, 1)  # updating a pair the org does not hold fails
    job = write_csv(tmp_path / "job.csv", [pair.row("row-0", "update", "true")])
    out = tmp_path / "run"
    assert 1 == run(job, sim, out, "--exit-zero-on-stop")
    assert 1 == summary(out)["exit_code"]
