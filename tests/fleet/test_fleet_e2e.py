"""A fleet of 20 orgs on the simulator, as real processes: the plan table matches the seeded
drift, the run repairs it while three broken orgs end with their reasons, a `kill -9` mid-run
loses and repeats nothing, and four shards cover every org once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from scf_batch.sim.fleetseed import (
    FleetSpec,
    expected_drift,
    fleet_job_rows,
    org_slug,
    write_fleet,
)
from tests.e2e import writes_sent
from tests.simproc import SimProcess, sim_process

pytestmark = pytest.mark.slow

BROKEN = """
[[org]]
name = "unset-key"
api_key_env = "CLOSE_KEY_NOBODY_SET_THIS"

[[org]]
name = "wrong-pin"
api_key_env = "CLOSE_KEY_CLIENT000"
organization_id = "orga_OfSomeoneElse"

[[org]]
name = "bad-job"
api_key_env = "CLOSE_KEY_CLIENT001"
job = "bad.csv"
"""


def fleet_env(folder: Path) -> dict[str, str]:
    """The environment with every org's key exported, as `source keys.env` does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSE_")}
    for line in (folder / "keys.env").read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fleet_cli(folder: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scf_batch", "fleet", *args],
        cwd=folder,
        env=fleet_env(folder),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def make_fleet(tmp_path: Path, spec: FleetSpec, base_url: str, *, broken: bool) -> Path:
    manifest = write_fleet(spec, tmp_path, base_url=base_url, parallel=8)
    if broken:
        (tmp_path / "bad.csv").write_text(
            "key,action,scf_name,object_type\nk1,ensure,Field 1,leed\n"
        )
        manifest.write_text(manifest.read_text() + BROKEN)
    return manifest


@pytest.fixture
def fleet_sim(tmp_path: Path) -> Iterator[tuple[SimProcess, Path]]:
    """17 drifted orgs (and, in the manifest, 3 broken ones) served by one simulator."""
    spec = FleetSpec(orgs=17)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    with sim_process("--seed", str(tmp_path / "seed.json")) as sim:
        make_fleet(tmp_path, spec, sim.base_url, broken=True)
        yield sim, tmp_path


def org_associations(state: dict[str, Any], name: str) -> int:
    org = next(o for o in state["orgs"] if o["name"] == name)
    return sum(len(f["associations"]) for f in org["shared_custom_fields"])


def test_plan_table_matches_the_seeded_drift_and_names_the_broken_orgs(
    fleet_sim: tuple[SimProcess, Path],
) -> None:
    """`fleet plan --format json`: each org's creates and updates are its seeded drift; the
    unset key, the wrong pin and the invalid job are rows with their reasons (exit 1)."""
    sim, folder = fleet_sim
    done = fleet_cli(folder, "plan", "fleet.toml", "--format", "json")
    assert done.returncode == 1, done.stderr
    orgs = {o["name"]: o for o in json.loads(done.stdout)["orgs"]}
    drift = expected_drift(FleetSpec(orgs=17))
    planned = {n: (o["create"], o["update"], o["delete"]) for n, o in orgs.items() if n in drift}
    assert planned == {n: (d.lacking, d.changed, 0) for n, d in drift.items()}
    assert orgs["unset-key"]["exit_code"] == 2
    assert "CLOSE_KEY_NOBODY_SET_THIS" in orgs["unset-key"]["reason"]
    assert orgs["wrong-pin"]["exit_code"] == 2
    assert "pinned" in orgs["wrong-pin"]["reason"]
    assert (orgs["bad-job"]["exit_code"], orgs["bad-job"]["invalid"]) == (2, 1)
    assert writes_sent(sim.stats()) == {}


def test_run_repairs_the_drift_and_the_broken_orgs_stop_alone(
    fleet_sim: tuple[SimProcess, Path],
) -> None:
    """`fleet run`: the 17 good orgs end ok with exactly their drift written, the 3 broken end
    with their reasons (exit 1, each org's code in fleet-summary.json); a second plan of the
    good orgs has nothing to do."""
    sim, folder = fleet_sim
    done = fleet_cli(folder, "run", "fleet.toml")
    assert done.returncode == 1, done.stderr
    summary = json.loads((folder / "runs" / "fleet-summary.json").read_text())
    codes = {o["name"]: o["exit_code"] for o in summary["orgs"]}
    drift = expected_drift(FleetSpec(orgs=17))
    assert codes == {**dict.fromkeys(drift, 0), "unset-key": 2, "wrong-pin": 2, "bad-job": 2}
    wanted = sum(d.lacking + d.changed for d in drift.values())
    assert sum(sim.stats()["writes_applied"].values()) == wanted
    only = [arg for name in drift for arg in ("--org", name)]
    again = fleet_cli(folder, "plan", "fleet.toml", *only)
    assert again.returncode == 0, again.stderr
    assert f"0 of {len(drift)} org(s) would change" in again.stdout
    page = fleet_cli(folder, "report", "fleet.toml", "--html", "fleet.html")
    assert page.returncode == 0, page.stderr
    linked = sorted(p.stem for p in (folder / "fleet-orgs").glob("*.html"))
    assert linked == sorted(drift)
    assert (folder / "fleet-orgs" / "plotly.min.js").exists()
    assert all(
        f'href="fleet-orgs/{name}.html"' in (folder / "fleet.html").read_text() for name in drift
    )


def results_lines(folder: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in folder.glob("runs/*/results.jsonl"))


def popen_fleet(folder: Path, *args: str) -> subprocess.Popen[bytes]:
    """`scf-batch fleet run fleet.toml ARGS` started in the fleet's folder, output discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "scf_batch", "fleet", "run", "fleet.toml", *args],
        cwd=folder,
        env=fleet_env(folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_a_third(folder: Path, rows: int) -> None:
    """Until a third of the rows have their result line (a minute at most)."""
    deadline = time.monotonic() + 60
    while results_lines(folder) < rows // 3 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_kill_9_mid_run_then_the_same_command_ends_every_org_exact(tmp_path: Path) -> None:
    """`kill -9` of a fleet onboarding 12 orgs mid-run, then the same command: every org holds
    every association of the job, each written once (writes applied = the job's pairs x
    orgs), and each org's results hold one line per row."""
    spec = FleetSpec(orgs=12, fields=8, onboarding=True)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    rows = len(fleet_job_rows(spec))
    with sim_process("--seed", str(tmp_path / "seed.json"), "--rate-limit", "4") as sim:
        make_fleet(tmp_path, spec, sim.base_url, broken=False)
        proc = popen_fleet(tmp_path)
        wait_for_a_third(tmp_path, rows * spec.orgs)
        assert proc.poll() is None, "the fleet ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert 0 < results_lines(tmp_path) < rows * spec.orgs
        done = fleet_cli(tmp_path, "run", "fleet.toml")
        assert done.returncode == 0, done.stdout + done.stderr
        state = sim.state()
        assert {org_slug(p): org_associations(state, f"Client {p:03d}") for p in range(12)} == (
            dict.fromkeys((org_slug(p) for p in range(12)), rows)
        )
        assert sum(sim.stats()["writes_applied"].values()) == rows * spec.orgs
    for position in range(spec.orgs):
        lines = (tmp_path / "runs" / org_slug(position) / "results.jsonl").read_text()
        numbers = [json.loads(line)["row"] for line in lines.splitlines()]
        assert sorted(numbers) == list(range(1, rows + 1))


def test_four_shards_cover_every_org_once(fleet_sim: tuple[SimProcess, Path]) -> None:
    """Shards 0/4..3/4 as four processes at once: each org is run by exactly one shard (one
    pass in its folder), and `fleet report` combines the four shard summaries."""
    sim, folder = fleet_sim
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scf_batch", "fleet", "run", "fleet.toml", "--shard", f"{i}/4"],
            cwd=folder,
            env=fleet_env(folder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(4)
    ]
    for proc in procs:
        proc.wait(timeout=180)
    ran: list[str] = []
    for index in range(4):
        path = folder / "runs" / f"fleet-summary.shard-{index}-of-4.json"
        ran += [o["name"] for o in json.loads(path.read_text())["orgs"]]
    names = [org_slug(p) for p in range(17)] + ["unset-key", "wrong-pin", "bad-job"]
    assert sorted(ran) == sorted(names)
    for name in map(org_slug, range(17)):
        checkpoint = json.loads((folder / "runs" / name / "checkpoint.json").read_text())
        assert (checkpoint["pass"], checkpoint["complete"]) == (1, True)
    drift = expected_drift(FleetSpec(orgs=17))
    assert sum(sim.stats()["writes_applied"].values()) == sum(
        d.lacking + d.changed for d in drift.values()
    )
    report = fleet_cli(folder, "report", "fleet.toml", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert sorted(o["name"] for o in json.loads(report.stdout)["orgs"]) == sorted(names)


def test_sigint_stops_every_org_at_a_checkpoint_and_the_rerun_finishes(tmp_path: Path) -> None:
    """SIGINT mid-run: the fleet exits 130 with fleet-summary.json saying so, and the same
    command then finishes every org with each pair written once."""
    spec = FleetSpec(orgs=6, fields=8, onboarding=True)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    rows = len(fleet_job_rows(spec))
    with sim_process("--seed", str(tmp_path / "seed.json"), "--rate-limit", "4") as sim:
        make_fleet(tmp_path, spec, sim.base_url, broken=False)
        proc = subprocess.Popen(
            [sys.executable, "-m", "scf_batch", "fleet", "run", "fleet.toml"],
            cwd=tmp_path,
            env=fleet_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while results_lines(tmp_path) < rows * spec.orgs // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr
        summary = json.loads((tmp_path / "runs" / "fleet-summary.json").read_text())
        assert summary["exit_code"] == 130
        assert "Traceback" not in stderr
        done = fleet_cli(tmp_path, "run", "fleet.toml")
        assert done.returncode == 0, done.stdout + done.stderr
        assert sum(sim.stats()["writes_applied"].values()) == rows * spec.orgs


def fleet_workers(parent: psutil.Process) -> list[psutil.Process]:
    """The fleet's worker processes (`... fleet run ... --worker k/W`)."""
    return [p for p in parent.children(recursive=True) if "--worker" in p.cmdline()]


def test_the_workers_die_with_the_fleet_and_a_rerun_ends_every_org_exact(tmp_path: Path) -> None:
    """`fleet run --workers 2`: two worker processes share the orgs; a `kill -9` of the fleet
    takes its workers with it (none is left holding an org's lock), and the same command then
    ends every org exact, each association written once, its workers' log lines whole."""
    spec = FleetSpec(orgs=6, fields=8, onboarding=True)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    rows = len(fleet_job_rows(spec))
    with sim_process("--seed", str(tmp_path / "seed.json"), "--rate-limit", "4") as sim:
        make_fleet(tmp_path, spec, sim.base_url, broken=False)
        proc = popen_fleet(tmp_path, "--workers", "2")
        wait_for_a_third(tmp_path, rows * spec.orgs)
        workers = fleet_workers(psutil.Process(proc.pid))
        assert sorted(w.cmdline()[-1] for w in workers) == ["0/2", "1/2"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        _gone, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == [], "a worker outlived the fleet"
        done = fleet_cli(tmp_path, "run", "fleet.toml", "--workers", "2")
        assert done.returncode == 0, done.stdout + done.stderr
        # the two workers log to one stderr: every line is whole, one JSON object
        assert all(isinstance(json.loads(line), dict) for line in done.stderr.splitlines())
        state = sim.state()
        assert all(org_associations(state, f"Client {p:03d}") == rows for p in range(spec.orgs))
        assert sum(sim.stats()["writes_applied"].values()) == rows * spec.orgs


def test_sigterm_stops_every_worker_and_the_summary_says_interrupted(tmp_path: Path) -> None:
    """SIGTERM to a fleet of two workers (as Kubernetes stops a pod): each worker stops its
    orgs with their checkpoints, the fleet exits 130 with every org in fleet-summary.json
    (those cut short: 130) and its metrics file saying 130, and the same command then
    finishes them."""
    spec = FleetSpec(orgs=6, fields=8, onboarding=True)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    rows = len(fleet_job_rows(spec))
    with sim_process("--seed", str(tmp_path / "seed.json"), "--rate-limit", "4") as sim:
        make_fleet(tmp_path, spec, sim.base_url, broken=False)
        proc = popen_fleet(tmp_path, "--workers", "2", "--metrics-file", "fleet.prom")
        wait_for_a_third(tmp_path, rows * spec.orgs)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
        metrics = (tmp_path / "fleet.prom").read_text()
        assert 'scf_batch_fleet_run_exit_code{fleet="fleet"} 130' in metrics
        summary = json.loads((tmp_path / "runs" / "fleet-summary.json").read_text())
        codes = {o["name"]: o["exit_code"] for o in summary["orgs"]}
        assert sorted(codes) == sorted(org_slug(p) for p in range(spec.orgs))
        assert 130 in codes.values()
        assert summary["exit_code"] == 130
        done = fleet_cli(tmp_path, "run", "fleet.toml", "--workers", "2")
        assert done.returncode == 0, done.stdout + done.stderr
        assert sum(sim.stats()["writes_applied"].values()) == rows * spec.orgs


def test_a_fleet_runs_a_two_file_job_spec_on_every_org(tmp_path: Path) -> None:
    """The job `export --format csv` writes — a spec naming a definitions JSONL (a new field and
    an order) and an operations CSV — run by a fleet: every org gets the field and its
    association, each org's results number the rows of both files on, one line each."""
    spec = FleetSpec(orgs=3, fields=8, onboarding=True)
    write_fleet(spec, tmp_path, base_url="http://127.0.0.1:1/api/v1/")
    with sim_process("--seed", str(tmp_path / "seed.json")) as sim:
        manifest = make_fleet(tmp_path, spec, sim.base_url, broken=False)
        manifest.write_text(manifest.read_text().replace('job = "job.csv"', 'job = "job.toml"'))
        extra = "onboarding-notes,ensure,Onboarding Notes,lead,,,false,\n"
        (tmp_path / "ops.csv").write_text((tmp_path / "job.csv").read_text() + extra)
        (tmp_path / "defs.jsonl").write_text(
            '{"define": "field", "scf_name": "Onboarding Notes", "type": "text"}\n'
            '{"define": "order", "object_type": "lead", '
            '"fields": ["Onboarding Notes", "Field 1"]}\n'
        )
        (tmp_path / "job.toml").write_text('operations = "ops.csv"\ndefinitions = "defs.jsonl"\n')
        done = fleet_cli(tmp_path, "run", "fleet.toml")
        assert done.returncode == 0, done.stdout + done.stderr
        state = sim.state()
    rows = len(fleet_job_rows(spec)) + 3  # the definition, the CSV's rows and extra, the order
    for position in range(spec.orgs):
        org = next(o for o in state["orgs"] if o["name"] == f"Client {position:03d}")
        (field,) = [f for f in org["shared_custom_fields"] if f["name"] == "Onboarding Notes"]
        assert [a["object_type"] for a in field["associations"]] == ["lead"]
        lines = (tmp_path / "runs" / org_slug(position) / "results.jsonl").read_text()
        numbers = sorted(json.loads(line)["row"] for line in lines.splitlines())
        assert numbers == list(range(1, rows + 1))
