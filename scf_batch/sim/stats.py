"""What the simulator served, for `/_sim/stats`: counts by endpoint group and status."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


class Stats:
    """Plain counters; updated once per request (O(1))."""

    def __init__(self) -> None:
        self.total = 0
        self.rate_limited = 0
        self.by_group: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.faults = {"before_apply": 0, "after_apply": 0, "dropped": 0}
        self.writes_applied: defaultdict[str, int] = defaultdict(int)

    def served(self, group: str, status: str) -> None:
        """Count one answered (or dropped) request under its group and status."""
        self.total += 1
        self.by_group[group][status] += 1

    def to_json(self) -> dict[str, Any]:
        """The `/_sim/stats` body."""
        return {
            "total": self.total,
            "by_group": {g: dict(s) for g, s in self.by_group.items()},
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
            "writes_applied": dict(self.writes_applied),
        }
