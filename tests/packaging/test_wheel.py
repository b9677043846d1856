"""The wheel carries what its commands need: the demo runs from an empty folder after installing."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_installed_wheel_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    """A wheel installed in a fresh venv runs `scf-batch demo` from an empty folder, exit 0."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("scf_batch-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        timeout=300,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(
        [str(bin_dir / "scf-batch"), "demo", "--no-progress"],
        cwd=empty,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert f"folder    {empty / 'runs' / 'demo'}" in done.stdout
    assert (empty / "runs" / "demo" / "summary.json").is_file()
