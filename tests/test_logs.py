"""Logging: JSON off a TTY, and the API key redacted from every event."""

from __future__ import annotations

import io
import json

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
