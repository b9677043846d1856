"""The metrics file: what render_metrics writes reads back through prometheus_client's parser,
the last success survives failed runs, and the file is replaced whole."""

from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from scf_batch.exitcodes import ExitCode
from scf_batch.plan.snapshot import Org
from scf_batch.report.metrics import RunEnd, read_previous, render_metrics, write_metrics
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.records import PassTotals
from scf_batch.runfolder.results import Tally

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a metrics text, by name and labels, as the reference parser reads it."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value, with the job and org labels of `end()` unless given."""
    wanted = {"job": "nightly", "org": "orga_1", **labels}
    return samples(text)[(f"scf_batch_{name}", tuple(sorted(wanted.items())))]


def report(code: ExitCode = ExitCode.OK, pass_number: int = 2) -> RunReport:
    tally = Tally(
        Counter({"ok": 3, "failed": 1}),
        Counter({"ok/created": 2, "ok/unchanged": 1, "failed/conflict": 1}),
    )
    return RunReport(
        exit_code=code,
        folder=Path("runs/nightly"),
        job="nightly",
        org=Org("orga_1", "Acme"),
        pass_number=pass_number,
        pass_why="",
        started_at="2026-12-06T01:00:00Z",
        total_rows=5,
        tally=tally,
        totals=PassTotals(
            elapsed_s=1.5,
            requests=9,
            rate_limited=2,
            requests_by_group={
                "GET custom_field/shared/": 2,
                "POST custom_field/shared/{scf_id}/association/": 7,
            },
        ),
        rate_per_s=20.0,
    )


def end(code: int, at_s: float, *, with_report: bool = True, org: str | None = "orga_1") -> RunEnd:
    return RunEnd(
        job="nightly",
        org_id=org,
        exit_code=code,
        ended_at_s=at_s,
        duration_s=2.25,
        report=report(ExitCode(code)) if with_report else None,
    )


def test_a_run_reads_back_through_the_reference_parser() -> None:
    """Every figure of the run comes back from prometheus_client's parser as it was given."""
    text = render_metrics(end(0, 1_000.5), previous="")
    assert 1_000.5 == value(text, "run_end_timestamp_seconds")
    assert 1_000.5 == value(text, "last_success_timestamp_seconds")
    assert (2.25, 0) == (value(text, "run_duration_seconds"), value(text, "run_exit_code"))
    assert {"ok": 3, "failed": 1, "invalid": 0} == {
        status: value(text, "pass_rows_by_status", status=status)
        for status in ("ok", "failed", "invalid")
    }
    assert 2 == value(text, "pass_rows_by_outcome", status="ok", outcome="created")
    assert 7 == value(text, "run_writes", group="POST custom_field/shared/{scf_id}/association/")
    assert 2 == value(text, "run_requests", group="GET custom_field/shared/")
    assert (2, 2, 5, 2) == (
        value(text, "run_rate_limited"),
        value(text, "pass_drift_repaired"),
        value(text, "pass_rows"),
        value(text, "pass_number"),
    )


def test_only_write_groups_are_writes() -> None:
    """A GET group is counted in requests, never in writes."""
    text = render_metrics(end(0, 1.0), previous="")
    writes = {labels for name, labels in samples(text) if name == "scf_batch_run_writes"}
    assert 1 == len(writes)


def test_a_failed_run_keeps_the_last_success_of_the_previous_file() -> None:
    """A run that exits 1 after a success carries that success's time over, with its own end."""
    first = render_metrics(end(0, 1_000.0), previous="")
    second = render_metrics(end(1, 2_000.0), previous=first)
    assert (1_000.0, 2_000.0, 1) == (
        value(second, "last_success_timestamp_seconds"),
        value(second, "run_end_timestamp_seconds"),
        value(second, "run_exit_code"),
    )


