"""get_archive / put_archive: tar through the exec stream.

put_archive feeds the tar to ``tar -x`` on stdin and half-closes stdin (v5 CLOSE frame), so it
returns as soon as tar finishes; nothing waits for a timeout. Archives are capped at
``max_archive_bytes`` (413 past it); they are held in memory once, because Zun's API carries
them base64-encoded inside a JSON document anyway.

tar must not exit while much of the archive is still on its way: containerd 1.6 then never
reports the exit (it waits for its copy of the unread input), and when it does, the input left
unread makes it reset the connection, which can lose the exit status on the way or turn it into
a "Success" (the API server reads an empty status stream as success). So before sending more
than ``CHECK_ABOVE`` bytes, the two reasons tar stops at once are ruled out here: data that is
no archive, and a target that is no writable directory.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import posixpath
import re
import tarfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import structlog

from zunk8s.errors import (
    BackendUnavailable,
    Base64Exception,
    Conflict,
    Invalid,
    RequestEntityTooLarge,
    SchemaValidationError,
)
from zunk8s.microversions import APIVersion
from zunk8s.schemas.jsonbody import loads_json
from zunk8s.service.commands import STDIN_CHUNK, CommandResult, OutputTooLarge, chunks_of, run_command
from zunk8s.service.lifecycle import ContainerService
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state

log = structlog.get_logger(__name__)
BASE64_SINCE = APIVersion(1, 25)
# Go's os.FileMode type bits, which Docker's path stat reports in `mode`.
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
# Up to this much input can sit in the pipes between containerd and tar (64 KiB of FIFO, 64 KiB
# of pipe) when tar stops reading, without any of the failures above: smaller archives are sent
# without the checks.
CHECK_ABOVE = 64 * 1024
# tar -x writes to stderr only when it fails; when it then goes silent this long, it has exited
# (see run_command's stall_after_stderr).
TAR_STALL = 15.0
# What tar reads from stdin besides a plain archive (busybox tar detects these itself).
COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x5d\x00\x00")


@dataclass(frozen=True)
class Archive:
    """An archive as the API sends it: already encoded (base64 from 1.25), in pieces that are
    written out as they are (never joined into one more copy), and its stat."""

    parts: list[bytes]
    stat: dict[str, Any]


@dataclass(frozen=True)
class Upload:
    """An archive to extract: its decoded size, and its bytes produced chunk by chunk (decoded
    from the request body as they are sent, so the archive is held only once, encoded)."""

    size: int
    chunks: Callable[[], Iterator[bytes]]


class _Encoder:
    """Encodes the tar stream as it arrives (base64 in 3-byte-aligned pieces), keeping the
    head for the stat, so the archive is held once, encoded, and never re-copied whole."""

    HEAD = 64 * 1024
    BATCH = 3 * 1024 * 1024

    def __init__(self, *, b64: bool, limit: int) -> None:
        self.b64 = b64
        self.limit = limit
        self.size = 0
        self.head = b""
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise OutputTooLarge(f"more than {self.limit} bytes")
        if len(self.head) < self.HEAD:
            self.head += data[: self.HEAD - len(self.head)]
        self._pending.append(data)
        self._pending_size += len(data)
        if self.b64 and self._pending_size >= self.BATCH:
            self._encode(final=False)

    def _encode(self, *, final: bool) -> None:
        # Encode in large batches: thousands of small b64encode calls cost more than the data.
        data = b"".join(self._pending)
        cut = len(data) if final else len(data) - len(data) % 3
        self._parts.append(base64.b64encode(data[:cut]))
        rest = data[cut:]
        self._pending = [rest] if rest else []
        self._pending_size = len(rest)

    def finish(self) -> list[bytes]:
        if self.b64:
            self._encode(final=True)
            return self._parts
        # Before 1.25 the tar travels as a raw string; latin-1 maps each byte to one code point.
        return [json.dumps(b"".join(self._pending).decode("latin-1"))[1:-1].encode()]


def _require_running(entry: Entry, action: str) -> None:
    check_state(action, uuid=entry.uuid, status=entry.status.status)
    if entry.status.status != "Running" or entry.status.pod is None:
        raise Conflict(
            f"Cannot {action} container {entry.uuid} in {entry.status.status} state on Kubernetes: "
            "a container's files can only be reached while it runs. Start it first."
        )


def tar_argv_for(path: str) -> list[str]:
    """tar -c of one path, named by its last component as Docker's archive does."""
    clean = posixpath.normpath(path)
    if not clean.startswith("/"):
        raise Invalid(f"The path {path!r} must be absolute.")
    if clean == "/":
        return ["tar", "-c", "-f", "-", "-C", "/", "."]
    return ["tar", "-c", "-f", "-", "-C", posixpath.dirname(clean), posixpath.basename(clean)]


