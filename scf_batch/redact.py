"""Scrub secrets, and the forms a server or a log may carry them in, from anything written.

A secret leaks in more shapes than its own text: a server that echoes the `Authorization` header
shows `base64(key + ":")`, one that decodes it shows the key, a URL shows it percent-encoded (by
any common encoder's safe set, hex in either case) and a JSON text shows it escaped. `Scrubber`
replaces each of these forms with `***`, in strings and in the keys and values of nested dicts,
lists and tuples. Base64 forms are matched with and
without their `=` padding, so an unpadded echo is caught too. A subtree nested deeper than
`MAX_DEPTH` (only a hostile server sends one; Close objects are a few levels deep) is replaced
whole, so scrubbing never recurses without bound. Pure: no I/O, no logging library.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"
MAX_DEPTH = 100
# What common URL encoders leave unescaped: none, urllib's default "/", JavaScript's
# encodeURIComponent and encodeURI, and a whole URL's reserved characters (RFC 3986).
URL_SAFE_SETS = ("", "/", "/:", "!'()*~", ";,/?:@&=+$!'()*~#", ":/?#[]@!$&'()*+,;=~")
_PERCENT_ESCAPE = re.compile("%[0-9A-F]{2}")


def secret_forms(secret: str) -> tuple[str, ...]:
    """The texts `secret` may appear as, longest first; empty for an empty secret."""
    if not secret:
        return ()
    # surrogatepass: an environment value with undecodable bytes must not crash the scrubber.
    raw = secret.encode("utf-8", "surrogatepass")
    percent = [quote(raw, safe=safe) for safe in URL_SAFE_SETS]
    percent += [quote_plus(raw, safe=safe) for safe in URL_SAFE_SETS]
    percent += [_lower_hex(form) for form in percent]
    encoded = [secret, *(_b64(raw + b":")), *(_b64(raw)), *percent]
    escaped = [json.dumps(form)[1:-1] for form in encoded]
    escaped += [json.dumps(form, ensure_ascii=False)[1:-1] for form in encoded]
    slashed = [form.replace("/", "\\/") for form in encoded + escaped]
    forms = {form for form in encoded + escaped + slashed if form}
    return tuple(sorted(forms, key=lambda form: (-len(form), form)))


def _lower_hex(form: str) -> str:
    """A percent-encoded form with lower-case hex digits, as some servers write it."""
    return _PERCENT_ESCAPE.sub(lambda match: match.group(0).lower(), form)


def _b64(data: bytes) -> tuple[str, ...]:
    """Standard and URL-safe base64 of `data`, with and without padding."""
    padded = (
        base64.b64encode(data).decode("ascii"),
        base64.urlsafe_b64encode(data).decode("ascii"),
    )
    return padded + tuple(form.rstrip("=") for form in padded)


class Scrubber:
    """Replace every form of every secret with `***` in a value; a no-op without secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = sorted(
            {form for secret in secrets for form in secret_forms(secret)},
            key=lambda form: (-len(form), form),
        )
        self._pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def __repr__(self) -> str:
        # The forms are secrets themselves: never shown.
        return f"Scrubber(active={self._pattern is not None})"

    def text(self, value: str) -> str:
        """`value` with every secret form replaced."""
        if self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def __call__(self, value: Any) -> Any:
        """`value` scrubbed: strings, and dict keys and values, lists and tuples, recursively.

        Other values (numbers, None, objects) come back as they are.
        """
        if self._pattern is None:
            return value
        return self._scrub(value, MAX_DEPTH)

    def _scrub(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if not isinstance(value, dict | list | tuple):
            return value
        if depth == 0:
            return REDACTED
        if isinstance(value, dict):
            return {self._scrub(k, 0): self._scrub(v, depth - 1) for k, v in value.items()}
        items = (self._scrub(v, depth - 1) for v in value)
        return list(items) if isinstance(value, list) else tuple(items)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every form of every secret replaced by `***` (see `Scrubber`)."""
    return Scrubber(secrets)(value)
