"""The two flags by which a command that reads an org (`export`, `show`, `undo`) is told which
environment variable holds its key or token; the value is never taken on the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from scf_batch.close.credentials import DEFAULT_API_KEY_ENV, DEFAULT_TOKEN_ENV

F = TypeVar("F", bound=Callable[..., object])


def credential_flags(command: F) -> F:
    """`--api-key-env VAR` and `--token-env VAR`, with the defaults the credentials use."""
    command = click.option(
        "--token-env",
        default=None,
        help="the environment variable holding an OAuth access token, instead of an API key "
        f"[default: {DEFAULT_TOKEN_ENV}]",
    )(command)
    return click.option(
        "--api-key-env",
        default=None,
        help=f"the environment variable holding the org's API key [default: {DEFAULT_API_KEY_ENV}]",
    )(command)
