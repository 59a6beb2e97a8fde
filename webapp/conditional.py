"""Conditional JSON answers: an ETag from the content, 304 when the client already holds it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request


def json_with_etag(data: Any, stable: Callable[[Any], Any] = lambda d: d) -> Response:
    """``data`` as JSON with an ETag of ``stable(data)`` (leave out what changes on every request, a clock);
    304 with no body if the request's ``If-None-Match`` names it (weakly: compression weakens ETags)."""
    digest = json.dumps(stable(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    etag = hashlib.sha256(digest.encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = jsonify(data)
    response.set_etag(etag)
    # The phone revalidates every time; a shared cache never keeps it.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def without_server_time(data: dict[str, Any]) -> dict[str, Any]:
    """A bundle without its receipt's ``server_time`` (a clock, not content)."""
    receipt = data.get("receipt")
    if isinstance(receipt, dict) and "server_time" in receipt:
        return {**data, "receipt": {k: v for k, v in receipt.items() if k != "server_time"}}
    return data
