"""What a pass changed in the org, in the words monitors use: rows written and drift repaired."""

from __future__ import annotations

from scf_batch.runfolder.results import Tally

WRITES = frozenset({"created", "updated", "deleted"})


def rows_written(tally: Tally) -> int:
    """Rows that changed the org: ok, and created, updated or deleted a pair."""
    return sum(count for key, count in tally.by_outcome.items() if _wrote(key))


def drift_repaired(tally: Tally, pass_number: int) -> int:
    """Pairs a later pass wrote back: a pass after the first writes only where the org drifted."""
    return rows_written(tally) if pass_number > 1 else 0


def _wrote(status_outcome: str) -> bool:
    """Whether a tally's `status/outcome` key counts rows that changed the org."""
    status, _, outcome = status_outcome.partition("/")
    return status == "ok" and outcome in WRITES
