"""Close's answer shapes over aiohttp: JSON bodies, `{"error": ...}`, and reading a JSON body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from scf_batch.sim.scf import ApiError, invalid

JSON = "application/json"


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer; None as payload means no body (204)."""
    if payload is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type=JSON, headers=headers
    )


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Close's non-validation error shape: `{"error": "..."}`."""
    return json_response(status, {"error": message}, headers)


async def read_body(request: web.BaseRequest) -> dict[str, Any]:
    """The JSON object sent; empty means `{}`; 415 for another content type, 400 if malformed."""
    raw = await request.read()
    if not raw.strip():
        return {}
    media_type = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media_type != JSON:
        raise ApiError(415, {"error": f"Content-Type must be {JSON}"})
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, {"error": f"Invalid JSON: {exc}"}) from exc
    if not isinstance(data, dict):
        raise invalid({}, ["the request body must be a JSON object"])
    return data
