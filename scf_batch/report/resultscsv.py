"""The results as a CSV people read in a spreadsheet: the input's own columns, then the verdict.

As Data Loader's success and error files do: each input row, in input order, echoes its cells
(a JSONL input: the operations columns) followed by `status`, `outcome` and `error`; a job
with a definitions file has its define lines first, a `define` column saying their kind.
Results are joined to input rows by `row` (results.jsonl is in completion order); a row without a
result (an unfinished pass) has empty verdict cells. Memory: one short verdict per row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from scf_batch.job.opsfile import OperationsFile
from scf_batch.job.rawrows import as_csv_cells, open_raw_job
from scf_batch.report.retryfile import open_output
from scf_batch.runfolder.records import ResultLine

VERDICT_COLUMNS = ("status", "outcome", "error")
Verdict = tuple[str, str, str]


def verdicts(results: Iterable[ResultLine]) -> dict[int, Verdict]:
    """Each row's (status, outcome, error text), from its result line."""
    return {result.row: (result.status, result.outcome, result.error_text) for result in results}


def write_results_csv(source: OperationsFile, found: dict[int, Verdict], out: Path) -> int:
    """Write every row of the job `source` with its verdict to `out` (a .csv, or .csv.gz);
    rows written."""
    written = 0
    with open_raw_job(source) as raw, open_output(out) as stream:
        defines = ["define"] if source.definitions is not None else []
        columns = [*defines, *(name for name in raw.columns if name and name != "define")]
        writer = csv.writer(stream)
        writer.writerow([*columns, *VERDICT_COLUMNS])
        for item in raw.rows:
            cells = as_csv_cells(item.values or {})
            verdict = found.get(item.row, ("", "", ""))
            writer.writerow([*(cells.get(name, "") for name in columns), *verdict])
            written += 1
    return written
