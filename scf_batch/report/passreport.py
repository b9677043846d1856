"""`scf-batch report`: a pass's summary rebuilt from its records, for summary.py to render."""

from __future__ import annotations

from scf_batch.models import Status
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.passfiles import PassFiles
from scf_batch.runfolder.records import ResultLine
from scf_batch.runfolder.results import Tally

SHOWN_FAILED_ROWS = 20


def load_report(files: PassFiles) -> RunReport:
    """The pass's report: counts and failed rows from results.jsonl, the rest from summary.json;
    a run that holds the folder now is named with its pid."""
    tally = Tally()
    failed: list[ResultLine] = []
    for result in files.results():
        tally.count(result)
        if result.status is not Status.OK and len(failed) < SHOWN_FAILED_ROWS:
            failed.append(result)
    report = RunReport.from_records(files.folder, files.checkpoint, files.summary(), tally, failed)
    report.running_pid = files.holder()
    return report
