"""What the target lacks: custom types and roles a job names, each with the lines needing it."""

from __future__ import annotations

from dataclasses import dataclass

from scf_batch.models import Action, FieldDefinition, ObjectType, Operation, Ref
from scf_batch.plan.lacking import Lacking
from scf_batch.plan.snapshot import Snapshot

SNAPSHOT = Snapshot.from_lists(
    None, [], [{"id": "role_" + "a" * 22, "name": "Support"}],
    [{"id": "actitype_1", "name": "Call"}], [],
)  # fmt: skip


@dataclass
class Row:
    op: Operation | None = None
    definition: FieldDefinition | None = None


def op(line: int, object_type: ObjectType, type_name: str | None, roles: tuple[str, ...]) -> Row:
    type_ref = Ref(name=type_name) if type_name else None
    return Row(Operation(line, line, Action.ENSURE, Ref(name="F"), object_type, type_ref,
                         None, roles))  # fmt: skip


def test_missing_types_and_roles_are_listed_once_each_with_their_lines() -> None:
    """Known names, built-in slugs and known roles are not listed; the rest are, by first use."""
    lacking = Lacking()
    lacking.see(op(2, ObjectType.CUSTOM_OBJECT_TYPE, "Asset", ("admin", "Support")), SNAPSHOT)
    lacking.see(op(3, ObjectType.CUSTOM_ACTIVITY_TYPE, "Call", ("Finance",)), SNAPSHOT)
    lacking.see(op(4, ObjectType.CUSTOM_OBJECT_TYPE, "Asset", ()), SNAPSHOT)
    parent = FieldDefinition(5, 5, "P", "custom_object", referenced_type="Asset")
    lacking.see(Row(definition=parent), SNAPSHOT)
    assert list(lacking.lines()) == [
        '  custom object type "Asset": line(s) 2, 4, 5',
        '  role "Finance": line(s) 3',
    ]


def test_nothing_missing_renders_nothing() -> None:
    """An org with everything the job names gives no block."""
    lacking = Lacking()
    lacking.see(op(2, ObjectType.CUSTOM_ACTIVITY_TYPE, "Call", ("Support",)), SNAPSHOT)
    assert (bool(lacking), lacking.render()) == (False, "")


def test_a_misspelt_role_or_type_suggests_the_org_s_closest_name() -> None:
    """`Sales Manger` and `Discovery Cal` are listed with "did you mean" the org's close names."""
    roles = [{"id": "role_" + "b" * 22, "name": "Sales Manager"}]
    snapshot = Snapshot.from_lists(
        None, [], roles, [{"id": "actitype_2", "name": "Discovery Call"}], []
    )
    lacking = Lacking()
    lacking.see(
        op(2, ObjectType.CUSTOM_ACTIVITY_TYPE, "Discovery Cal", ("Sales Manger",)), snapshot
    )
    assert list(lacking.lines()) == [
        '  custom activity type "Discovery Cal": line(s) 2 (did you mean "Discovery Call"?)',
        '  role "Sales Manger": line(s) 2 (did you mean "Sales Manager"?)',
    ]


def test_a_missing_name_with_control_characters_is_shown_escaped() -> None:
    """A name holding ESC, BEL and CR is listed escaped, so it cannot drive the terminal."""
    lacking = Lacking()
    lacking.see(op(2, ObjectType.CUSTOM_OBJECT_TYPE, "\x1b]0;pwn\x07\r", ()), SNAPSHOT)
    assert list(lacking.lines()) == ['  custom object type "\\u001b]0;pwn\\u0007\\r": line(s) 2']
