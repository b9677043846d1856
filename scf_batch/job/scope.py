"""The names a job spec's `protect`, `prune_fields` and `prune_object_types` hold. Pure.

    target   := lead | contact | opportunity
              | custom_activity_type [NAME] | custom_object_type [NAME]
    protect  := FIELD | FIELD → target          (`->` works as well as `→`)
    NAME     := text, or "text" in double quotes (as `plan` shows names)

A bare `custom_activity_type` or `custom_object_type` stands for every type of that kind. A field
name holding an arrow is written in double quotes (`"A -> B" → lead`), so a line copied from
`plan` (`"Industry" → lead`) is a valid entry as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scf_batch.models import ObjectType

TARGET_EXPECTED = (
    "lead, contact, opportunity, custom_activity_type NAME or custom_object_type NAME "
    "(a bare custom_... word: every type of that kind)"
)
PAIR_EXPECTED = 'a field name, or "field → target" with a target of ' + TARGET_EXPECTED
FIELD_EXPECTED = "a field name"
_ARROW = re.compile(r"\s*(?:→|->)\s*")


@dataclass(frozen=True, slots=True)
class TargetName:
    """A target by name: the object type, and for a custom type its name (None: every one)."""

    object_type: ObjectType
    type_name: str | None = None

    def __str__(self) -> str:
        """`lead`, or `custom_object_type "Subscription"`, as `plan` shows a target."""
        if self.type_name is None:
            return self.object_type.value
        return f'{self.object_type.value} "{self.type_name}"'

    def covers(self, other: TargetName) -> bool:
        """This target is `other`, or every custom type of `other`'s kind."""
        if self.object_type is not other.object_type:
            return False
        return self.type_name is None or self.type_name == other.type_name


@dataclass(frozen=True, slots=True)
class PairName:
    """A field by name, with one target (or None: every target of the field)."""

    field: str
    target: TargetName | None = None

    def __str__(self) -> str:
        return f'"{self.field}"' if self.target is None else f'"{self.field}" → {self.target}'


def parse_target(text: str) -> TargetName | None:
    """The target `text` names, or None when it is not one (TARGET_EXPECTED says what is)."""
    word, _, rest = text.strip().partition(" ")
    try:
        object_type = ObjectType(word)
    except ValueError:
        return None
    rest = rest.strip()
    if not object_type.needs_type_ref:
        return None if rest else TargetName(object_type)
    if not rest:
        return TargetName(object_type)
    name = _unquoted(rest)
    return TargetName(object_type, name) if name else None


def parse_pair(text: str) -> PairName | None:
    """The field or field → target `text` names, or None (PAIR_EXPECTED says what is valid)."""
    field, arrow, rest = _split(text.strip())
    if not field.strip():
        return None
    if not arrow:
        return None if rest else PairName(field.strip())
    target = parse_target(rest)
    return None if target is None else PairName(field.strip(), target)


def parse_field(text: str) -> str | None:
    """A field name: any non-blank text, quotes taken off."""
    name = _unquoted(text.strip())
    return name.strip() or None if name else None


def _split(text: str) -> tuple[str, str, str]:
    """(field, arrow, the rest): the field quoted, or the text before the one arrow."""
    if text.startswith('"'):
        end = text.find('"', 1)
        if end < 0:
            return "", "", ""
        rest = text[end + 1 :]
        arrow = _ARROW.match(rest)
        if arrow is None:
            return text[1:end], "", rest.strip()
        return text[1:end], "→", rest[arrow.end() :]
    parts = _ARROW.split(text)
    if len(parts) == 1:
        return text, "", ""
    if len(parts) == 2:
        return parts[0], "→", parts[1]
    return "", "", ""  # two arrows: which one splits is not clear (quote the field's name)


def _unquoted(text: str) -> str | None:
    """Text without its surrounding double quotes; None for a quote left open."""
    if not text.startswith('"'):
        return text
    if len(text) < 2 or not text.endswith('"') or '"' in text[1:-1]:
        return None
    return text[1:-1]
