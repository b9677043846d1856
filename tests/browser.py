"""Drive Debian's headless Chromium on a local page: dump its DOM after scripts ran, screenshot it.

Each call gets a fresh profile folder, so runs do not share state and can run side by side.
`--virtual-time-budget` lets the page's timers and promises run to completion before the DOM is
dumped, without waiting that long in real time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

TIMEOUT_S = 120


def chromium() -> str:
    """The chromium binary; skips the test when missing, fails it on CI (`make chromium`)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "headless Chromium is missing: `make chromium` installs Debian's package"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(page: Path, *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="scf-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *extra,
            page.resolve().as_uri(),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    if done.returncode != 0:
        raise AssertionError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(page: Path, *, budget_ms: int = 30_000) -> str:
    """The page's DOM as serialized once its scripts have had budget_ms of virtual time."""
    return _run(page, f"--virtual-time-budget={budget_ms}", "--dump-dom")


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2000) -> None:
    """A PNG of the page at the given window size."""
    _run(
        page,
        "--virtual-time-budget=30000",
        f"--window-size={width},{height}",
        f"--screenshot={png.resolve()}",
    )


@dataclass(frozen=True)
class RenderStatus:
    """What the page's #render-status element says: rendered flag, charts drawn, errors met."""

    rendered: bool
    charts: int
    errors: list[str]


class _StatusFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") == "render-status":
            self.attrs = found


def render_status(dom: str) -> RenderStatus:
    """Read #render-status out of a dumped DOM; fails when the element is missing."""
    finder = _StatusFinder()
    finder.feed(dom)
    assert finder.attrs is not None, "the page has no #render-status element"
    return RenderStatus(
        rendered=finder.attrs.get("data-rendered") == "true",
        charts=int(finder.attrs.get("data-charts") or 0),
        errors=json.loads(finder.attrs.get("data-errors") or "[]"),
    )
