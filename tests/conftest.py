"""Shared fixtures: anyio runs every async test on asyncio (aiohttp needs it).

Hypothesis explores new examples on every local run (that is how it finds bugs), but in CI
(`CI` set) it is derandomized and has no deadline: a run on a clean clone is repeatable and a
noisy 2-core machine cannot fail a test by slowness alone.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
