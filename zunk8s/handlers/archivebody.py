"""The archive's wire form: put_archive's request body in, get_archive's JSON answer out.

From microversion 1.25 the tar travels base64-encoded inside ``{"data": ...}``; before, as a
raw JSON string (latin-1: one code point per byte). python-zunclient's put_archive body is read
in place and decoded while it is sent, so an archive is held in memory once, encoded.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from zunk8s.errors import Base64Exception, Invalid, SchemaValidationError
from zunk8s.microversions import APIVersion
from zunk8s.schemas.jsonbody import loads_json
from zunk8s.service.archives import Archive, Upload
from zunk8s.translate.commandline import STDIN_CHUNK, chunks_of

BASE64_SINCE = APIVersion(1, 25)

_DATA_FIELD = re.compile(rb'\A\s*\{\s*"data"\s*:\s*"')
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def uses_base64(version: APIVersion) -> bool:
    """Whether archives travel base64-encoded at ``version`` (Zun 1.25+)."""
    return version >= BASE64_SINCE


async def archive_body(archive: Archive) -> AsyncIterator[bytes]:
    """The JSON answer, written around the already-encoded pieces (base64 needs no escaping)."""
    yield b'{"data": "'
    for part in archive.parts:
        yield part
    yield b'", "stat": ' + json.dumps(archive.stat).encode() + b"}"


def read_upload(raw: bytes, version: APIVersion) -> tuple[Upload | None, dict[str, Any]]:
    """The archive in a put_archive body, and the body's other parameters.

    python-zunclient sends exactly ``{"data": "<base64>"}``; that body is read in place (its
    base64 text is validated, then decoded chunk by chunk while it is sent). Any other body is
    parsed as JSON."""
    if uses_base64(version):
        fast = _base64_field(raw)
        if fast is not None:
            return _base64_upload(fast), {}
    if not raw:
        return None, {}
    body = loads_json(raw)
    if not isinstance(body, dict):
        raise SchemaValidationError(f"{type(body).__name__} is not of type 'object'")
    if "data" not in body:
        return None, body
    data = decode_archive(body.pop("data"), version)
    return Upload(size=len(data), chunks=lambda: chunks_of(data)), body


def _base64_field(raw: bytes) -> memoryview | None:
    match = _DATA_FIELD.match(raw)
    if match is None:
        return None
    end = raw.find(b'"', match.end())
    if end < 0 or raw[end + 1 :].strip() != b"}":
        return None  # other keys follow, or not the simple shape: parse it as JSON
    return memoryview(raw)[match.end() : end]


def _base64_upload(text: memoryview) -> Upload:
    # Validate all of it first, so a bad byte is refused before tar has extracted anything.
    if len(text) % 4 or _BASE64_TEXT.fullmatch(text) is None:
        raise Base64Exception("Invalid Base 64 file data")
    padding = 2 - len(bytes(text[-2:]).rstrip(b"=")) if len(text) >= 2 else 0
    size = len(text) // 4 * 3 - padding
    step = STDIN_CHUNK // 3 * 4  # whole base64 quanta: each piece decodes on its own

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(text), step):
            yield binascii.a2b_base64(text[start : start + step], strict_mode=True)

    return Upload(size=size, chunks=chunks)


def decode_archive(data: Any, version: APIVersion) -> bytes:
    """A JSON body's ``data`` as the tar's bytes: base64 (1.25+) or a latin-1 string."""
    if not isinstance(data, str):
        raise Invalid("'data' must be a string")
    if uses_base64(version):
        try:
            return binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raise Base64Exception("Invalid Base 64 file data") from None
    # Before 1.25 the tar travels as a raw string; latin-1 maps each byte to one code point.
    try:
        return data.encode("latin-1")
    except UnicodeEncodeError:
        raise Invalid("The archive string holds characters beyond one byte each.") from None
