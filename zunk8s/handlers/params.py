"""Reading request parameters the way Zun (pecan) does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from zunk8s.errors import SchemaValidationError, UnsupportedMediaType


def query_dict(request: web.Request) -> dict[str, str]:
    # For repeated keys the last value wins, as in pecan's kwargs.
    return {k: v for k, v in request.query.items()}


async def json_body(request: web.Request, *, required: bool) -> Any:
    raw = await request.read()
    if not raw:
        if required:
            raise SchemaValidationError("The request body is empty; a JSON object is required.")
        return None
    ctype = request.content_type
    if required and ctype != "application/json":
        raise UnsupportedMediaType(f"Unexpected content type: {ctype}. Expected content types are: application/json")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise SchemaValidationError(f"The request body is not valid JSON: {e}") from None


async def action_params(request: web.Request) -> dict[str, Any]:
    """pecan merges query string and a JSON-object body into the handler's kwargs."""
    params: dict[str, Any] = dict(query_dict(request))
    if request.method != "GET" and request.can_read_body and request.content_type == "application/json":
        body = await json_body(request, required=False)
        if isinstance(body, dict):
            params.update(body)
    return params
