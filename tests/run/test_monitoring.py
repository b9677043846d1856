"""What a scheduler and a monitor see of a run: --exit-zero-on-stop turns a deliberate stop (4)
and a held lock (75) into exit 0, while summary.json, the summary event and the metrics keep the
real code; the metrics file after a success, a failure, a refusal and an interruption; the
heartbeats for a success, a failure, a refusal and a monitor that cannot be reached."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scf_batch.cli.common import settings_for
from scf_batch.errors import UsageError
from scf_batch.options import RunSettings, build_settings
from scf_batch.run.monitoring import Watch
from tests.cliruns import TARGET_KEY, new_pairs, run, summary, summary_event, write_job
from tests.e2e import cli_env, run_args, write_csv
from tests.monitor import Monitor, monitor_server
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


def metric(path: Path, name: str, **labels: str) -> float:
    """One sample of the metrics file, read by the reference parser (job/org labels included)."""
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            if sample.name == f"scf_batch_{name}" and labels.items() <= sample.labels.items():
                return sample.value
    raise AssertionError(f"no sample {name} {labels} in {path}")


def test_the_metrics_file_says_what_summary_json_says(
    sim: SimProcess, tmp_path: Path, key: str
) -> None:
    """After a run, the metrics file's code, rows by status and outcome, requests and 429s are
    summary.json's, labelled by job and org; the key is nowhere in it."""
    job = write_job(tmp_path, sim, writes=2)
    out, prom = tmp_path / "run", tmp_path / "scf_batch.prom"
    assert 0 == run(job, sim, out, "--metrics-file", str(prom))
    done = summary(out)
    labels = {"job": "job", "org": done["org"]["id"]}
    assert done["exit_code"] == metric(prom, "run_exit_code", **labels)
    assert {**done["by_status"], "failed": 0} == {
        status: metric(prom, "pass_rows_by_status", status=status) for status in ("ok", "failed")
    }
    assert done["by_outcome"] == {
        "ok/created": metric(prom, "pass_rows_by_outcome", status="ok", outcome="created")
    }
    assert done["rate_limited"] == metric(prom, "run_rate_limited")
    assert done["requests"] == sum(
        metric(prom, "run_requests", group=group) for group in done["requests_by_group"]
    )
    assert metric(prom, "run_end_timestamp_seconds") == metric(
        prom, "last_success_timestamp_seconds"
    )
    assert metric(prom, "run_duration_seconds") >= done["elapsed_s"]
    assert key not in prom.read_text(encoding="utf-8")


