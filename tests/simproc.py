"""The simulator as a real subprocess, for end-to-end and crash tests.

    with sim_process("--rate-limit", "5") as sim:
        run_something(sim.base_url)
        assert sim.stats()["rate_limited"] == 0

`env` adds to (does not replace) the current environment. The process is terminated on exit,
and killed if it does not stop within a few seconds. The control helpers use urllib only; a
400 from `configure()` raises `urllib.error.HTTPError`.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

LISTENING = "scf-batch sim listening on "
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


@dataclass
class SimProcess:
    """A running `scf-batch sim`: its URLs, its process, and the control endpoints."""

    proc: subprocess.Popen[str]
    base_url: str  # http://127.0.0.1:PORT/api/v1/
    root_url: str  # http://127.0.0.1:PORT/

    def control(self, method: str, name: str, body: Mapping[str, Any] | None = None) -> Any:
        """Call `/_sim/<name>` and return its JSON body."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.root_url}_sim/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        """Every org with its current fields and associations."""
        result: dict[str, Any] = self.control("GET", "state")
        return result

    def stats(self) -> dict[str, Any]:
        """Requests by group and status, 429s, faults, applied writes."""
        result: dict[str, Any] = self.control("GET", "stats")
        return result

    def reset(self) -> None:
        """Back to the seed, zero stats (the config stays)."""
        self.control("POST", "reset", {})

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change live settings (rate_limit, rate_window_s, latency_ms, jitter_ms, fault_rate,
        header_style, body_style); returns them all."""
        result: dict[str, Any] = self.control("POST", "config", fields)
        return result


@contextmanager
def sim_process(*extra_args: str, env: Mapping[str, str] | None = None) -> Iterator[SimProcess]:
    """Start `python -m scf_batch sim --port 0 *extra_args`, wait for its listening line."""
    command = [sys.executable, "-m", "scf_batch", "sim", "--port", "0", *extra_args]
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, **(env or {})},
        )
        try:
            base_url = _await_listening(proc, stderr)
            root_url = base_url.removesuffix("api/v1/")
            yield SimProcess(proc=proc, base_url=base_url, root_url=root_url)
        finally:
            _stop(proc)


def _await_listening(proc: subprocess.Popen[str], stderr: Any) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        line = ""
    if not line.startswith(LISTENING):
        _stop(proc)
        stderr.seek(0)
        raise RuntimeError(f"the simulator did not start: {line!r}\n{stderr.read()}")
    return line.removeprefix(LISTENING).strip()


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
