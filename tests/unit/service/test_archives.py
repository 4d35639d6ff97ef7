"""Archives over a stand-in for Commands (our own interface): what reaches the wire."""

import base64
import io
import json
import tarfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import pytest

from tests.unit.service.fakeactions import CALLER, RecordingLog
from zunk8s.errors import Invalid, RequestEntityTooLarge
from zunk8s.handlers.archivebody import archive_body
from zunk8s.kube.streams import ExitStatus
from zunk8s.records import Record, RecordStatus
from zunk8s.service.archives import Archives, Upload
from zunk8s.service.commands import CommandResult, Commands
from zunk8s.service.registry import Entry


def _tar(size: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("blob")
        info.size = size
        info.mtime = 1_500_000_000
        tar.addfile(info, io.BytesIO(bytes(i % 251 for i in range(size))))
    return buf.getvalue()


class StubCommands:
    """Plays tar: its stdout is ``output`` (in 1000-byte pieces), its exit ``status``."""

    def __init__(self, output: bytes, status: ExitStatus, stderr: bytes = b"") -> None:
        self.output = output
        self.status = status
        self.stderr = stderr
        self.runs: list[list[str]] = []
        self.stdin: list[bytes] = []

    async def run(
        self,
        entry: Entry,
        argv: Sequence[str],
        *,
        timeout: float,
        stdin: Iterable[bytes] | None = None,
        stdout_sink: Callable[[bytes], None] | None = None,
        stall_after_stderr: float | None = None,
    ) -> CommandResult:
        self.runs.append(list(argv))
        if stdin is not None:
            self.stdin.extend(stdin)
        if stdout_sink is not None:
            for start in range(0, len(self.output), 1000):
                stdout_sink(self.output[start : start + 1000])
        return CommandResult(self.stderr, b"", self.stderr, self.status)


def _entry() -> Entry:
    record = Record.model_validate(
        {"uuid": "u-1", "name": "c", "project_id": "p", "user_id": "u", "image": "i", "created_at": "2026-11-27 00:00:00.000000"}
    )
    return Entry(
        record=record,
        status=RecordStatus(status="Running", pod="pod-1"),
        namespace="ns",
        uid="x",
        resource_version="1",
        has_status=True,
    )


def _archives(stub: StubCommands, *, max_bytes: int = 10**8) -> Archives:
    return Archives(cast(Commands, stub), max_bytes=max_bytes, timeout=60, exec_timeout=5, actions=RecordingLog())


async def _wire(archives: Archives, *, b64: bool) -> Any:
    archive = await archives.get(_entry(), "/blob", base64=b64)
    return json.loads(b"".join([piece async for piece in archive_body(archive)]))


@pytest.mark.parametrize("size", [0, 5, 4 * 1024 * 1024])  # past _Encoder.BATCH: encoded in pieces
async def test_get_encodes_base64(size: int) -> None:
    data = _tar(size)
    stub = StubCommands(data, ExitStatus(0))
    body = await _wire(_archives(stub), b64=True)
    assert base64.b64decode(body["data"]) == data
    assert body["stat"] == {"name": "blob", "size": size, "mode": 0o644, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""}
    assert stub.runs == [["tar", "-c", "-f", "-", "-C", "/", "blob"]]


async def test_get_before_base64_sends_latin1() -> None:
    data = _tar(300)
    body = await _wire(_archives(StubCommands(data, ExitStatus(0))), b64=False)
    assert body["data"].encode("latin-1") == data


async def test_get_limits() -> None:
    with pytest.raises(RequestEntityTooLarge):
        await _archives(StubCommands(_tar(5000), ExitStatus(0)), max_bytes=4000).get(_entry(), "/blob", base64=True)
    stub = StubCommands(b"", ExitStatus(1), stderr=b"tar: /nope: No such file or directory\n")
    with pytest.raises(Invalid, match="Could not get archive of /nope: tar: /nope: No such file or directory"):
        await _archives(stub).get(_entry(), "/nope", base64=True)


async def test_put_checks_big_archives_first() -> None:
    stub = StubCommands(b"", ExitStatus(0))
    data = _tar(100 * 1024)
    await _archives(stub).put(CALLER, _entry(), "/tmp/", Upload(size=len(data), chunks=lambda: iter([data])))
    assert stub.runs == [["test", "-d", "/tmp", "-a", "-w", "/tmp"], ["tar", "-x", "-f", "-", "-C", "/tmp"]]
    assert b"".join(stub.stdin) == data


async def test_put_refuses_what_is_no_archive() -> None:
    stub = StubCommands(b"", ExitStatus(0))
    junk = b"hello\n" * 20000
    with pytest.raises(Invalid, match="the data is not a tar archive"):
        await _archives(stub).put(CALLER, _entry(), "/tmp", Upload(size=len(junk), chunks=lambda: iter([junk])))
    assert stub.runs == []
    with pytest.raises(RequestEntityTooLarge):
        await _archives(stub, max_bytes=10).put(CALLER, _entry(), "/tmp", Upload(size=11, chunks=lambda: iter([b"x" * 11])))
