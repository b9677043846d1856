"""How a fleet shares its orgs among worker processes: the counts, the shares, the verdict line
a worker tells its parent, and what an org its worker left unfinished becomes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.fleet.verdicts import OrgVerdict
from scf_batch.fleet.workers import (
    _left,
    _verdict,
    cgroup_cpu_quota,
    parallel_share,
    parse_worker,
    share,
    usable_cores,
    verdict_line,
    worker_count,
)


def test_one_worker_per_core_unless_asked_never_more_than_orgs_or_parallel() -> None:
    """No request: one per core; a request wins over the cores; both are capped by the orgs
    and by `parallel` (each worker runs at least one org at a time), and never below one."""
    assert worker_count(None, parallel=50, orgs=50, cores=2) == 2
    assert worker_count(4, parallel=50, orgs=50, cores=2) == 4
    assert worker_count(None, parallel=50, orgs=3, cores=8) == 3
    assert worker_count(None, parallel=1, orgs=50, cores=8) == 1
    assert worker_count(None, parallel=8, orgs=0, cores=8) == 1


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shares_cover_every_org_once_and_parallel_adds_up(count: int) -> None:
    """Every org is in exactly one worker's share, in manifest order within it, and the
    workers' parts of `parallel` add up to it, each at least one."""
    orgs = [f"org{i}" for i in range(20)]
    shares = [share(orgs, index, count) for index in range(count)]
    assert sorted(org for part in shares for org in part) == sorted(orgs)
    assert all(part == sorted(part, key=orgs.index) for part in shares)
    parts = [parallel_share(9, index, count) for index in range(count)]
    assert sum(parts) == 9
    assert min(parts) >= 1


@pytest.mark.parametrize("text", ["2/2", "a/2", "1", "-1/2", "0/0", "0/300"])
def test_a_bad_worker_argument_is_refused(text: str) -> None:
    """`--worker k/W` needs 0 <= k < W <= 256."""
    with pytest.raises(UsageError, match="--worker"):
        parse_worker(text)


def test_a_verdict_line_reads_back_as_the_verdict() -> None:
    """The line a worker prints is the verdict its parent reads; anything else is no verdict."""
    verdict = OrgVerdict("acme", ExitCode.ROWS_FAILED, reason="2 rows failed", create=3)
    line = verdict_line(verdict)
    assert "\n" not in line
    assert _verdict(line.encode()) == verdict
    assert _verdict(b"not json") is None
    assert _verdict(b'{"name": "acme"}') is None


def test_an_org_its_worker_left_is_interrupted_or_failed_by_how_the_worker_ended() -> None:
    """A worker stopped by a signal (or told to stop) leaves its orgs interrupted; a worker
    that crashed leaves them failed, naming its exit code."""
    assert _left("a", -signal.SIGTERM, interrupted=False).exit_code is ExitCode.INTERRUPTED
    assert _left("a", 130, interrupted=False).exit_code is ExitCode.INTERRUPTED
    assert _left("a", 0, interrupted=True).exit_code is ExitCode.INTERRUPTED
    crashed = _left("a", 1, interrupted=False)
    assert crashed.exit_code is ExitCode.ROWS_FAILED
    assert "exit 1" in crashed.reason


@pytest.mark.parametrize(
    ("cpu_max", "quota"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("50000 100000", 0.5), ("junk", None)],
)
def test_a_containers_cpu_limit_is_read_from_its_cgroup(
    tmp_path: Path, cpu_max: str, quota: float | None
) -> None:
    """cgroup v2's cpu.max gives the limit in cores; "max" (no limit) and anything the kernel
    would not write give none."""
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)
    assert cgroup_cpu_quota(path) == quota


def test_usable_cores_are_capped_by_a_cpu_limit_never_below_one(tmp_path: Path) -> None:
    """A pod limited to 2 CPUs on a bigger node gets at most 2 workers by default (not one per
    core of the node, each holding its orgs' memory); half a CPU still gets one; no file: the
    cores the process may run on."""
    path = tmp_path / "cpu.max"
    path.write_text("200000 100000\n")
    assert usable_cores(path) == min(2, usable_cores(tmp_path / "none"))
    path.write_text("50000 100000\n")
    assert usable_cores(path) == 1
    assert usable_cores(tmp_path / "none") >= 1
