"""Start-up of the real program, whole process: the median of several runs of each command,
printed beside `python -c pass` (run: `.venv/bin/python bench/startup.py [RUNS]`)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(Path(sys.executable).with_name("scf-batch"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "scf-batch --version": [SCRIPT, "--version"],
    "scf-batch --help": [SCRIPT, "--help"],
    "scf-batch validate jobs/demo.toml": [SCRIPT, "validate", "jobs/demo.toml"],
}
GOALS_S = {
    "scf-batch --version": 0.15,
    "scf-batch --help": 0.15,
    "scf-batch validate jobs/demo.toml": 0.3,
}


def median_s(command: list[str], runs: int) -> float:
    """The median wall time of `runs` runs of the command, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    base = median_s(COMMANDS["python -c pass"], runs)
    for name, command in COMMANDS.items():
        took = base if name == "python -c pass" else median_s(command, runs)
        goal = GOALS_S.get(name)
        verdict = ""
        if goal is not None:
            verdict = f"  goal <= {goal:.2f} s: {'met' if took <= goal else 'MISSED'}"
        print(f"{name:36} {took:6.3f} s  {took / base:5.1f}x python -c pass{verdict}")


if __name__ == "__main__":
    main()