def test_a_failure_that_never_met_its_org_keeps_the_previous_org_label() -> None:
    """A held lock (no report, no org) labels its samples with the previous file's org."""
    first = render_metrics(end(0, 1_000.0), previous="")
    locked = render_metrics(end(75, 2_000.0, with_report=False, org=None), previous=first)
    assert (1_000.0, 75) == (
        value(locked, "last_success_timestamp_seconds"),
        value(locked, "run_exit_code"),
    )
    assert not any(name == "scf_batch_pass_rows" for name, _ in samples(locked))


def test_a_first_ever_failure_says_0_for_the_last_success() -> None:
    """With no previous file, a failed run writes 0: no run of the job has succeeded yet."""
    text = render_metrics(end(2, 5_000.0, with_report=False, org=None), previous="")
    assert 0 == value(text, "last_success_timestamp_seconds", org="")


def test_a_stop_forgiven_to_schedulers_is_no_success() -> None:
    """Exit 4 (a deliberate stop) keeps the previous success: the metric ages until a pass ends."""
    first = render_metrics(end(0, 1_000.0), previous="")
    stopped = render_metrics(end(4, 2_000.0), previous=first)
    assert 1_000.0 == value(stopped, "last_success_timestamp_seconds")


def test_another_jobs_previous_file_is_not_read_as_ours() -> None:
    """A previous file of another job gives no last success."""
    other = render_metrics(end(0, 1_000.0), previous="").replace('job="nightly"', 'job="other"')
    assert 0 == value(
        render_metrics(end(1, 2_000.0), previous=other), "last_success_timestamp_seconds"
    )


@pytest.mark.parametrize(
    "junk", ["", "garbage\n", 'scf_batch_last_success_timestamp_seconds{job="nightly"} NaN\n']
)
def test_a_previous_file_without_a_usable_last_success_gives_0(junk: str) -> None:
    """An empty, foreign or damaged previous file counts as no success yet."""
    assert 0 == value(render_metrics(end(1, 2.0), previous=junk), "last_success_timestamp_seconds")


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=40))
def test_label_values_are_escaped_so_the_parser_reads_them_back(job: str) -> None:
    """Quotes, backslashes and newlines in a job's name come back from the parser unchanged,
    and its last success is found again in the file it wrote."""
    first = render_metrics(RunEnd(job, None, 0, 7.0, 1.0), previous="")
    labels = {
        dict(s.labels)["job"] for f in text_string_to_metric_families(first) for s in f.samples
    }
    assert {job} == labels
    again = render_metrics(RunEnd(job, None, 1, 9.0, 1.0), previous=first)
    assert (
        7.0
        == samples(again)[
            (
                "scf_batch_last_success_timestamp_seconds",
                tuple(sorted({"job": job, "org": ""}.items())),
            )
        ]
    )


def test_the_file_is_replaced_whole_and_readable_by_the_collector(tmp_path: Path) -> None:
    """write_metrics leaves the new text, mode 0644, and no temporary file beside it."""
    path = tmp_path / "scf_batch.prom"
    path.write_text("old\n", encoding="utf-8")
    write_metrics(path, "new\n")
    assert ("new\n", 0o644, ["scf_batch.prom"]) == (
        read_previous(path),
        stat.S_IMODE(path.stat().st_mode),
        [p.name for p in tmp_path.iterdir()],
    )


def test_a_missing_previous_file_reads_as_empty(tmp_path: Path) -> None:
    """The first run of a job finds no file: an empty text, no error."""
    assert "" == read_previous(tmp_path / "none.prom")


def test_a_job_name_from_an_undecodable_file_name_is_written_and_found_again() -> None:
    """A lone surrogate (a file name's undecodable byte) is written as `?`, and the job's last
    success is still found in the file it wrote."""
    job = "nightly-\udcff"
    first = render_metrics(RunEnd(job, None, 0, 7.0, 1.0), previous="")
    first.encode("utf-8")  # the file's text is UTF-8 throughout
    again = render_metrics(RunEnd(job, None, 1, 9.0, 1.0), previous=first)
    assert 7.0 == value(again, "last_success_timestamp_seconds", job="nightly-?", org="")
