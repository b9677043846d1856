"""Injected failures: 500/502/503/504 (some not JSON) and dropped connections, before or after a
write was applied. Drawn from the simulator's seedable random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass

DROP = 0  # pseudo status: close the connection without an answer

# status, content type, body: gateways answer in HTML or plain text, the app in JSON
BODIES: dict[int, tuple[str, bytes]] = {
    500: ("application/json", b'{"error": "Internal server error"}'),
    502: ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"),
    503: ("application/json", b'{"error": "Service temporarily unavailable"}'),
    504: ("text/html", b"<html><body><h1>504 Gateway Time-out</h1></body></html>\n"),
}
KINDS = (500, 502, 503, 504, DROP)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: which, and whether the write happens first."""

    status: int
    after_apply: bool

    @property
    def dropped(self) -> bool:
        """The connection is closed without any answer."""
        return self.status == DROP

    @property
    def stat_status(self) -> str:
        """How `/_sim/stats` names what the client got."""
        return "dropped" if self.dropped else str(self.status)


def pick_fault(rng: random.Random, fault_rate: float, *, is_write: bool) -> Fault | None:
    """None most of the time; at `fault_rate`, a fault, half of those on writes after applying."""
    if fault_rate <= 0 or rng.random() >= fault_rate:
        return None
    return Fault(rng.choice(KINDS), after_apply=is_write and rng.random() < 0.5)