def test_a_failed_run_keeps_the_last_success(sim: SimProcess, tmp_path: Path) -> None:
    """A run that meets a held lock after a success writes exit 75 and the success's time."""
    job = write_job(tmp_path, sim, writes=1)
    out, prom = tmp_path / "run", tmp_path / "scf_batch.prom"
    assert 0 == run(job, sim, out, "--metrics-file", str(prom))
    succeeded_at = metric(prom, "last_success_timestamp_seconds")
    with (out / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert 75 == run(job, sim, out, "--metrics-file", str(prom))
    assert (75, succeeded_at) == (
        metric(prom, "run_exit_code"),
        metric(prom, "last_success_timestamp_seconds"),
    )
    assert metric(prom, "run_end_timestamp_seconds") >= succeeded_at


def test_a_first_ever_refused_run_writes_0_for_the_last_success(
    sim: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run refused for want of a key (exit 2, its settings known) still writes its metrics:
    exit 2, and 0 for a last success that never was."""
    monkeypatch.delenv("CLOSE_API_KEY")
    job = write_job(tmp_path, sim, writes=1)
    prom = tmp_path / "scf_batch.prom"
    assert 2 == run(job, sim, tmp_path / "run", "--metrics-file", str(prom))
    assert (2, 0) == (
        metric(prom, "run_exit_code", job="job", org=""),
        metric(prom, "last_success_timestamp_seconds"),
    )


def test_an_interrupted_run_writes_exit_130(tmp_path: Path) -> None:
    """A run ended by Ctrl-C (KeyboardInterrupt) writes its metrics with exit 130."""
    prom = tmp_path / "scf_batch.prom"
    watch = Watch(clock=lambda: 1_234.0)
    watch.begin(settings_of({"metrics_file": str(prom)}))
    watch.failed(KeyboardInterrupt())
    assert (130, 1_234.0) == (
        metric(prom, "run_exit_code"),
        metric(prom, "run_end_timestamp_seconds"),
    )


def test_a_metrics_file_in_a_missing_folder_is_refused_before_the_run(
    sim: SimProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--metrics-file in a folder that does not exist: exit 2 naming it, nothing sent."""
    job = write_job(tmp_path, sim, writes=1)
    before = sim.stats()["total"]
    prom = tmp_path / "nowhere" / "scf_batch.prom"
    assert 2 == run(
        job, sim, tmp_path / "run", "--metrics-file", str(prom), "--log-format", "console"
    )
    assert "--metrics-file: found" in capsys.readouterr().err
    assert before == sim.stats()["total"]


@pytest.mark.parametrize("path", ["metrics.txt", "../../elsewhere.prom"])
def test_a_specs_metrics_file_must_be_a_prom_file_near_the_spec(tmp_path: Path, path: str) -> None:
    """A spec's metrics_file that is not *.prom, or lies outside the spec's and the current
    folder, is refused (the flag may name any place)."""
    spec = tmp_path / "a" / "b" / "job.toml"
    spec.parent.mkdir(parents=True)
    spec.write_text(f'operations = "ops.csv"\nmetrics_file = "{path}"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="metrics_file"):
        settings_for(spec, {})


def settings_of(spec: dict[str, Any]) -> RunSettings:
    return build_settings(name="job", operations=Path("ops.csv"), spec_values=spec, flags={})


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    """A heartbeat monitor on 127.0.0.1 recording every ping."""
    with monitor_server() as server:
        yield server


def test_a_successful_run_pings_start_then_success(
    sim: SimProcess, tmp_path: Path, monitor: Monitor, key: str
) -> None:
    """URL/start as the run starts, then URL with the verdict as its body; no key anywhere."""
    job = write_job(tmp_path, sim, writes=1)
    assert 0 == run(job, sim, tmp_path / "run", "--ping-url", monitor.url)
    assert ["/ping/abc/start", "/ping/abc"] == monitor.paths
    verdict = monitor.received[-1].body
    assert verdict.startswith("scf-batch: every row ok (exit 0)")
    assert all(key not in str(request) for request in monitor.received)
    assert all("Authorization" not in request.headers for request in monitor.received)


def test_a_failed_run_pings_start_then_fail(
    sim: SimProcess, tmp_path: Path, monitor: Monitor
) -> None:
    """A run with a failed row (exit 1) ends with URL/fail, its body saying exit 1."""
    (pair,) = new_pairs(sim, 1)
    job = write_csv(tmp_path / "job.csv", [pair.row("row-0", "update", "true")])
    assert 1 == run(job, sim, tmp_path / "run", "--ping-url", monitor.url)
    assert ["/ping/abc/start", "/ping/abc/fail"] == monitor.paths
    assert "(exit 1)" in monitor.received[-1].body


def test_a_refused_run_pings_fail_without_a_start(
    sim: SimProcess, tmp_path: Path, monitor: Monitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run refused before it starts (no key: exit 2) still tells the monitor it failed."""
    monkeypatch.delenv("CLOSE_API_KEY")
    job = write_job(tmp_path, sim, writes=1)
    assert 2 == run(job, sim, tmp_path / "run", "--ping-url", monitor.url)
    assert ["/ping/abc/fail"] == monitor.paths
    assert monitor.received[0].body.startswith("scf-batch: usage error")


def test_a_held_lock_forgiven_to_schedulers_pings_success(
    sim: SimProcess, tmp_path: Path, monitor: Monitor
) -> None:
    """With --exit-zero-on-stop a held lock exits 0, so the monitor hears URL (the body says
    75)."""
    job = write_job(tmp_path, sim, writes=1)
    out = tmp_path / "run"
    out.mkdir()
    with (out / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert 0 == run(job, sim, out, "--ping-url", monitor.url, "--exit-zero-on-stop")
    assert ["/ping/abc/start", "/ping/abc"] == monitor.paths
    assert "(exit 75)" in monitor.received[-1].body


def test_an_unreachable_monitor_changes_nothing_but_a_warning(
    sim: SimProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pings to a port nothing listens on: the run exits 0 as it would have, warns twice, and
    its last line is still the summary event."""
    with monitor_server() as gone:
        url = gone.url  # the server stops here: its port refuses from now on
    job = write_job(tmp_path, sim, writes=1)
    assert 0 == run(job, sim, tmp_path / "run", "--ping-url", url)
    err = capsys.readouterr().err
    assert 2 == err.count('"ping_failed"')
    assert 0 == summary_event(err)["exit_code"]


def test_plain_http_to_another_host_is_refused_before_the_run(
    sim: SimProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--ping-url http://… to a host that is not this machine: exit 2, nothing sent."""
    job = write_job(tmp_path, sim, writes=1)
    before = sim.stats()["total"]
    url = "http://hc.example/abc"
    argv = ("--ping-url", url, "--log-format", "console")
    assert 2 == run(job, sim, tmp_path / "run", *argv)
    assert "--ping-url: found http:// to hc.example" in capsys.readouterr().err
    assert before == sim.stats()["total"]


def test_the_key_is_scrubbed_from_a_heartbeat_and_absent_from_the_metrics(
    tmp_path: Path, monitor: Monitor
) -> None:
    """An error whose message carries the key (in any form) reaches the monitor as ***, and the
    metrics file holds no trace of it."""
    secret = "api_watched_key_42"
    prom = tmp_path / "scf_batch.prom"
    watch = Watch()
    watch.begin(settings_of({"ping_url": monitor.url, "metrics_file": str(prom)}))
    watch.start(secret)
    watch.failed(UsageError(f"the server echoed {secret} back"))
    bodies = [request.body for request in monitor.received]
    assert [
        "scf-batch: run of job started",
        "scf-batch: usage error: bad command line, job spec, environment or file: "
        "the server echoed *** back (exit 2)",
    ] == bodies
    assert secret not in prom.read_text(encoding="utf-8")


@pytest.mark.slow  # the CLI as a real subprocess, so the signal is real
def test_a_run_stopped_by_sigterm_writes_exit_130_and_its_rows(tmp_path: Path, key: str) -> None:
    """SIGTERM once the run has started (its `start` event read from stderr): the metrics file
    says 130 and counts the rows summary.json counts; the heartbeat says /fail."""
    prom = tmp_path / "scf_batch.prom"
    with sim_process("--latency-ms", "100") as slow, monitor_server() as monitor:
        job, out = write_job(tmp_path, slow, writes=20), tmp_path / "run"
        extra = ("--concurrency", "1", "--metrics-file", str(prom), "--ping-url", monitor.url)
        proc = subprocess.Popen(
            run_args(job, slow.base_url, out, *extra),
            env=cli_env(key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:  # blocks until the run says it has started
            if json.loads(line)["event"] == "start":
                break
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    done = summary(out)
    assert (130, 130) == (proc.returncode, metric(prom, "run_exit_code"))
    assert done["by_status"].get("ok", 0) == metric(prom, "pass_rows_by_status", status="ok")
    assert ["/ping/abc/start", "/ping/abc/fail"] == monitor.paths
