"""Shared fixtures: anyio runs every async test on asyncio (aiohttp and aiolimiter need it)."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
