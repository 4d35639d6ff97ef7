import asyncio
import base64
import io
import json
import tarfile
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest

from zunk8s.errors import Base64Exception, Conflict
from zunk8s.kube.streams import (
    V5,
    ExecStream,
    StdinCloseUnsupported,
    decode_frame,
    describe_end,
    encode_frame,
    parse_status,
    resize_frame,
    stream_params,
    unknown_status,
)
from zunk8s.microversions import APIVersion
from zunk8s.service import commands
from zunk8s.service.archives import (
    GO_MODE_DIR,
    decode_archive,
    looks_like_archive,
    read_upload,
    stat_from_tar,
    tar_argv_for,
)
from zunk8s.service.commands import CommandResult, parse_ps, split_command
from zunk8s.wsproxy.bridge import Utf8Framer, origin_allowed


def test_frames() -> None:
    assert decode_frame(b"\x01hello") == (1, b"hello")
    assert encode_frame(0, b"\x00\xff") == b"\x00\x00\xff"
    assert resize_frame(80, 24) == b"\x04" + json.dumps({"Width": 80, "Height": 24}).encode()
    with pytest.raises(ValueError):
        decode_frame(b"")


@pytest.mark.parametrize(
    ("status", "code", "failed"),
    [
        ({"metadata": {}, "status": "Success"}, 0, False),
        (
            {
                "status": "Failure",
                "reason": "NonZeroExitCode",
                "message": "command terminated with non-zero exit code: error executing command [sh -c exit 42]: exit status 42",
                "details": {"causes": [{"reason": "ExitCode", "message": "42"}]},
            },
            42,
            False,
        ),
        ({"status": "Failure", "reason": "InternalError", "message": "exec: \"nope\": executable file not found"}, 126, True),
    ],
)
def test_parse_status(status: dict[str, object], code: int, failed: bool) -> None:
    parsed = parse_status(json.dumps(status).encode())
    assert parsed.exit_code == code
    assert (parsed.failure is not None) is failed


def test_stream_params_one_param_per_argv_element() -> None:
    p = stream_params(command=["sh", "-c", "echo a b"], container="main", stdin=False, stdout=True, stderr=True, tty=True)
    assert p["command"] == ["sh", "-c", "echo a b"]
    assert p["stderr"] is False  # tty: everything on stdout


def test_utf8_framer_never_splits_a_character() -> None:
    text = "héllo wörld ✓".encode()
    framer = Utf8Framer()
    out = b"".join(framer.feed(text[i : i + 1]) for i in range(len(text))) + framer.flush()
    assert out == text
    f2 = Utf8Framer()
    first = f2.feed(b"a\xc3")
    assert first == b"a"
    assert f2.feed(b"\xa9") == "é".encode()
    assert Utf8Framer().feed(b"\xff\xfeok") == "\ufffd\ufffdok".encode()


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [(None, "h:9517", True), ("http://h:1234", "h:9517", True), ("http://evil", "h:9517", False), ("null", "h", False)],
)
def test_origin(origin: str | None, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host) is ok


def _tar(name: str, data: bytes, *, directory: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.mtime = 1_500_000_000
        if directory:
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        else:
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_stat_from_tar() -> None:
    st = stat_from_tar(_tar("ip.sh", b"x" * 129))
    assert st == {"name": "ip.sh", "size": 129, "mode": 0o644, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""}
    assert stat_from_tar(_tar("etc/", b"", directory=True))["mode"] == GO_MODE_DIR | 0o755


def test_tar_argv() -> None:
    assert tar_argv_for("/etc/hosts") == ["tar", "-c", "-f", "-", "-C", "/etc", "hosts"]
    assert tar_argv_for("/") == ["tar", "-c", "-f", "-", "-C", "/", "."]
    assert tar_argv_for("/a/b/../c/") == ["tar", "-c", "-f", "-", "-C", "/a", "c"]


def test_archive_decoding() -> None:
    blob = bytes(range(256))
    assert decode_archive(base64.b64encode(blob).decode(), APIVersion(1, 25)) == blob
    assert decode_archive(blob.decode("latin-1"), APIVersion(1, 24)) == blob
    with pytest.raises(Base64Exception):
        decode_archive("not base64!", APIVersion(1, 40))


def test_parse_ps() -> None:
    out = "PID   USER     TIME  COMMAND\n    1 root      0:00 sleep 3600\n   12 root      0:00 ps -ef\n"
    assert parse_ps(out) == {
        "Titles": ["PID", "USER", "TIME", "COMMAND"],
        "Processes": [["1", "root", "0:00", "sleep 3600"], ["12", "root", "0:00", "ps -ef"]],
    }


def test_split_command() -> None:
    assert split_command('"sh" "-c" "echo fail; exit 3"') == ["sh", "-c", "echo fail; exit 3"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 3 * 1024 * 1024 + 7])
