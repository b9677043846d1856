"""Credentials: read from the environment only, never shown, and sent only where they belong."""

from __future__ import annotations

import base64
import pickle

import pytest

from scf_batch.close.credentials import (
    CredentialKind,
    Credentials,
    is_close_or_loopback,
    is_loopback,
    read_credentials,
    safe_url,
)
from scf_batch.errors import UsageError

KEY = "api_3xAmpleKEY0123456789"
TOKEN = "oa2_TOKENexample987654321"
CLOSE = "https://api.close.com/api/v1/"
LOOPBACK = "http://127.0.0.1:8787/api/v1/"
FOREIGN = "https://evil.example/api/v1/"


def read(environ: dict[str, str], base_url: str = CLOSE, **names: str | None) -> Credentials:
    names.setdefault("api_key_env", None)
    names.setdefault("token_env", None)
    return read_credentials(environ, base_url=base_url, **names)


def test_an_api_key_is_sent_as_basic_with_an_empty_password() -> None:
    """An API key from CLOSE_API_KEY gives `Authorization: Basic base64(key + ":")`."""
    credentials = read({"CLOSE_API_KEY": KEY})
    scheme, token = credentials.authorization().split(" ")
    assert (credentials.kind, scheme, base64.b64decode(token).decode()) == (
        CredentialKind.API_KEY,
        "Basic",
        f"{KEY}:",
    )


def test_an_oauth_token_is_sent_as_bearer() -> None:
    """A token from CLOSE_OAUTH_TOKEN gives `Authorization: Bearer token`."""
    credentials = read({"CLOSE_OAUTH_TOKEN": TOKEN})
    assert (credentials.kind, credentials.authorization()) == (
        CredentialKind.OAUTH_TOKEN,
        f"Bearer {TOKEN}",
    )


def test_repr_and_str_name_the_kind_and_variable_never_the_secret() -> None:
    """repr/str of Credentials (also inside containers) show no secret nor its Basic token."""
    credentials = read({"CLOSE_API_KEY": KEY})
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    texts = [repr(credentials), str(credentials), repr([credentials]), f"{credentials}"]
    assert [t for t in texts if KEY in t or token in t] == []
    assert repr(credentials) == "Credentials(api_key from CLOSE_API_KEY)"


def test_credentials_are_frozen_values() -> None:
    """Credentials cannot be changed after creation and survive a pickle round trip."""
    credentials = Credentials.api_key(KEY, "CLOSE_API_KEY")
    with pytest.raises(AttributeError):
        credentials.secret = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(credentials)).secret == KEY


def test_nothing_set_names_the_variable_and_how_to_set_it() -> None:
    """With neither variable set, the error names CLOSE_API_KEY (and the token variable)."""
    with pytest.raises(UsageError) as caught:
        read({"CLOSE_API_KEY": "  "})
    message = str(caught.value)
    assert message.startswith("CLOSE_API_KEY: not set; export your Close API key in CLOSE_API_KEY")
    assert "CLOSE_OAUTH_TOKEN" in message


def test_a_named_token_variable_that_is_unset_is_named() -> None:
    """A spec naming only a token variable is told that variable is not set."""
    with pytest.raises(UsageError, match=r"^CLOSE_TOKEN_ACME: not set; export your Close OAuth"):
        read({}, token_env="CLOSE_TOKEN_ACME")


def test_both_defaults_set_is_refused_without_showing_either() -> None:
    """CLOSE_API_KEY and CLOSE_OAUTH_TOKEN both set: ambiguous, refused; no value echoed."""
    with pytest.raises(UsageError) as caught:
        read({"CLOSE_API_KEY": KEY, "CLOSE_OAUTH_TOKEN": TOKEN})
    message = str(caught.value)
    assert "CLOSE_API_KEY and CLOSE_OAUTH_TOKEN are both set" in message
    assert [s for s in (KEY, TOKEN) if s in message] == []


