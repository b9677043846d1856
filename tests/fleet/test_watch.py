"""What a monitor sees of a fleet run: one heartbeat (start, then success or fail with the
fleet's verdict) and one metrics file with every org's exit code and rows, read by the
reference Prometheus parser; a bad heartbeat URL is refused before any org starts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scf_batch.report.metrics import FleetEnd, OrgEnd, render_fleet_metrics
from scf_batch.sim.fleetseed import FleetSpec, expected_drift
from tests.fleet.test_fleet_e2e import fleet_cli, fleet_sim
from tests.monitor import Monitor, monitor_server
from tests.simproc import SimProcess

__all__ = ["fleet_sim"]  # the fixture, used by name


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics text, by name and labels, as the reference parser reads it."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def org_end(name: str, code: int, create: int = 0) -> OrgEnd:
    rows = dict.fromkeys(("create", "update", "delete", "unchanged", "failing", "invalid"), 0)
    return OrgEnd(name, f"orga_{name}", code, {**rows, "create": create}, drift_repaired=0)


def test_the_fleet_file_has_each_orgs_exit_code_and_rows() -> None:
    """Each org's exit code and rows by kind, labelled by its name in the manifest, and the
    fleet's orgs by exit code; the text is valid for the reference parser."""
    end = FleetEnd("nightly", 1, 1000.0, 35.5, (org_end("acme", 0, 3), org_end("globex", 2)))
    found = samples(render_fleet_metrics(end, ""))
    acme = (("fleet", "nightly"), ("fleet_org", "acme"), ("org", "orga_acme"))
    assert found["scf_batch_fleet_org_exit_code", acme] == 0
    globex = (("fleet", "nightly"), ("fleet_org", "globex"), ("org", "orga_globex"))
    assert found["scf_batch_fleet_org_exit_code", globex] == 2
    rows = (("fleet", "nightly"), ("fleet_org", "acme"), ("kind", "create"))
    assert found["scf_batch_fleet_org_rows", rows] == 3
    assert found["scf_batch_fleet_orgs", (("exit_code", "2"), ("fleet", "nightly"))] == 1
    assert found["scf_batch_fleet_run_exit_code", (("fleet", "nightly"),)] == 1


def test_a_failed_fleet_keeps_the_last_success_of_the_file_before() -> None:
    """The fleet's last success is this run's end when it exits 0, else the one the previous
    file held (0 when none has yet), so one alert on its age catches a fleet that keeps
    failing."""
    last = "scf_batch_fleet_last_success_timestamp_seconds"
    ok = render_fleet_metrics(FleetEnd("nightly", 0, 500.0, 1.0, (org_end("a", 0),)), "")
    assert samples(ok)[last, (("fleet", "nightly"),)] == 500
    failed = render_fleet_metrics(FleetEnd("nightly", 1, 900.0, 1.0, (org_end("a", 1),)), ok)
    assert samples(failed)[last, (("fleet", "nightly"),)] == 500
    other = render_fleet_metrics(FleetEnd("weekly", 1, 900.0, 1.0, ()), ok)
    assert samples(other)[last, (("fleet", "weekly"),)] == 0


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    with monitor_server() as server:
        yield server


@pytest.mark.slow
def test_a_fleet_run_pings_once_and_writes_every_orgs_metrics(
    fleet_sim: tuple[SimProcess, Path], monitor: Monitor
) -> None:
    """`fleet run --ping-url --metrics-file` of 17 good orgs and 3 broken ones: the monitor
    hears URL/start, then URL/fail (the fleet exits 1) with the orgs by exit code, and no
    key; the metrics file has every org's exit code as fleet-summary.json has it."""
    _, folder = fleet_sim
    prom = folder / "fleet.prom"
    done = fleet_cli(
        folder, "run", "fleet.toml", "--ping-url", monitor.url, "--metrics-file", str(prom)
    )
    assert done.returncode == 1, done.stderr
    assert monitor.paths == ["/ping/abc/start", "/ping/abc/fail"]
    assert "(exit 1); orgs: 17 exit 0, 3 exit 2" in monitor.received[-1].body
    keys = [line.partition("=")[2] for line in (folder / "keys.env").read_text().splitlines()]
    assert keys
    assert all(key not in str(request) for key in keys for request in monitor.received)
    summary = json.loads((folder / "runs" / "fleet-summary.json").read_text())
    found = samples(prom.read_text())
    codes = {
        dict(labels)["fleet_org"]: value
        for (name, labels), value in found.items()
        if name == "scf_batch_fleet_org_exit_code"
    }
    assert codes == {o["name"]: o["exit_code"] for o in summary["orgs"]}
    assert len(codes) == len(expected_drift(FleetSpec(orgs=17))) + 3


def test_a_plain_http_heartbeat_to_another_host_is_refused_before_any_org(tmp_path: Path) -> None:
    """--ping-url http://monitor.example/... : exit 2 naming the option, before the manifest
    is even read (nothing of it exists here)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scf_batch",
            "fleet",
            "run",
            "missing.toml",
            "--ping-url",
            "http://monitor.example/ping/abc",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--ping-url:" in done.stderr


@pytest.mark.slow
def test_a_shards_metrics_are_labelled_with_its_shard(fleet_sim: tuple[SimProcess, Path]) -> None:
    """Shards sharing a volume (or a collector) each have their own series: `fleet` is the
    manifest's name with the shard, as its summary file is named."""
    _, folder = fleet_sim
    prom = folder / "shard.prom"
    done = fleet_cli(folder, "run", "fleet.toml", "--shard", "0/2", "--metrics-file", str(prom))
    assert done.returncode in (0, 1), done.stderr
    found = samples(prom.read_text())
    assert found["scf_batch_fleet_run_exit_code", (("fleet", "fleet.shard-0-of-2"),)] == (
        done.returncode
    )
