"""redact: every form a secret may be echoed in is replaced by *** in nested values."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scf_batch.redact import MAX_DEPTH, REDACTED, Scrubber, scrub, secret_forms

KEY = 'api_Se/cr+et=Key"0123'


def forms_of(key: str) -> list[str]:
    """The forms a hostile server or a log could carry the key in."""
    b64 = base64.b64encode(f"{key}:".encode()).decode()
    return [
        key,
        b64,
        b64.rstrip("="),
        base64.b64encode(key.encode()).decode(),
        base64.urlsafe_b64encode(f"{key}:".encode()).decode(),
        quote(key, safe=""),
        json.dumps(key)[1:-1],
    ]


@pytest.mark.parametrize("index", range(7))
def test_each_encoded_form_is_replaced_in_a_string(index: int) -> None:
    """The key, base64(key:), base64(key), URL-safe base64, URL- and JSON-encoded: all ***."""
    form = forms_of(KEY)[index]
    scrubbed = scrub(f"echo: <{form}> end", [KEY])
    assert (scrubbed[:10], scrubbed[-5:]) == ("echo: <***", "> end")
    assert [f for f in forms_of(KEY) if f in scrubbed] == []


def test_an_echoed_authorization_header_inside_json_text_is_replaced() -> None:
    """A JSON text echoing `Basic base64(key:)` with `/` escaped as `\\/` loses the token."""
    b64 = base64.b64encode(f"{KEY}:".encode()).decode()
    text = json.dumps({"auth": f"Basic {b64}"}).replace("/", "\\/")
    assert "Basic ***" in scrub(text, [KEY])


def test_nested_dict_keys_values_lists_and_tuples_are_scrubbed() -> None:
    """Secrets inside dict keys, values, lists and tuples are replaced; other values stay."""
    value = {KEY: [1, None, ("x" + KEY,)], "n": {"deep": [KEY]}, "ok": True}
    assert scrub(value, [KEY]) == {
        REDACTED: [1, None, ("x" + REDACTED,)],
        "n": {"deep": [REDACTED]},
        "ok": True,
    }


def test_without_secrets_values_come_back_unchanged() -> None:
    """An empty secret list (or only empty secrets) changes nothing."""
    value = {"a": ["b"]}
    assert (scrub(value, []), scrub("text", [""]), secret_forms("")) == (value, "text", ())


def test_a_hostile_nesting_is_cut_not_recursed_without_bound() -> None:
    """A value nested far deeper than MAX_DEPTH is scrubbed without RecursionError."""
    value: list[object] = [KEY]
    for _ in range(50_000):
        value = [value]
    out = scrub(value, [KEY])
    for _ in range(MAX_DEPTH):
        out = out[0]
    assert out == REDACTED


def test_the_scrubber_repr_shows_no_form() -> None:
    """repr(Scrubber) reveals nothing of the secret."""
    assert [f for f in forms_of(KEY) if f in repr(Scrubber([KEY]))] == []


def test_a_secret_with_undecodable_bytes_is_scrubbed() -> None:
    """A value os.environ decoded with surrogates (invalid UTF-8 bytes) is handled, not a crash."""
    secret = "api_\udcff\ud800_key"
    assert scrub(f"<{secret}>", [secret]) == "<***>"


def test_several_secrets_are_all_replaced() -> None:
    """Both a key and a token are scrubbed by one Scrubber."""
    assert Scrubber(["key_one_123", "tok_two_456"]).text("key_one_123 tok_two_456") == "*** ***"


NO_STAR = st.characters(exclude_characters="*")


@given(st.text(NO_STAR, min_size=6, max_size=40), st.text(max_size=30), st.text(max_size=30))
def test_no_form_survives_anywhere_in_a_text(secret: str, before: str, after: str) -> None:
    """For any secret (without the `*` of the mark) and surroundings, it and its token are gone."""
    token = base64.b64encode(f"{secret}:".encode("utf-8", "surrogatepass")).decode()
    text = before + secret + after + token + before
    scrubbed = Scrubber([secret]).text(text)
    assert [form for form in (secret, token.rstrip("=")) if form in scrubbed] == []


HOSTILE_KEYS = ("api_a/b+c%d&e=f#g?h:i", "api_ключ/é+ü", "api_/:/:/", "api_x y~z*(1)")


def _encodings(key: str) -> dict[str, str]:
    """Every encoding of `key` a URL or a JSON text may carry, by name."""
    raw = key.encode()
    return {
        "plain": key,
        "quote default safe /": urllib.parse.quote(key),
        "quote safe ''": urllib.parse.quote(key, safe=""),
        "quote safe /:": urllib.parse.quote(key, safe="/:"),
        "quote lower-case hex": re.sub("%[0-9A-F]{2}", _lower, urllib.parse.quote(key)),
        "quote_plus": urllib.parse.quote_plus(key),
        "quote_plus safe /": urllib.parse.quote_plus(key, safe="/"),
        "urlencode": urllib.parse.urlencode({"k": key}).removeprefix("k="),
        "json ascii": json.dumps(key)[1:-1],
        "json unicode": json.dumps(key, ensure_ascii=False)[1:-1],
        "json slashes": json.dumps(key)[1:-1].replace("/", "\\/"),
        "json of quote": json.dumps(urllib.parse.quote(key))[1:-1],
        "base64 key:": base64.b64encode(raw + b":").decode(),
        "base64 key: unpadded": base64.b64encode(raw + b":").decode().rstrip("="),
        "urlsafe base64 key:": base64.urlsafe_b64encode(raw + b":").decode(),
        "base64 key": base64.b64encode(raw).decode(),
    }


def _lower(match: re.Match[str]) -> str:
    return match.group(0).lower()


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_every_url_and_json_encoding_of_a_hostile_key_is_scrubbed(key: str) -> None:
    """Keys holding / + % & = # ? : and non-ASCII are scrubbed in each URL and JSON encoding."""
    scrubber = Scrubber([key])
    for name, form in _encodings(key).items():
        text = scrubber.text(f"echo <{form}> done")
        assert text == "echo <***> done", name
