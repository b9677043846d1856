"""The exit codes: a stop becomes 0 only when asked, and nothing else ever does."""

from __future__ import annotations

import pytest

from scf_batch.exitcodes import ExitCode, exit_status


@pytest.mark.parametrize("code", list(ExitCode))
def test_only_a_stop_or_a_held_lock_exits_0_when_asked(code: ExitCode) -> None:
    """exit_status(zero_on_stop=True) is 0 for 4 and 75 and the code itself for every other."""
    expected = 0 if code in (ExitCode.STOPPED_EARLY, ExitCode.LOCKED) else int(code)
    assert expected == exit_status(code, zero_on_stop=True)


@pytest.mark.parametrize("code", list(ExitCode))
def test_without_the_option_the_status_is_the_code(code: ExitCode) -> None:
    """exit_status(zero_on_stop=False) is the code, whatever it is."""
    assert int(code) == exit_status(code, zero_on_stop=False)
