"""The one escaping rule for names on their way to a terminal or a log, and the suggestions."""

from __future__ import annotations

import pytest

from scf_batch.models import Action, ObjectType, Operation, Ref, ResolvedOperation, Target
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.view import names
from scf_batch.text import did_you_mean, quoted, show


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("\x1b]0;pwned\x07", '"\\u001b]0;pwned\\u0007"'),
        ("ok\rgone", '"ok\\rgone"'),
        ("ab\x08c", '"ab\\bc"'),
        ("\u202eevil", '"\\u202eevil"'),
        ("zero\u200bwidth", '"zero\\u200bwidth"'),
        ("line\u2028sep\x85", '"line\\u2028sep\\u0085"'),
        ("Région", '"Région"'),
    ],
)
def test_control_and_format_characters_are_escaped(name: str, shown: str) -> None:
    """ESC, BEL, CR, backspace, bidi overrides, zero-width and line separators become escapes."""
    assert quoted(name) == shown
    assert show(name) == shown


def test_did_you_mean_names_the_closest_or_nothing() -> None:
    """A typo gets its closest names; a name like none gets an empty suggestion."""
    assert did_you_mean("Industy", ["Industry", "Region"]) == 'did you mean "Industry"?'
    assert did_you_mean("xyzzy", ["Industry", "Region"]) == ""


def test_plan_shows_server_names_escaped() -> None:
    """`plan` shows a field and a custom type named with ESC/BEL/U+202E escaped, not raw."""

    snapshot = Snapshot.from_lists(
        None,
        [{"id": "cf_1", "name": "\x1b]0;owned\x07"}],
        [],
        [{"id": "actitype_1", "name": "Call\u202e"}],
        [],
    )
    op = Operation(2, 2, Action.ENSURE, Ref(name="x"), ObjectType.CUSTOM_ACTIVITY_TYPE, None)
    target = Target(ObjectType.CUSTOM_ACTIVITY_TYPE, "actitype_1")
    shown = names(ResolvedOperation(op, "cf_1", target, None), snapshot)
    assert shown == ('"\\u001b]0;owned\\u0007"', 'custom_activity_type "Call\\u202e"')