def test_read_upload_fast_path(size: int) -> None:
    blob = bytes(i % 256 for i in range(size))
    raw = json.dumps({"data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, APIVersion(1, 40))
    assert upload is not None and rest == {}
    assert upload.size == size
    assert b"".join(upload.chunks()) == blob


def test_read_upload_general_json() -> None:
    blob = bytes(range(256))
    raw = json.dumps({"path": "/tmp", "data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, APIVersion(1, 40))
    assert upload is not None and b"".join(upload.chunks()) == blob and rest == {"path": "/tmp"}
    upload, rest = read_upload(json.dumps({"data": blob.decode("latin-1")}).encode(), APIVersion(1, 24))
    assert upload is not None and b"".join(upload.chunks()) == blob
    upload, rest = read_upload(b"", APIVersion(1, 40))
    assert upload is None


@pytest.mark.parametrize("text", ["%%%%", "abc", "ab=c", "YWJj\\n"])
def test_read_upload_refuses_bad_base64(text: str) -> None:
    with pytest.raises(Base64Exception):
        read_upload(('{"data": "' + text + '"}').encode(), APIVersion(1, 40))


# --- Exec streams whose process exits while stdin is still being fed (issue #13) -------------


def test_looks_like_archive() -> None:
    assert looks_like_archive(_tar("f", b"x" * 100))
    assert looks_like_archive(b"\0" * 1024)  # an empty archive
    assert looks_like_archive(b"\x1f\x8b\x08" + bytes(600))  # gzip: tar decides
    assert not looks_like_archive(bytes(range(256)) * 4)
    assert not looks_like_archive(b"hello world\n" * 100)


def test_describe_end_and_unknown_status() -> None:
    assert "code 1011" in describe_end(close_code=1011, error=None)
    assert describe_end(close_code=None, error=None) == "the API server dropped the connection"
    assert describe_end(close_code=None, error=ConnectionResetError("x")) == "the API server dropped the connection"
    assert "ValueError: bad" in describe_end(close_code=None, error=ValueError("bad"))
    status = unknown_status("why")
    assert status.known is False and status.failure == "no exit status arrived: why"
    assert parse_status(b'{"status": "Success"}').known is True


def _msg(kind: aiohttp.WSMsgType, data: object = None) -> SimpleNamespace:
    return SimpleNamespace(type=kind, data=data, extra=None)


def _frame(channel: int, payload: bytes) -> SimpleNamespace:
    return _msg(aiohttp.WSMsgType.BINARY, bytes([channel]) + payload)


EXIT_1 = json.dumps(
    {"status": "Failure", "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}}
).encode()


class FakeWS:
    """The client side of an exec websocket: scripted messages in, stdin frames out. Sends block
    after ``accept`` frames, as TCP flow control does once nobody reads stdin any more."""

    def __init__(self, messages: list[SimpleNamespace], *, accept: int = 1_000_000, send_error: Exception | None = None) -> None:
        self.protocol = V5
        self.closed = False
        self.close_code: int | None = None
        self.incoming: asyncio.Queue[SimpleNamespace] = asyncio.Queue()
        for m in messages:
            self.incoming.put_nowait(m)
        self.sent: list[bytes] = []
        self.accept = accept
        self.send_error = send_error

    async def receive(self) -> SimpleNamespace:
        return await self.incoming.get()

    async def send_bytes(self, data: bytes) -> None:
        if self.send_error is not None:
            raise self.send_error
        if len(self.sent) >= self.accept:
            await asyncio.Event().wait()  # never drains
        self.sent.append(data)

    def exception(self) -> BaseException | None:
        return None

    async def close(self) -> None:
        self.closed = True


async def _run(ws: FakeWS, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> CommandResult:
    async def fake_open_stream(*_args: Any, **_kwargs: Any) -> ExecStream:
        return ExecStream(cast(aiohttp.ClientWebSocketResponse, ws))

    monkeypatch.setattr(commands, "open_stream", fake_open_stream)
    service = SimpleNamespace(gw=SimpleNamespace(http=SimpleNamespace(reachable=True)))  # the API server answers
    entry = SimpleNamespace(uuid="u-1", namespace="ns", status=SimpleNamespace(pod="pod-1"))
    return await commands.run_command(cast(Any, service), cast(Any, entry), ["tar", "-x"], **kwargs)


async def test_frames_stop_at_the_status() -> None:
    ws = FakeWS([_frame(1, b"out"), _frame(3, EXIT_1), _frame(1, b"never read")])
    stream = ExecStream(cast(aiohttp.ClientWebSocketResponse, ws))
    assert [f async for f in stream.frames()] == [(1, b"out")]
    assert stream.status is not None and stream.status.exit_code == 1 and stream.ended is None
    assert ws.incoming.qsize() == 1


async def test_frames_say_why_a_stream_ended_without_status() -> None:
    ws = FakeWS([_frame(2, b"err"), _msg(aiohttp.WSMsgType.CLOSE, 1000)])
    stream = ExecStream(cast(aiohttp.ClientWebSocketResponse, ws))
    assert [f async for f in stream.frames()] == [(2, b"err")]
    assert stream.status is None and stream.ended is not None and "code 1000" in stream.ended


async def test_status_ends_the_command_while_stdin_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    # tar refused the target and exited; the rest of its input can no longer be delivered.
    ws = FakeWS([_frame(2, b"tar: can't change directory"), _frame(3, EXIT_1)], accept=2)
    result = await asyncio.wait_for(
        _run(ws, monkeypatch, timeout=30, stdin=iter([b"x" * 10] * 50)), timeout=5
    )
    assert result.status.exit_code == 1 and result.status.known
    assert result.stderr == b"tar: can't change directory"
    assert len(ws.sent) == 2 and ws.closed


async def test_a_stream_that_breaks_under_the_sender_still_gives_its_status(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = FakeWS([_frame(3, b'{"status": "Success"}')], send_error=ConnectionResetError("reset"))
    result = await asyncio.wait_for(_run(ws, monkeypatch, timeout=30, stdin=iter([b"x"])), timeout=5)
    assert result.status.exit_code == 0 and result.status.known


async def test_a_stream_that_ends_without_status_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = FakeWS([_frame(2, b"tar: bad"), _msg(aiohttp.WSMsgType.CLOSED)])
    result = await asyncio.wait_for(_run(ws, monkeypatch, timeout=30, stdin=iter([b"x"])), timeout=5)
    assert not result.status.known and result.status.failure is not None
    assert "dropped the connection" in result.status.failure and result.output == b"tar: bad"


async def test_silence_after_stderr_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # containerd 1.6 never reports the exit of a process that left input unread: no status,
    # no close, only tar's complaint; the watchdog ends the wait, not the 30 s timeout.
    ws = FakeWS([_frame(2, b"tar: invalid tar magic")], accept=3)
    started = asyncio.get_running_loop().time()
    result = await asyncio.wait_for(
        _run(ws, monkeypatch, timeout=30, stdin=iter([b"x"] * 10), stall_after_stderr=0.3), timeout=5
    )
    assert asyncio.get_running_loop().time() - started < 3
    assert not result.status.known and result.status.failure is not None and "silent" in result.status.failure


async def test_no_watchdog_without_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = FakeWS([], accept=3)
    with pytest.raises(Conflict, match="Timeout on executing command"):
        await _run(ws, monkeypatch, timeout=0.8, stdin=iter([b"x"] * 10), stall_after_stderr=0.2)


async def test_stdin_needs_v5(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = FakeWS([])
    ws.protocol = "v4.channel.k8s.io"
    with pytest.raises(StdinCloseUnsupported):
        await _run(ws, monkeypatch, timeout=30, stdin=iter([b"x"]))
    assert ws.closed and ws.sent == []
