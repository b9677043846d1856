"""A run's timeline for the report: per-second counts of requests, 429s and finished rows."""

from __future__ import annotations

from collections.abc import Mapping

from scf_batch.runfolder.records import Second


def seconds_of(
    requests: Mapping[int, int],
    rate_limited: Mapping[int, int],
    rows: Mapping[int, int],
    *,
    offset_s: int = 0,
) -> tuple[Second, ...]:
    """One entry per second that saw a request or a finished row, in order, each placed
    `offset_s` seconds later (where the run began in its pass's time)."""
    seconds = sorted(set(requests) | set(rows) | set(rate_limited))
    return tuple(
        Second(
            float(second + offset_s),
            requests.get(second, 0),
            rate_limited.get(second, 0),
            rows.get(second, 0),
        )
        for second in seconds
    )