def stat_from_tar(head: bytes) -> dict[str, Any]:
    """Docker's X-Docker-Container-Path-Stat, from the archive's first member's header
    (``head`` is the start of the archive; the stream reader reads headers only)."""
    with tarfile.open(fileobj=io.BytesIO(head), mode="r|") as tar:
        member = tar.next()
    if member is None:
        return {"name": "", "size": 0, "mode": 0, "mtime": "", "linkTarget": ""}
    mode = member.mode & 0o7777
    if member.isdir():
        mode |= GO_MODE_DIR
    elif member.issym():
        mode |= GO_MODE_SYMLINK
    mtime = datetime.fromtimestamp(member.mtime, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    return {
        "name": posixpath.basename(member.name.rstrip("/")) or "/",
        "size": member.size,
        "mode": mode,
        "mtime": mtime,
        "linkTarget": member.linkname,
    }


async def get_archive(service: ContainerService, entry: Entry, path: str, *, version: APIVersion) -> Archive:
    _require_running(entry, "get_archive")
    limit = service.settings.max_archive_bytes
    encoder = _Encoder(b64=version >= BASE64_SINCE, limit=limit)
    try:
        result = await run_command(
            service,
            entry,
            tar_argv_for(path),
            timeout=service.settings.archive_timeout,
            stdout_sink=encoder.feed,
        )
    except OutputTooLarge:
        raise RequestEntityTooLarge(f"The archive of {path} is larger than the {limit}-byte limit.") from None
    if not result.status.known:
        raise BackendUnavailable(f"Cannot archive {path}: {result.status.failure}.")
    if result.status.failure is not None:
        raise Conflict(f"Cannot archive {path}: tar could not be run in the container ({result.status.failure.strip()}).")
    if result.status.exit_code != 0:
        raise Invalid(f"Could not get archive of {path}: {result.stderr.decode('utf-8', errors='replace').strip()}")
    return Archive(parts=encoder.finish(), stat=stat_from_tar(encoder.head))


async def archive_body(archive: Archive) -> AsyncIterator[bytes]:
    """The JSON answer, written around the already-encoded pieces (base64 needs no escaping)."""
    yield b'{"data": "'
    for part in archive.parts:
        yield part
    yield b'", "stat": ' + json.dumps(archive.stat).encode() + b"}"


_DATA_FIELD = re.compile(rb'\A\s*\{\s*"data"\s*:\s*"')
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def read_upload(raw: bytes, version: APIVersion) -> tuple[Upload | None, dict[str, Any]]:
    """The archive in a put_archive body, and the body's other parameters.

    python-zunclient sends exactly ``{"data": "<base64>"}``; that body is read in place (its
    base64 text is validated, then decoded chunk by chunk while it is sent). Any other body is
    parsed as JSON."""
    if version >= BASE64_SINCE:
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
    if not isinstance(data, str):
        raise Invalid("'data' must be a string")
    if version >= BASE64_SINCE:
        try:
            return binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raise Base64Exception("Invalid Base 64 file data") from None
    # Before 1.25 the tar travels as a raw string; latin-1 maps each byte to one code point.
    try:
        return data.encode("latin-1")
    except UnicodeEncodeError:
        raise Invalid("The archive string holds characters beyond one byte each.") from None


def looks_like_archive(head: bytes) -> bool:
    """Whether the first block is one tar can read: a tar header (its checksum holds), the zero
    block of an empty archive, or a compressed stream (tar decides on those)."""
    block = head[: tarfile.BLOCKSIZE]
    if head.startswith(COMPRESSED_MAGIC) or (len(block) == tarfile.BLOCKSIZE and not block.strip(b"\0")):
        return True
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


async def _check_target(service: ContainerService, entry: Entry, path: str, clean: str) -> None:
    """Refuse at once what tar would fail on at its first member (see the module docstring)."""
    result = await run_command(
        service, entry, ["test", "-d", clean, "-a", "-w", clean], timeout=service.settings.exec_timeout
    )
    if result.status.known and result.status.failure is None and result.status.exit_code == 1:
        log.info("put_archive_refused", uuid=entry.uuid, path=clean, why="no writable directory")
        raise Invalid(f"Could not put archive into {path}: there is no writable directory {clean} in the container.")
    # 0, or an image without `test`: tar itself decides.


def _extract_failed(result: CommandResult, path: str) -> None:
    status = result.status
    said = result.output.decode("utf-8", errors="replace").strip()
    if not status.known:
        if said:  # tar writes to stderr only when it fails
            raise Invalid(f"Could not put archive into {path}: {said} ({status.failure}).")
        raise BackendUnavailable(
            f"Cannot tell whether the archive was extracted into {path}: {status.failure}. "
            "It may be partly extracted."
        )
    if status.failure is not None:
        raise Conflict(f"Cannot extract into {path}: tar could not be run in the container ({status.failure.strip()}).")
    if status.exit_code != 0:
        raise Invalid(f"Could not put archive into {path}: {said}")


async def put_archive(service: ContainerService, entry: Entry, path: str, upload: Upload) -> None:
    _require_running(entry, "put_archive")
    limit = service.settings.max_archive_bytes
    if upload.size > limit:
        raise RequestEntityTooLarge(f"The archive is {upload.size} bytes; the limit is {limit}.")
    clean = posixpath.normpath(path)
    if not clean.startswith("/"):
        raise Invalid(f"The path {path!r} must be absolute.")
    if upload.size > CHECK_ABOVE:
        if not looks_like_archive(next(upload.chunks(), b"")):
            log.info("put_archive_refused", uuid=entry.uuid, path=clean, why="not a tar archive")
            raise Invalid(f"Could not put archive into {path}: the data is not a tar archive.")
        await _check_target(service, entry, path, clean)
    result = await run_command(
        service,
        entry,
        ["tar", "-x", "-f", "-", "-C", clean],
        timeout=service.settings.archive_timeout,
        stdin=upload.chunks(),
        stall_after_stderr=TAR_STALL,
    )
    _extract_failed(result, path)
