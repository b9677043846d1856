"""Start-up, signals and pipes of the real program: what a person or a shell sees of a process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simproc import SimProcess, sim_process

ROOT = Path(__file__).parents[2]
HEAVY = ("aiohttp", "plotly", "rich", "scf_batch.sim")
TARGET_KEY = "api_target_key_1"
# what bash's completion sets to ask for the words after `scf-batch `
COMPLETING = {"_SCF_BATCH_COMPLETE": "bash_complete", "COMP_WORDS": "scf-batch ", "COMP_CWORD": "1"}

# runs the CLI in a fresh interpreter, then prints which heavy modules it had imported
PROBE = """
import json, sys
from scf_batch.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"aiohttp", "plotly", "rich"}
               or m.startswith("scf_batch.sim"))
print(json.dumps(heavy), file=sys.stderr)
"""


def heavy_imports(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules a command imported, run in its own interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["validate", "jobs/demo.toml"], ["run", "--help"]]
)
def test_offline_commands_import_no_http_client_chart_or_simulator(args: list[str]) -> None:
    """--version, --help and an offline validate import neither aiohttp, plotly, rich nor the
    simulator."""
    assert heavy_imports(*args) == []


def test_shell_completion_imports_no_command() -> None:
    """Completing a command name answers from the command table, importing nothing heavy."""
    assert heavy_imports(env=COMPLETING) == []


def test_shell_completion_lists_every_command() -> None:
    """bash completion of `scf-batch ` offers the commands, sim and export included."""
    done = subprocess.run(
        [sys.executable, "-m", "scf_batch"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **COMPLETING},
        timeout=60,
        check=False,
    )
    offered = {line.split(",")[1] for line in done.stdout.splitlines()}
    assert {"run", "plan", "validate", "report", "retry", "export", "demo", "sim"} <= offered


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: a command waits on it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/"


# the program with a SIGINT or SIGTERM sent to itself `delay_s` after `main` starts (its
# imports of click and the command's modules come after that)
SIGNALLED = """
import os, signal, sys, threading
delay_s, signum = float(sys.argv[1]), int(sys.argv[2])
sys.argv = ["scf-batch", *sys.argv[3:]]
from scf_batch.cli import main
threading.Timer(delay_s, os.kill, (os.getpid(), signum)).start()
raise SystemExit(main())
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay_s", [0.002, 0.01, 0.03, 0.08, 0.2, 0.6])
def test_a_signal_at_any_moment_ends_with_one_line_and_130(
    silent_server: str, delay_s: float, signum: int, tmp_path: Path
) -> None:
    """SIGINT or SIGTERM during the imports, the spec's reading or the org's snapshot ends
    `plan` with exit 130 and one line on stderr, never a traceback."""
    job = tmp_path / "ops.csv"
    job.write_text("scf_name,object_type\nIndustry,lead\n", encoding="utf-8")
    args = ["plan", str(job), "--base-url", silent_server]
    done = subprocess.run(
        [sys.executable, "-c", SIGNALLED, str(delay_s), str(int(signum)), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLOSE_API_KEY": TARGET_KEY},
        timeout=60,
        check=False,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert (done.returncode, len(lines)) == (130, 1), done.stderr
    assert lines[0].startswith("scf-batch: interrupted by SIG")
    assert "run folder" not in lines[0]  # plan has none


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """One simulator for this module, with the default seed."""
    with sim_process() as process:
        yield process


def test_a_closed_pipe_ends_quietly_with_141(sim: SimProcess) -> None:
    """`plan --format json | head -1`: the reader goes away; the command prints nothing on
    stderr and exits 141, as shell tools do."""
    plan = ["plan", "jobs/demo.toml", "--format", "json", "--base-url", sim.base_url]
    command = [sys.executable, "-m", "scf_batch", *plan]
    env = {**os.environ, "SCF_DEMO_API_KEY": TARGET_KEY, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        code = proc.wait(timeout=60)
        said = proc.stderr.read()
    assert json.loads(first)
    assert (code, said) == (141, "")


def test_close_base_url_sets_the_base_url_under_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$CLOSE_BASE_URL is used when neither the flag nor the spec gives a base URL; the flag
    wins over it."""
    from scf_batch.cli.common import settings_for  # noqa: PLC0415

    job = tmp_path / "ops.csv"
    job.write_text("scf_name,object_type\nIndustry,lead\n", encoding="utf-8")
    monkeypatch.setenv("CLOSE_BASE_URL", "http://127.0.0.1:9/api/v1/")
    assert settings_for(job, {}).base_url == "http://127.0.0.1:9/api/v1/"
    flagged = settings_for(job, {"base_url": "http://127.0.0.1:8/api/v1/"})
    assert flagged.base_url == "http://127.0.0.1:8/api/v1/"
    monkeypatch.delenv("CLOSE_BASE_URL")
    assert settings_for(job, {}).base_url == "https://api.close.com/api/v1/"


def test_help_names_close_base_url_and_every_default() -> None:
    """`run --help` mentions $CLOSE_BASE_URL and gives every option a default."""
    from click.testing import CliRunner  # noqa: PLC0415

    from scf_batch.cli.jobs import run_command  # noqa: PLC0415
    from scf_batch.options import OPTIONS, help_text  # noqa: PLC0415

    shown = CliRunner().invoke(run_command, ["--help"], terminal_width=200).output
    assert "$CLOSE_BASE_URL" in shown
    assert all("[default: " in help_text(option) for option in OPTIONS)


def test_off_a_terminal_every_stderr_line_is_json_ending_with_the_summary_event(
    sim: SimProcess, tmp_path: Path
) -> None:
    """A run with stderr not a terminal writes only JSON objects there, org as two fields, and
    ends with one summary event carrying the exit code, its meaning and the counts."""
    sim.reset()
    out = str(tmp_path / "run")
    run = ["run", "data/examples/onboarding.csv", "--base-url", sim.base_url, "--out", out]
    command = [sys.executable, "-m", "scf_batch", *run, "--no-progress"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLOSE_API_KEY": TARGET_KEY},
        timeout=120,
        check=False,
    )
    events = [json.loads(line) for line in done.stderr.splitlines()]
    start = next(event for event in events if event["event"] == "start")
    last = events[-1]
    assert (start["org_name"], start["org_id"].startswith("orga_")) == ("Acme Target", True)
    assert last["event"] == "summary"
    assert (last["exit_code"], last["meaning"]) == (done.returncode, "every row ok")
    assert last["rows_done"] == last["rows_total"] == 13
    assert last["org_name"] == "Acme Target"


def test_off_a_terminal_an_error_ends_with_the_summary_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error after the logs are set up (a run folder that is a file) is the summary event,
    with exit 2, its meaning and the message, not a text line among JSON ones."""
    from scf_batch.cli.main import main  # noqa: PLC0415

    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    argv = ["run", "data/examples/migration.jsonl", "--out", str(afile), "--log-format", "json"]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    event = json.loads(line)
    assert (event["event"], event["exit_code"]) == ("summary", 2)
    assert "cannot use it as the run folder" in event["error"]


def test_run_on_a_bad_header_says_what_validate_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` of a CSV with a misspelt column names the column and what is expected, in the
    very words `validate` prints, and says the problems are in the header."""
    from scf_batch.cli.main import main  # noqa: PLC0415

    job = tmp_path / "typo_col.csv"
    job.write_text("scf_name,object_tpye\nIndustry,lead\n", encoding="utf-8")
    monkeypatch.setenv("CLOSE_API_KEY", TARGET_KEY)
    assert main(["validate", str(job)]) == 2
    validated = capsys.readouterr().out.splitlines()
    assert main(["run", str(job), "--out", str(tmp_path / "run")]) == 2
    said = capsys.readouterr().err
    assert '"object_tpye"' in validated[0]
    assert validated[0] in said.splitlines()
    assert validated[-1].endswith("problem(s) in the header; nothing was sent")
