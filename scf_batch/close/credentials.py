"""Close credentials from the environment, and where they may be sent.

Close takes an API key (`Authorization: Basic base64(key + ":")`) or, for partner apps, an OAuth
token (`Authorization: Bearer token`). Both are read from environment variables only, never from
the command line: `CLOSE_API_KEY` and `CLOSE_OAUTH_TOKEN` unless a job spec or flag names others.

Which one when both are set: a variable named explicitly (by a spec or flag) wins over the other
kind's default variable, since that is what the user wrote for this job; two set variables of
the same standing (both defaults, or both named) are refused as ambiguous, naming both.

The spec-picks-the-secret rule. A job spec is data, often written by someone else, and it names
both the variable and (through `base_url`) where its value goes; `api_key_env = "MY_DB_PASSWORD"`
with a foreign `base_url` would mail that password to whoever runs the host. So a variable whose
name does not mark it as a Close credential (`CLOSE` or `CLOSEIO` as an `_`-separated word, in any
case: `CLOSE_API_KEY`, `ACME_CLOSE_KEY`) may be sent only to Close itself (https to `close.com` or
a subdomain) or to this machine (a loopback host: the simulator, a lab). There a wrong secret is
refused by a party the user already trusts, or never leaves the machine. A Close-named variable
holds a Close credential by the user's own naming, so it may go to any base URL that
`close_client.open_client` accepts (https, or plain http to loopback or with
`allow_insecure_http`).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from scf_batch.errors import UsageError

DEFAULT_API_KEY_ENV = "CLOSE_API_KEY"
DEFAULT_TOKEN_ENV = "CLOSE_OAUTH_TOKEN"

_CLOSE_NAME = re.compile(r"(?:^|_)CLOSE(?:IO)?(?:_|$)", re.IGNORECASE)
# Printable ASCII without spaces: what Close keys and OAuth tokens are made of. Anything else
# (a newline would split the header) is a copy-paste accident, refused before any request.
_SECRET_CHARS = re.compile(r"[\x21-\x7e]+")


class CredentialKind(StrEnum):
    """How Close is told who we are."""

    API_KEY = "api_key"
    OAUTH_TOKEN = "oauth_token"


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """A Close API key or OAuth token and the variable it came from; never shows the secret."""

    kind: CredentialKind
    secret: str = field(compare=False)
    source: str = ""

    def __repr__(self) -> str:
        source = f" from {self.source}" if self.source else ""
        return f"Credentials({self.kind.value}{source})"

    __str__ = __repr__

    @classmethod
    def api_key(cls, key: str, source: str = "") -> Credentials:
        """An API key, sent as the Basic user name with an empty password."""
        return cls(CredentialKind.API_KEY, key, source)

    @classmethod
    def oauth_token(cls, token: str, source: str = "") -> Credentials:
        """An OAuth access token, sent as a Bearer token."""
        return cls(CredentialKind.OAUTH_TOKEN, token, source)

    def authorization(self) -> str:
        """The `Authorization` header value."""
        if self.kind is CredentialKind.OAUTH_TOKEN:
            return f"Bearer {self.secret}"
        token = base64.b64encode(f"{self.secret}:".encode()).decode("ascii")
        return f"Basic {token}"


def read_credentials(
    environ: Mapping[str, str],
    *,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str,
) -> Credentials:
    """The credentials for a run, from the environment only; UsageError says what to set.

    `api_key_env` / `token_env`: the variables a spec or flag names, None for the defaults
    (`CLOSE_API_KEY`, `CLOSE_OAUTH_TOKEN`). See the module docstring for which wins and where a
    variable's value may be sent. Messages name variables, never values.
    """
    key_var = api_key_env or DEFAULT_API_KEY_ENV
    token_var = token_env or DEFAULT_TOKEN_ENV
    if key_var == token_var:
        raise UsageError(
            f"{key_var}: named for both the API key and the OAuth token; name one of them"
        )
    key, token = _value(environ, key_var), _value(environ, token_var)
    if key is None and token is None:
        raise UsageError(_not_set(key_var, token_var, api_key_env, token_env))
    if key is not None and token is not None:
        if (api_key_env is None) == (token_env is None):
            raise UsageError(
                f"{key_var} and {token_var} are both set; unset one of them "
                "(an API key or an OAuth token, not both)"
            )
        key, token = (key, None) if api_key_env is not None else (None, token)
    if key is not None:
        credentials = Credentials.api_key(key, key_var)
    else:
        assert token is not None
        credentials = Credentials.oauth_token(token, token_var)
    check_destination(credentials.source, base_url)
    return credentials


def check_destination(variable: str, base_url: str) -> None:
    """Refuse sending a variable not named for Close anywhere but Close or this machine."""
    if _CLOSE_NAME.search(variable) or is_close_or_loopback(base_url):
        return
    raise UsageError(
        f"{variable}: its name does not mark it as a Close credential, and base_url "
        f"{safe_url(base_url)!r} is not Close (https://api.close.com/api/v1/) nor this machine; "
        "refusing to send it there. Keep the key in a variable whose name has CLOSE as a word "
        "(e.g. CLOSE_API_KEY, ACME_CLOSE_KEY)"
    )


def is_close_or_loopback(base_url: str) -> bool:
    """Whether `base_url` is https to close.com (or a subdomain), or any URL to a loopback host."""
    try:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if is_loopback(host):
        return True
    return parts.scheme == "https" and (host == "close.com" or host.endswith(".close.com"))


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) or `localhost`: requests that stay on this machine."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def safe_url(url: str) -> str:
    """`url` without any user name or password, for messages."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<unparsable URL>"
    return parts._replace(netloc=netloc).geturl()


def _value(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value stripped, None when unset or blank; refused when not a secret's text."""
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not _SECRET_CHARS.fullmatch(value):
        raise UsageError(
            f"{name}: holds spaces, control or non-ASCII characters, which a Close key or token "
            "never has; export it again as Close shows it (value not shown)"
        )
    return value


def _not_set(key_var: str, token_var: str, api_key_env: str | None, token_env: str | None) -> str:
    if token_env is not None and api_key_env is None:
        wanted = f"{token_var}: not set; export your Close OAuth token in {token_var}"
    else:
        wanted = f"{key_var}: not set; export your Close API key in {key_var}"
        wanted += f" (or an OAuth token in {token_var})"
    return wanted + " (read from the environment only, never from the command line)"
