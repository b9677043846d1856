"""The grammar of protect and prune scope entries, and the spec's checks of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scf_batch.errors import UsageError
from scf_batch.job.scope import PairName, TargetName, parse_field, parse_pair, parse_target
from scf_batch.job.spec import RUN_KEYS, load_job
from scf_batch.models import ObjectType

SUBSCRIPTION = TargetName(ObjectType.CUSTOM_OBJECT_TYPE, "Subscription")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Renewal Risk", PairName("Renewal Risk")),
        ("Industry → lead", PairName("Industry", TargetName(ObjectType.LEAD))),
        ("Industry->contact", PairName("Industry", TargetName(ObjectType.CONTACT))),
        ("Plan → custom_object_type Subscription", PairName("Plan", SUBSCRIPTION)),
        ('"Plan" → custom_object_type "Subscription"', PairName("Plan", SUBSCRIPTION)),
        ('"A -> B" → opportunity', PairName("A -> B", TargetName(ObjectType.OPPORTUNITY))),
        (
            "Notes → custom_activity_type",
            PairName("Notes", TargetName(ObjectType.CUSTOM_ACTIVITY_TYPE)),
        ),
    ],
)
def test_an_entry_names_a_field_or_a_pair_as_plan_shows_it(text: str, expected: PairName) -> None:
    """A field, or field → target with either arrow; names may be quoted as `plan` quotes them."""
    assert parse_pair(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "A -> B -> lead",
        "X → leads",
        "X → lead extra",
        '"open',
        'X → custom_object_type ""',
    ],
)
def test_an_entry_the_grammar_cannot_read_is_refused(text: str) -> None:
    """No field, two arrows (which one splits?), an unknown target, a quote left open: None."""
    assert parse_pair(text) is None


def test_a_bare_custom_word_is_every_type_of_its_kind() -> None:
    """`custom_object_type` covers each custom object type; a named one covers only itself."""
    every = parse_target("custom_object_type")
    assert every == TargetName(ObjectType.CUSTOM_OBJECT_TYPE)
    assert every.covers(SUBSCRIPTION)
    assert not SUBSCRIPTION.covers(TargetName(ObjectType.CUSTOM_OBJECT_TYPE, "Asset"))
    assert parse_target("lead Subscription") is None


def test_a_field_name_loses_its_quotes() -> None:
    """prune_fields entries are names, quoted or not."""
    assert (parse_field('"Industry"'), parse_field("Lost Reason"), parse_field(" ")) == (
        "Industry",
        "Lost Reason",
        None,
    )


@given(st.text(max_size=40))
def test_a_pair_shown_as_plan_shows_it_reads_back_the_same(name: str) -> None:
    """str(entry) of any readable entry parses back to the entry (names copied from the plan)."""
    entry = parse_pair(name)
    if entry is not None and '"' not in entry.field:
        assert parse_pair(str(entry)) == entry


def test_the_spec_reports_each_bad_entry_by_its_index(tmp_path: Path) -> None:
    """`protect[1]` and `prune_object_types[0]` are reported with what was found and expected,
    all at once, beside a misspelt key's closest key."""
    spec = tmp_path / "job.toml"
    spec.write_text(
        'operations = "ops.csv"\n'
        'protect = ["Industry", "Industry → leed"]\n'
        'prune_object_types = ["Subscription"]\n'
        "prune_field = []\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as raised:
        load_job(spec)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith(f'{spec}: protect[1]: found "Industry → leed"; expected a field')
    assert lines[1].startswith(f'{spec}: prune_object_types[0]: found "Subscription"; expected')
    unknown = f'{spec}: prune_field: found an unknown key; expected a known key: did you mean "'
    assert lines[2].startswith(unknown + 'prune_fields"')
    assert len(lines) == 3


def test_the_spec_keeps_the_entries_and_prune_for_the_run(tmp_path: Path) -> None:
    """Valid entries reach the run's values as tuples; prune as a bool."""
    spec = tmp_path / "job.toml"
    spec.write_text(
        'operations = "ops.csv"\nprune = true\nprune_fields = ["Industry"]\n'
        'protect = ["Industry → lead"]\n',
        encoding="utf-8",
    )
    values = load_job(spec).values
    assert (values["prune"], values["prune_fields"], values["protect"]) == (
        True,
        ("Industry",),
        ("Industry → lead",),
    )


def test_the_run_keys_check_refuses_a_bad_entry_for_every_reader_of_it() -> None:
    """RUN_KEYS (which a fleet manifest's checks use too) refuses a list with one entry its
    grammar cannot read, so no run meets an unreadable protect entry."""
    check = RUN_KEYS["protect"][0]
    assert (check(["Industry", "A -> B -> lead"]), check(["Industry"])) == (None, ("Industry",))
