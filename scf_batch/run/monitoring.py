"""What a scheduler and a monitor see of one `run`: the process's exit status.

A run's real exit code stays in summary.json and the summary event; a scheduler that fails a
job on any code but 0 may ask for 0 in place of a deliberate stop (`--exit-zero-on-stop`).
"""

from __future__ import annotations

from scf_batch.exitcodes import exit_status
from scf_batch.options import RunSettings


class Watch:
    """One `run` seen from outside; it learns the settings once they are known."""

    def __init__(self) -> None:
        self.settings: RunSettings | None = None

    def begin(self, settings: RunSettings) -> None:
        """The run's settings are known: what follows is the run's to report."""
        self.settings = settings

    def exit_status(self, code: int) -> int:
        """The process's exit status for the command's exit code (the settings may say 0 for
        a stop; before they are known, the code as it is)."""
        zero_on_stop = self.settings is not None and self.settings.exit_zero_on_stop
        return exit_status(code, zero_on_stop=zero_on_stop)
