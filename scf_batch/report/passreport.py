"""`scf-batch report`: a pass's summary rebuilt from its files, for summary.py to render."""

from __future__ import annotations

import json
from typing import Any

from scf_batch.models import Outcome, RowResult, Status
from scf_batch.report.resultscsv import error_text
from scf_batch.report.summary import RunReport
from scf_batch.runfolder.folder import DoneRows
from scf_batch.runfolder.passfiles import PassFiles, read_results
from scf_batch.runfolder.results import SUMMARY_FILE, Tally

SHOWN_FAILED_ROWS = 20
STATUSES = {status.value: status for status in Status}
OUTCOMES = {outcome.value: outcome for outcome in Outcome}


def load_report(files: PassFiles) -> RunReport:
    """The pass's report: counts and failed rows from results.jsonl, the rest from summary.json."""
    tally, seen = Tally(), DoneRows()
    failed: list[RowResult] = []
    for record in read_results(files.results):
        if not seen.add(record["row"]):
            continue  # a row resumed twice keeps its first line, as a resume counts it
        status, outcome = str(record.get("status")), str(record.get("outcome"))
        tally.add(status, outcome)
        if status != Status.OK.value and len(failed) < SHOWN_FAILED_ROWS:
            failed.append(row_result(record))
    return RunReport.from_documents(files.folder, files.checkpoint, _summary(files), tally, failed)


def _summary(files: PassFiles) -> dict[str, Any] | None:
    try:
        document = json.loads((files.folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def row_result(record: dict[str, Any]) -> RowResult:
    """A result line back as the RowResult the summary lists (what it shows of it)."""
    status, outcome = str(record.get("status")), str(record.get("outcome"))
    return RowResult(
        row=record["row"],
        line=record["line"] if isinstance(record.get("line"), int) else 0,
        key=record.get("key"),
        action=str(record.get("action") or ""),
        status=STATUSES.get(status, Status.FAILED),
        outcome=OUTCOMES.get(outcome, Outcome.REJECTED),
        scf_id=record.get("scf_id"),
        object_type=record.get("object_type"),
        target=record.get("target"),
        http_status=record.get("http_status"),
        error=error_text(record) or None,
    )
