"""get_archive / put_archive: tar through the exec stream.

put_archive feeds the tar to ``tar -x`` on stdin and half-closes stdin (v5 CLOSE frame), so it
returns as soon as tar finishes; nothing waits for a timeout. Archives are capped at
``max_bytes`` (413 past it); they are held in memory once, because Zun's API carries them
base64-encoded inside a JSON document anyway (the wire form: handlers/archivebody.py).

tar must not exit while much of the archive is still on its way: containerd 1.6 then never
reports the exit (it waits for its copy of the unread input), and when it does, the input left
unread makes it reset the connection, which can lose the exit status on the way or turn it into
a "Success" (the API server reads an empty status stream as success). So before sending more
than ``CHECK_ABOVE`` bytes, the two reasons tar stops at once are ruled out here: data that is
no archive, and a target that is no writable directory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from zunk8s.errors import BackendUnavailable, Conflict, Invalid, RequestEntityTooLarge
from zunk8s.service.actionlog import ActionLog
from zunk8s.service.commands import CommandResult, Commands, OutputTooLarge
from zunk8s.service.context import Caller
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate.tarfiles import (
    absolute_path,
    looks_like_archive,
    stat_from_tar,
    tar_argv_for,
    untar_argv,
    writable_dir_argv,
)

log = structlog.get_logger(__name__)
# Up to this much input can sit in the pipes between containerd and tar (64 KiB of FIFO, 64 KiB
# of pipe) when tar stops reading, without any of the failures above: smaller archives are sent
# without the checks.
CHECK_ABOVE = 64 * 1024
# tar -x writes to stderr only when it fails; when it then goes silent this long, it has exited
# (see Commands.run's stall_after_stderr).
TAR_STALL = 15.0


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


def _require_running(entry: Entry, action: Literal["get_archive", "put_archive"]) -> None:
    check_state(action, uuid=entry.uuid, status=entry.status.status)
    if entry.status.status != "Running" or entry.status.pod is None:
        raise Conflict(
            f"Cannot {action} container {entry.uuid} in {entry.status.status} state on Kubernetes: "
            "a container's files can only be reached while it runs (through exec, which a paused container "
            f"cannot run). {'Unpause' if entry.status.status == 'Paused' else 'Start'} it first."
        )


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


class Archives:
    """Copy files out of and into a running container as tar archives."""

    def __init__(
        self, commands: Commands, *, max_bytes: int, timeout: float, exec_timeout: float, actions: ActionLog
    ) -> None:
        self.commands = commands
        self._actions = actions
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.exec_timeout = exec_timeout

    async def get(self, entry: Entry, path: str, *, base64: bool) -> Archive:
        """The archive of ``path``, encoded for the wire: base64 (``base64``, Zun 1.25+) or as the
        inside of a JSON string. 413 past ``max_bytes``; 400 when tar fails (no such path)."""
        _require_running(entry, "get_archive")
        limit = self.max_bytes
        encoder = _Encoder(b64=base64, limit=limit)
        try:
            result = await self.commands.run(entry, tar_argv_for(path), timeout=self.timeout, stdout_sink=encoder.feed)
        except OutputTooLarge:
            raise RequestEntityTooLarge(f"The archive of {path} is larger than the {limit}-byte limit.") from None
        if not result.status.known:
            raise BackendUnavailable(f"Cannot archive {path}: {result.status.failure}.")
        if result.status.failure is not None:
            raise Conflict(
                f"Cannot archive {path}: tar could not be run in the container ({result.status.failure.strip()})."
            )
        if result.status.exit_code != 0:
            raise Invalid(f"Could not get archive of {path}: {result.stderr.decode('utf-8', errors='replace').strip()}")
        return Archive(parts=encoder.finish(), stat=stat_from_tar(encoder.head))

    async def put(self, caller: Caller, entry: Entry, path: str, upload: Upload) -> None:
        """Extract ``upload`` into the directory ``path``. 413 past ``max_bytes``; 400 for data
        that is no archive, a target that is no writable directory, or tar failing (logged as
        put_archive, failed then)."""
        _require_running(entry, "put_archive")
        limit = self.max_bytes
        if upload.size > limit:
            raise RequestEntityTooLarge(f"The archive is {upload.size} bytes; the limit is {limit}.")
        async with self._actions.recorded(caller, entry, "put_archive"):
            await self._put(entry, path, upload)

    async def _put(self, entry: Entry, path: str, upload: Upload) -> None:
        clean = absolute_path(path)
        if upload.size > CHECK_ABOVE:
            if not looks_like_archive(next(upload.chunks(), b"")):
                log.info("put_archive_refused", uuid=entry.uuid, path=clean, why="not a tar archive")
                raise Invalid(f"Could not put archive into {path}: the data is not a tar archive.")
            await self._check_target(entry, path, clean)
        result = await self.commands.run(
            entry,
            untar_argv(clean),
            timeout=self.timeout,
            stdin=upload.chunks(),
            stall_after_stderr=TAR_STALL,
        )
        _extract_failed(result, path)

    async def _check_target(self, entry: Entry, path: str, clean: str) -> None:
        """Refuse at once what tar would fail on at its first member (see the module docstring)."""
        result = await self.commands.run(entry, writable_dir_argv(clean), timeout=self.exec_timeout)
        if result.status.known and result.status.failure is None and result.status.exit_code == 1:
            log.info("put_archive_refused", uuid=entry.uuid, path=clean, why="no writable directory")
            raise Invalid(
                f"Could not put archive into {path}: there is no writable directory {clean} in the container."
            )
        # 0, or an image without `test`: tar itself decides.
