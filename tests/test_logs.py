"""Logging: JSON off a TTY, and the API key redacted from every event."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import quote

import pytest
import structlog

from scf_batch import logs


def test_secrets_are_redacted_from_every_value() -> None:
    """A secret inside strings, nested dicts and lists is replaced by ***."""
    stream = io.StringIO()
    logs.configure(log_format="json", secrets=["sekret-key"], stream=stream)
    structlog.get_logger().info(
        "event with sekret-key", url="http://sekret-key@x", nested={"a": ["sekret-key"]}
    )
    line = stream.getvalue()
    assert "sekret-key" not in line
    assert json.loads(line)["nested"] == {"a": ["***"]}


def test_auto_format_is_json_when_not_a_tty() -> None:
    """`auto` renders JSON lines on a stream that is not a terminal."""
    assert logs.use_json("auto", io.StringIO()) is True
    assert logs.use_json("console", io.StringIO()) is False


KEY = "api_L0gKEY/secret+0123"
FORMS = [
    KEY,
    base64.b64encode(f"{KEY}:".encode()).decode(),
    base64.b64encode(KEY.encode()).decode(),
    quote(KEY, safe=""),
]


def test_encoded_forms_of_the_key_are_redacted() -> None:
    """The Basic token, base64 of the key and its URL-encoded form are replaced too."""
    stream = io.StringIO()
    logs.configure(log_format="json", secrets=[KEY], stream=stream)
    structlog.get_logger().info("sent", auth=f"Basic {FORMS[1]}", b64=FORMS[2], url=FORMS[3])
    line = stream.getvalue()
    assert [form for form in FORMS if form in line] == []
    assert json.loads(line)["auth"] == "Basic ***"


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_logged_traceback_and_an_exception_value_are_redacted(log_format: str) -> None:
    """log.exception of an error whose message holds the key, and an exception passed as a
    value, show no form of the key in JSON or console output."""
    stream = io.StringIO()
    logs.configure(log_format=log_format, secrets=[KEY], stream=stream)
    error = ValueError(f"server said {FORMS[1]} for {KEY}")
    try:
        raise error
    except ValueError:
        structlog.get_logger().exception("failed", error=error)
    output = stream.getvalue()
    assert "ValueError: server said *** for ***" in output
    assert [form for form in FORMS if form in output] == []


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_names_with_terminal_escapes_reach_the_log_escaped(log_format: str) -> None:
    """A value holding ESC]0;…BEL, CR, backspace or U+202E is written as escapes, in console
    lines and JSON lines alike: a name from a server cannot retitle the window or hide text."""
    stream = io.StringIO()
    logs.configure(log_format=log_format, stream=stream)
    hostile = "Acme\x1b]0;owned\x07\r\x08\u202egnp.exe"
    structlog.get_logger().info("start", org_name=hostile)
    line = stream.getvalue()
    hidden = ["\x1b", "\x07", "\r", "\x08", "\u202e"]
    assert [char for char in hidden if char in line] == []
    assert "Acme" in line


class Writes(io.StringIO):
    """A stream that keeps each write call apart."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_each_log_line_is_one_write_so_processes_sharing_stderr_never_mix_lines(
    log_format: str,
) -> None:
    """A fleet's workers log to one stderr: each event reaches the stream as one write of the
    whole line, newline included (two writes, as `print` makes, let another process's line in
    between)."""
    stream = Writes()
    logs.configure(log_format=log_format, stream=stream)
    structlog.get_logger().info("org_done", fleet_org="acme", exit_code=0)
    structlog.get_logger().info("org_done", fleet_org="globex", exit_code=0)
    assert len(stream.calls) == 2
    assert all(call.endswith("\n") and call.count("\n") == 1 for call in stream.calls)
    assert "acme" in stream.calls[0]
