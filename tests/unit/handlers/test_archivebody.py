import base64
import json

import pytest

from zunk8s.errors import Base64Exception, Invalid, SchemaValidationError
from zunk8s.handlers.archivebody import BASE64_SINCE, archive_body, decode_archive, read_upload, uses_base64
from zunk8s.microversions import APIVersion
from zunk8s.service.archives import Archive

NEW = APIVersion(1, 40)
OLD = APIVersion(1, 24)
STAT = {"name": "hosts", "size": 3, "mode": 420, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""}


async def _body(archive: Archive) -> bytes:
    return b"".join([piece async for piece in archive_body(archive)])


async def test_archive_body_golden() -> None:
    body = await _body(Archive(parts=[b"YWJj", b"ZGVm"], stat=STAT))
    assert body == (
        b'{"data": "YWJjZGVm", "stat": {"name": "hosts", "size": 3, "mode": 420, '
        b'"mtime": "2017-07-14T02:40:00Z", "linkTarget": ""}}'
    )
    assert json.loads(body) == {"data": "YWJjZGVm", "stat": STAT}


async def test_archive_body_without_parts() -> None:
    assert json.loads(await _body(Archive(parts=[], stat={}))) == {"data": "", "stat": {}}


def test_uses_base64() -> None:
    assert BASE64_SINCE == APIVersion(1, 25)
    assert uses_base64(APIVersion(1, 25)) and not uses_base64(OLD)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 3 * 1024 * 1024 + 7])
def test_read_upload_fast_path(size: int) -> None:
    blob = bytes(i % 256 for i in range(size))
    raw = json.dumps({"data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, NEW)
    assert upload is not None and rest == {}
    assert upload.size == size
    assert b"".join(upload.chunks()) == blob
    assert b"".join(upload.chunks()) == blob  # chunks() can be called again (the head check reads one)


@pytest.mark.parametrize(
    ("raw", "version", "data", "rest"),
    [
        (json.dumps({"path": "/tmp", "data": "AAEC"}).encode(), NEW, b"\0\1\2", {"path": "/tmp"}),
        (json.dumps({"data": "AAEC", "path": "/tmp"}).encode(), NEW, b"\0\1\2", {"path": "/tmp"}),
        (json.dumps({"data": "\u00ff\u0000a"}).encode(), OLD, b"\xff\0a", {}),
        (b'  {"data" : "AAEC" }  ', NEW, b"\0\1\2", {}),
    ],
)
def test_read_upload_json(raw: bytes, version: APIVersion, data: bytes, rest: dict[str, object]) -> None:
    upload, params = read_upload(raw, version)
    assert upload is not None and b"".join(upload.chunks()) == data and upload.size == len(data)
    assert params == rest


def test_read_upload_without_data() -> None:
    assert read_upload(b"", NEW) == (None, {})
    upload, params = read_upload(b'{"path": "/tmp"}', NEW)
    assert upload is None and params == {"path": "/tmp"}
    with pytest.raises(SchemaValidationError):
        read_upload(b"[1]", NEW)


@pytest.mark.parametrize("text", ["%%%%", "abc", "ab=c", "YWJj\\n"])
def test_read_upload_refuses_bad_base64(text: str) -> None:
    with pytest.raises(Base64Exception):
        read_upload(('{"data": "' + text + '"}').encode(), NEW)


def test_decode_archive() -> None:
    blob = bytes(range(256))
    assert decode_archive(base64.b64encode(blob).decode(), APIVersion(1, 25)) == blob
    assert decode_archive(blob.decode("latin-1"), OLD) == blob
    with pytest.raises(Base64Exception):
        decode_archive("not base64!", NEW)
    with pytest.raises(Invalid):
        decode_archive(5, NEW)
    with pytest.raises(Invalid):
        decode_archive("\u0100", OLD)  # beyond one byte


def test_read_upload_general_json() -> None:
    blob = bytes(range(256))
    raw = json.dumps({"path": "/tmp", "data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, APIVersion(1, 40))
    assert upload is not None and b"".join(upload.chunks()) == blob and rest == {"path": "/tmp"}
    upload, rest = read_upload(json.dumps({"data": blob.decode("latin-1")}).encode(), APIVersion(1, 24))
    assert upload is not None and b"".join(upload.chunks()) == blob
    upload, rest = read_upload(b"", APIVersion(1, 40))
    assert upload is None
