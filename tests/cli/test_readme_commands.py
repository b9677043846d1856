"""The README's commands, extracted from its shell blocks and run as written in a copy of the
clone, against the simulator; only those that need a real Close, a build or a shell's rc file
are skipped, each for a stated reason."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simproc import SimProcess, sim_process

ROOT = Path(__file__).parents[2]
BLOCK = re.compile(r"^ *```(?:sh|cron)\n(.*?)^ *```", re.S | re.M)
# commands not run here, and why
SKIPPED = {
    "make ": "builds .venv and runs the suites: this suite is part of it",
    "eval ": "changes the shell it runs in",
    "_SCF_BATCH_COMPLETE": "writes to the user's fish configuration",
    "chromium ": "the browser is the HTML test's business (tests/report)",
    "sim --port": "the simulator: already running for these commands",
    "runs/demo ": "reads the run folder `make demo` (skipped above) writes",
    "0 2 * * *": "a crontab line: its command is the run of the example job, run above",
    "docker ": "needs a container engine; tests/deploy checks the Dockerfile",
    "kubectl ": "needs a cluster; tests/deploy checks the CronJob against the CLI",
    "sudo ": "installs into the system; tests/deploy checks the cron line against the CLI",
}
# exit codes a command may end with as the README describes it
EXPECTED = {"--limit": {4}, "--online": {0, 2}}


def readme_commands() -> Iterator[str]:
    """Each command line of the README's shell blocks, continuations joined, comments cut."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                yield command


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """A simulator on the README's port's stand-in: a free one, named by the environment."""
    with sim_process() as process:
        yield process


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_readme_command_works_as_written(sim: SimProcess, tmp_path: Path) -> None:
    """Every command of the README runs in a fresh copy of the clone and ends as described
    (0, or what its line says), with the simulator standing in for Close."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "jobs", tmp_path / "jobs")
    env = {**os.environ, "CLOSE_BASE_URL": sim.base_url, "CLOSE_API_KEY": "api_target_key_1"}
    env["CLOSE_SOURCE_KEY"] = "api_source_key_1"
    ran = 0
    for command in readme_commands():
        if any(marker in command for marker in SKIPPED) or command.startswith("export "):
            continue
        words = shlex.split(command.replace("http://127.0.0.1:8787/api/v1/", sim.base_url))
        assigned = {}
        while "=" in words[0] and not words[0].startswith("-"):
            name, _, value = words.pop(0).partition("=")
            assigned[name] = value
        assert words[0] in {"scf-batch", ".venv/bin/scf-batch"}, command
        done = subprocess.run(
            [sys.executable, "-m", "scf_batch", *words[1:]],
            cwd=tmp_path,
            env={**env, **assigned},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        wanted = next((codes for flag, codes in EXPECTED.items() if flag in words), {0})
        assert done.returncode in wanted, f"{command}: exit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command
        ran += 1
    assert ran >= 15  # the README holds 15 runnable commands today
