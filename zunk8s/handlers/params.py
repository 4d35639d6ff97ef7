"""Reading request parameters and bodies the way Zun (pecan) does, within bounds.

Bodies are read up to a per-endpoint cap (413 past it, before more is read); JSON is parsed
strictly (schemas/jsonbody.py).
"""

from __future__ import annotations

from typing import Any, NoReturn

from aiohttp import web

from zunk8s.appkeys import SETTINGS, base_url
from zunk8s.errors import RequestEntityTooLarge, SchemaValidationError, UnsupportedMediaType
from zunk8s.schemas.jsonbody import loads_json

READ_CHUNK = 64 * 1024


def query_dict(request: web.Request) -> dict[str, str]:
    # For repeated keys the last value wins, as in pecan's kwargs.
    return {k: v for k, v in request.query.items()}


def next_link(request: web.Request, collection: str, *, sort_key: str, sort_dir: str, limit: int, count: int,
              last: str | None) -> str | None:
    """Zun's ``next`` of a paged list: a link to the page after ``last`` when this one is full."""
    if not count or count != limit or last is None:
        return None
    return f"{base_url(request)}/v1/{collection}?sort_key={sort_key}&sort_dir={sort_dir}&limit={limit}&marker={last}"


def archive_body_limit(max_archive_bytes: int) -> int:
    """put_archive's body: the archive base64-encoded (4 bytes per 3) inside a small JSON object."""
    return max_archive_bytes * 4 // 3 + READ_CHUNK


def _too_large(limit: int) -> NoReturn:
    raise RequestEntityTooLarge(f"The request body is larger than this endpoint's limit of {limit} bytes.")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or a 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: web.Request, *, required: bool) -> Any:
    raw = await read_body(request, request.app[SETTINGS].max_json_bytes)
    if not raw:
        if required:
            raise SchemaValidationError("The request body is empty; a JSON object is required.")
        return None
    ctype = request.content_type
    if required and ctype != "application/json":
        raise UnsupportedMediaType(f"Unexpected content type: {ctype}. Expected content types are: application/json")
    return loads_json(raw)


async def action_params(request: web.Request) -> dict[str, Any]:
    """pecan merges query string and a JSON-object body into the handler's kwargs."""
    params: dict[str, Any] = dict(query_dict(request))
    if request.method != "GET" and request.can_read_body and request.content_type == "application/json":
        body = await json_body(request, required=False)
        if body is not None and not isinstance(body, dict):
            raise SchemaValidationError(f"The request body must be a JSON object, not {type(body).__name__}.")
        params.update(body or {})
    return params
