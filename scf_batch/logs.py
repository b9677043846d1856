"""The one place structlog is configured: JSON lines off a TTY, console on one, key redacted.

Redaction uses `redact.Scrubber`: the key and its encoded forms (Basic token, base64, URL- and
JSON-encoded) are replaced in every value, nested ones and formatted tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from scf_batch.redact import REDACTED, Scrubber
from scf_batch.text import escaped

__all__ = ["REDACTED", "Redactor", "configure", "forget", "renders_json", "use_json"]

# Values rendered as they are; anything else is turned into its text first, so the secret in
# an object's str/repr (an exception, a URL) is scrubbed before the renderer calls them.
_PLAIN = (str, int, float, bool, type(None), dict, list, tuple)
# what the last `configure` chose: JSON lines (then every line on stderr is one JSON object)
_rendering = {"json": False}


class Redactor:
    """A processor that replaces every secret, in any encoded form, in every value of an event.

    Exceptions are formatted to text by `format_exc_info` before this runs, so a traceback
    whose message carries the key is scrubbed too.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._scrub = Scrubber(secrets)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event_dict.items():
            event_dict[key] = self._scrub(value if isinstance(value, _PLAIN) else str(value))
        return event_dict


def escape_for_terminal(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A processor for the console renderer: names from a server or a file cannot move the
    cursor, retitle the window or reorder text (JSON lines escape them already)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and key != "exception":
            event_dict[key] = escaped(value)
    return event_dict


def use_json(log_format: str, stream: TextIO) -> bool:
    if log_format == "json":
        return True
    if log_format == "console":
        return False
    return not stream.isatty()


def configure(
    *,
    log_format: str = "auto",
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog for this process; call once per command."""
    out = stream if stream is not None else sys.stderr
    renderer: Any
    _rendering["json"] = use_json(log_format, out)
    terminal: list[Any] = []
    if _rendering["json"]:
        renderer = structlog.processors.JSONRenderer()
    else:
        terminal = [escape_for_terminal]
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            Redactor(secrets),
            *terminal,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def renders_json() -> bool:
    """Whether the logs of this process are JSON lines (so a command's last words must be one)."""
    return _rendering["json"]


def forget() -> None:
    """Back to no configuration chosen: the start of a command (tests run many per process)."""
    _rendering["json"] = False
