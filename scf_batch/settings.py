"""The API key, from the environment only (never the command line)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from scf_batch.errors import UsageError


def read_api_key(env_var: str, environ: Mapping[str, str] = os.environ) -> str:
    """The API key, from the environment only (never the command line)."""
    key = environ.get(env_var, "").strip()
    if not key:
        raise UsageError(
            f"{env_var}: not set; export your Close API key in {env_var} "
            "(it is read from the environment only, never from the command line)"
        )
    return key