def test_a_variable_named_by_the_spec_wins_over_the_other_kinds_default() -> None:
    """A spec's api_key_env beats a set CLOSE_OAUTH_TOKEN, and a spec's token_env beats the key."""
    environ = {"CLOSE_KEY_ACME": KEY, "CLOSE_OAUTH_TOKEN": "x" + TOKEN, "CLOSE_API_KEY": "y" + KEY}
    by_key = read(environ, api_key_env="CLOSE_KEY_ACME")
    environ["CLOSE_TOKEN_ACME"] = TOKEN
    by_token = read(environ, token_env="CLOSE_TOKEN_ACME")
    assert [(c.kind, c.secret, c.source) for c in (by_key, by_token)] == [
        (CredentialKind.API_KEY, KEY, "CLOSE_KEY_ACME"),
        (CredentialKind.OAUTH_TOKEN, TOKEN, "CLOSE_TOKEN_ACME"),
    ]


def test_both_named_and_both_set_is_refused() -> None:
    """A spec naming both variables, both set, is refused as ambiguous."""
    environ = {"CLOSE_KEY_ACME": KEY, "CLOSE_TOKEN_ACME": TOKEN}
    with pytest.raises(UsageError, match="both set"):
        read(environ, api_key_env="CLOSE_KEY_ACME", token_env="CLOSE_TOKEN_ACME")


def test_one_variable_for_both_kinds_is_refused() -> None:
    """The same variable named for the key and the token is a usage error."""
    with pytest.raises(UsageError, match="named for both"):
        read({"CLOSE_X": KEY}, api_key_env="CLOSE_X", token_env="CLOSE_X")


@pytest.mark.parametrize("value", ["api_key\nX-Evil: 1", "api key", "api_kéy"])
def test_a_value_that_cannot_be_a_key_is_refused_without_echo(value: str) -> None:
    """Control characters, inner spaces or non-ASCII in the value: UsageError, value not shown."""
    with pytest.raises(UsageError) as caught:
        read({"CLOSE_API_KEY": value})
    assert "CLOSE_API_KEY: holds" in str(caught.value)
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    [
        FOREIGN,
        "http://10.0.0.5:8787/api/v1/",
        "http://api.close.com/api/v1/",
        "https://close.com.evil/",
    ],
)
def test_a_variable_not_named_for_close_goes_nowhere_but_close_or_loopback(base_url: str) -> None:
    """`api_key_env = "MY_DB_PASSWORD"` with a foreign or plain-http base URL is refused."""
    with pytest.raises(UsageError) as caught:
        read({"MY_DB_PASSWORD": "hunter2hunter2"}, base_url, api_key_env="MY_DB_PASSWORD")
    message = str(caught.value)
    assert message.startswith("MY_DB_PASSWORD: its name does not mark it as a Close credential")
    assert "hunter2" not in message


@pytest.mark.parametrize("base_url", [CLOSE, "https://eu.close.com/api/v1/", LOOPBACK])
def test_any_variable_may_go_to_close_or_this_machine(base_url: str) -> None:
    """A variable of any name is read when the base URL is Close over https or loopback."""
    credentials = read({"SCF_DEMO_API_KEY": KEY}, base_url, api_key_env="SCF_DEMO_API_KEY")
    assert credentials.secret == KEY


@pytest.mark.parametrize("name", ["CLOSE_API_KEY", "ACME_CLOSE_KEY", "closeio_key", "KEY_CLOSE"])
def test_a_close_named_variable_may_go_to_any_base_url(name: str) -> None:
    """A variable with CLOSE as a word in its name is read for a non-Close base URL."""
    assert read({name: KEY}, FOREIGN, api_key_env=name).secret == KEY


def test_close_must_be_a_whole_word_in_the_name() -> None:
    """DISCLOSED_SECRET contains "CLOSE" but not as a word: refused for a foreign base URL."""
    with pytest.raises(UsageError, match="does not mark it"):
        read({"DISCLOSED_SECRET": KEY}, FOREIGN, api_key_env="DISCLOSED_SECRET")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("10.0.0.1", False),
        ("128.0.0.1", False),
        ("localhost.evil.example", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """Loopback is 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost, nothing else."""
    assert expected == is_loopback(host)


def test_is_close_or_loopback_needs_https_for_close() -> None:
    """close.com over http is not trusted; over https it is; an unparsable URL is not."""
    assert [
        is_close_or_loopback(u)
        for u in (CLOSE, "http://api.close.com/", "https://close.com/", "http://[::1/")
    ] == [True, False, True, False]


def test_safe_url_drops_user_and_password() -> None:
    """A URL with user info loses it in messages."""
    assert safe_url("https://u:p@host:8/api/") == "https://host:8/api/"
