"""The pass recorder: the runner's result sink, writing result lines and the checkpoint."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scf_batch.models import RowResult, Status
from scf_batch.runfolder.folder import write_checkpoint
from scf_batch.runfolder.records import Checkpoint, RecordedOrg, ResultLine
from scf_batch.runfolder.results import RESULTS_FILE, ResultsWriter


@dataclass
class PassRecord:
    """What the checkpoint says of a pass, besides its progress."""

    job: str
    number: int
    started_at: str
    operations: Path
    fingerprint: str
    settings: dict[str, Any]
    org: RecordedOrg | None
    rows_total: int
    definitions: Path | None = None

    def document(self, *, rows_done: int, complete: bool, now: str) -> Checkpoint:
        """The checkpoint of the pass as it stands."""
        return Checkpoint(
            job=self.job,
            pass_number=self.number,
            started_at=self.started_at,
            input_path=str(self.operations),
            fingerprint=self.fingerprint,
            settings=self.settings,
            org=self.org,
            rows_total=self.rows_total,
            rows_done=rows_done,
            complete=complete,
            updated_at=now,
            definitions_path=None if self.definitions is None else str(self.definitions),
        )


class PassRecorder:
    """The runner's result sink: result lines, a checkpoint every few seconds, and what the
    summary needs (rows per second, the first rows that did not end ok)."""

    def __init__(
        self,
        folder: Path,
        record: PassRecord,
        *,
        rows_done: int,
        utc_now: Callable[[], str],
        checkpoint_interval_s: float = 2.0,
        shown_failures: int = 20,
        started: float | None = None,
    ) -> None:
        self.folder = folder
        self.record = record
        self.rows_done = rows_done
        self.rows_by_second: Counter[int] = Counter()
        self.failed: list[ResultLine] = []
        self._utc_now = utc_now
        self._interval_s = checkpoint_interval_s
        self._shown_failures = shown_failures
        self._writer = ResultsWriter(folder / RESULTS_FILE)
        # the origin of rows_by_second: the run's first request (as the client counts requests),
        # else the first row written
        self._started = started
        self._last_checkpoint = -math.inf

    def write(self, result: RowResult, *, now: float) -> None:
        self._writer.write(result, now=now)
        self.rows_done += 1
        if self._started is None:
            self._started = now
        self.rows_by_second[max(0, int(now - self._started))] += 1
        if result.status is not Status.OK and len(self.failed) < self._shown_failures:
            self.failed.append(ResultLine.of(result))
        if now - self._last_checkpoint >= self._interval_s:
            self.checkpoint(complete=False, now=now)

    def checkpoint(self, *, complete: bool, now: float) -> None:
        self._writer.sync(now=now)
        self._last_checkpoint = now
        document = self.record.document(
            rows_done=self.rows_done, complete=complete, now=self._utc_now()
        )
        write_checkpoint(self.folder, document)

    def close(self, *, complete: bool, now: float) -> None:
        self.checkpoint(complete=complete, now=now)
        self._writer.close()
