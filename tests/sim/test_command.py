"""`scf-batch sim` as a real process: the listening line, the control helpers of
tests/simproc.py, clean stops on SIGINT/SIGTERM, and exit 2 on bad input."""

from __future__ import annotations

import signal
import socket
import urllib.request
from pathlib import Path

import pytest

from scf_batch.cli.main import main
from tests.simproc import sim_process


def test_the_simulator_announces_its_url_and_serves_the_api() -> None:
    """The listening line names a free port; the API answers there with the seed's data."""
    with sim_process("--rate-limit", "50") as sim:
        request = urllib.request.Request(
            sim.base_url + "me/", headers={"Authorization": "Bearer oauth_target_token_1"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            header = response.headers["RateLimit"]
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert sim.base_url.endswith("/api/v1/")
        assert header == "limit=50, remaining=49, reset=1"
        assert sim.stats()["by_group"] == {"GET me/": {"200": 1}}


def test_the_helpers_reset_and_configure() -> None:
    """state(), stats(), reset() and configure() drive the control endpoints."""
    with sim_process() as sim:
        assert sim.configure(fault_rate=0.5)["fault_rate"] == 0.5
        assert [o["name"] for o in sim.state()["orgs"]] == ["Acme Source", "Acme Target"]
        sim.reset()
        assert sim.stats()["total"] == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_simulator_cleanly(signum: signal.Signals) -> None:
    """SIGTERM and SIGINT stop the simulator with exit code 0."""
    with sim_process() as sim:
        sim.proc.send_signal(signum)
        assert sim.proc.wait(timeout=10) == 0


def test_the_helper_terminates_the_process_on_exit() -> None:
    """Leaving sim_process() leaves no simulator running."""
    with sim_process() as sim:
        proc = sim.proc
    assert proc.poll() is not None


def test_a_broken_seed_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A seed that cannot be read is reported on stderr with exit code 2."""
    seed = tmp_path / "seed.json"
    seed.write_text("{")
    assert main(["sim", "--port", "0", "--seed", str(seed)]) == 2
    assert "cannot read the seed" in capsys.readouterr().err


def test_a_busy_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """When the port is taken the simulator says so and exits 2."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sim", "--port", str(port)]) == 2
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args", [["--fault-rate", "2"], ["--header-style", "colon"], ["--rate-limit", "-1"]]
)
def test_bad_options_are_usage_errors(args: list[str]) -> None:
    """Out-of-range options exit 2 before anything starts."""
    assert main(["sim", *args]) == 2
