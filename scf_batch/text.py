"""How values from users' files and Close's answers are shown in messages: quoted and short."""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable

MAX_SHOWN_CHARS = 60
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def quoted(value: object) -> str:
    """The one escaping rule for text from a server or a file on its way to a terminal or a log:
    JSON-quoted, with every control, format (bidi overrides, zero-width) and line-separator
    character as a `\\uXXXX` escape, so no name can move the cursor, retitle the window, hide or
    reorder text."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(_escaped(char) for char in text)


def escaped(text: str) -> str:
    """`text` with every control, format and line-separator character as a `\\uXXXX` escape
    (no quotes added): for text a terminal shows, e.g. a console log line's values."""
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if unicodedata.category(char) in _HIDDEN_CATEGORIES:
        return f"\\u{ord(char):04x}"
    return char


def show(value: object) -> str:
    """A found value as the user can read it: quoted, escaped, cut to 60 characters."""
    text = quoted(value)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 3] + "…"
    # A lone surrogate (undecodable input) cannot be printed; show its escape instead.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def did_you_mean(found: str, candidates: Iterable[str], *, limit: int = 3) -> str:
    """`did you mean "A" or "B"?` for the candidates closest to `found` (difflib), else ""."""
    names = {str(name) for name in candidates}
    close = difflib.get_close_matches(found, sorted(names), n=limit, cutoff=0.6)
    if not close:
        folded = {name.casefold(): name for name in names}
        close = difflib.get_close_matches(found.casefold(), sorted(folded), n=limit, cutoff=0.6)
        close = [folded[name] for name in close]
    return f"did you mean {' or '.join(show(name) for name in close)}?" if close else ""
