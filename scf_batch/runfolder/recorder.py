"""The pass recorder: the runner's result sink, writing result lines and the checkpoint.

Each result line is flushed to the OS as it is written (it survives `kill -9`). Making the
lines durable (fsync, every second) and writing the checkpoint (every two seconds) wait on the
disk, so during the pass they run on the recorder's own thread, one at a time, and never hold
up the event loop that paces the org's requests (a fleet's worker runs dozens of orgs on one).
The checkpoint a background write carries was taken when it was queued, after its lines were
flushed, and its fsync of the lines comes first: it never claims a line the disk may lack. A
background write's error is raised by the next call. The first checkpoint and the last are
written at once, on the caller's thread, after any background write has ended.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
    """The runner's result sink: result lines, their fsync every `sync_interval_s` and a
    checkpoint every `checkpoint_interval_s` (both off the caller's thread, see above), and
    what the summary needs (rows per second, the first rows that did not end ok)."""

    def __init__(
        self,
        folder: Path,
        record: PassRecord,
        *,
        rows_done: int,
        utc_now: Callable[[], str],
        checkpoint_interval_s: float = 2.0,
        sync_interval_s: float = 1.0,
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
        self._sync_interval_s = sync_interval_s
        self._shown_failures = shown_failures
        self._writer = ResultsWriter(folder / RESULTS_FILE)
        # the origin of rows_by_second: the run's first request (as the client counts requests),
        # else the first row written
        self._started = started
        self._last_checkpoint = -math.inf
        self._last_sync = -math.inf
        self._disk: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def write(self, result: RowResult, *, now: float) -> None:
        self._raise_background_error()
        self._writer.write(result)
        self.rows_done += 1
        if self._started is None:
            self._started = now
        self.rows_by_second[max(0, int(now - self._started))] += 1
        if result.status is not Status.OK and len(self.failed) < self._shown_failures:
            self.failed.append(ResultLine.of(result))
        if now - self._last_sync >= self._sync_interval_s and self._pending is None:
            self._in_background(now)

    def checkpoint(self, *, complete: bool, now: float) -> None:
        """Sync the lines and write the checkpoint now, once a background write has ended."""
        self._settle()
        self._writer.sync()
        self._last_sync = self._last_checkpoint = now
        document = self.record.document(
            rows_done=self.rows_done, complete=complete, now=self._utc_now()
        )
        write_checkpoint(self.folder, document)

    def close(self, *, complete: bool, now: float) -> None:
        try:
            self.checkpoint(complete=complete, now=now)
            self._writer.close()
        finally:
            if self._disk is not None:
                self._disk.shutdown()

    def _in_background(self, now: float) -> None:
        """Queue the lines' fsync, and the checkpoint as it stands when one is due."""
        document = None
        if now - self._last_checkpoint >= self._interval_s:
            self._last_checkpoint = now
            document = self.record.document(
                rows_done=self.rows_done, complete=False, now=self._utc_now()
            )
        self._last_sync = now
        if self._disk is None:
            self._disk = ThreadPoolExecutor(1, thread_name_prefix="pass-recorder")
        self._pending = self._disk.submit(self._durable, document)

    def _durable(self, document: Checkpoint | None) -> None:
        self._writer.sync()
        if document is not None:
            write_checkpoint(self.folder, document)

    def _raise_background_error(self) -> None:
        """Forget a finished background write; raise its error, if it had one."""
        pending = self._pending
        if pending is not None and pending.done():
            self._pending = None
            pending.result()

    def _settle(self) -> None:
        """Wait for the background write, if one is under way; raise its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
