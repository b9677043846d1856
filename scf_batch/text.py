"""How values from users' files and Close's answers are shown in messages: quoted and short."""

from __future__ import annotations

import json

MAX_SHOWN_CHARS = 60


def show(value: object) -> str:
    """A found value as the user can read it: quoted, escaped, cut to 60 characters."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 3] + "…"
    # A lone surrogate (undecodable input) cannot be printed; show its escape instead.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
