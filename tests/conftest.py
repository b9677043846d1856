"""Shared fixtures: anyio runs every async test on asyncio (aiohttp needs it)."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
