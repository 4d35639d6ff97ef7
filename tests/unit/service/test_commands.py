"""Commands.run over scripted exec streams: a stand-in gateway hands out real ExecStreams on a
fake websocket (channel frames in, stdin frames out)."""

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest

from tests.unit.fakews import EXIT_1, SUCCESS, FakeWS
from tests.unit.fakews import frame as _frame
from tests.unit.fakews import msg as _msg
from tests.unit.service.fakeactions import CALLER, RecordingLog
from zunk8s.errors import Conflict
from zunk8s.kube.errors import KubeUnavailable, StdinCloseUnsupported
from zunk8s.kube.gateway import KubeGateway
from zunk8s.kube.streams import ExecStream
from zunk8s.records import Record, RecordStatus
from zunk8s.service.commands import CommandResult, Commands, OutputTooLarge
from zunk8s.service.registry import Entry


class StubGateway:
    def __init__(self, ws: FakeWS, *, reachable: bool = True) -> None:
        self.ws = ws
        self.reachable = reachable
        self.opened: list[dict[str, Any]] = []

    async def open_stream(self, kind: str, **kwargs: Any) -> ExecStream:
        self.opened.append({"kind": kind, **kwargs})
        return ExecStream(cast(aiohttp.ClientWebSocketResponse, self.ws))

    def unavailable_error(self) -> KubeUnavailable:
        return KubeUnavailable("the API server is unreachable")


def _entry() -> Entry:
    record = Record.model_validate(
        {"uuid": "u-1", "name": "c", "project_id": "p", "user_id": "u", "image": "i", "created_at": "2026-11-27 00:00:00.000000"}
    )
    status = RecordStatus(status="Running", pod="pod-1")
    return Entry(record=record, status=status, namespace="ns", uid="x", resource_version="1", has_status=True)


async def _run(ws: FakeWS, *, reachable: bool = True, **kwargs: Any) -> CommandResult:
    gw = StubGateway(ws, reachable=reachable)
    commands = Commands(cast(KubeGateway, gw), exec_timeout=60, actions=RecordingLog())
    result = await asyncio.wait_for(commands.run(_entry(), ["tar", "-x"], **kwargs), timeout=5)
    assert gw.opened[0]["kind"] == "exec" and gw.opened[0]["pod"] == "pod-1" and gw.opened[0]["command"] == ["tar", "-x"]
    return result


async def test_output_and_status() -> None:
    ws = FakeWS([_frame(1, b"out "), _frame(2, b"err "), _frame(1, b"more"), _frame(3, EXIT_1)])
    result = await _run(ws, timeout=30)
    assert result.output == b"out err more" and result.stdout == b"out more" and result.stderr == b"err "
    assert result.status.exit_code == 1 and result.status.known and ws.closed


async def test_stdout_sink_and_output_limit() -> None:
    seen: list[bytes] = []
    result = await _run(FakeWS([_frame(1, b"abc"), _frame(3, SUCCESS)]), timeout=30, stdout_sink=seen.append)
    assert seen == [b"abc"] and result.output == b""
    with pytest.raises(OutputTooLarge):
        await _run(FakeWS([_frame(1, b"x" * 10), _frame(3, SUCCESS)]), timeout=30, max_output=5)


async def test_status_ends_the_command_while_stdin_is_blocked() -> None:
    # tar refused the target and exited; the rest of its input can no longer be delivered.
    ws = FakeWS([_frame(2, b"tar: can't change directory"), _frame(3, EXIT_1)], accept=2)
    result = await _run(ws, timeout=30, stdin=iter([b"x" * 10] * 50))
    assert result.status.exit_code == 1 and result.status.known
    assert result.stderr == b"tar: can't change directory"
    assert len(ws.sent) == 2 and ws.closed


async def test_a_stream_that_breaks_under_the_sender_still_gives_its_status() -> None:
    # ExecStream turns the socket's error into KubeStreamBroken, which the feeder absorbs.
    ws = FakeWS([_frame(3, SUCCESS)], send_error=ConnectionResetError("reset"))
    result = await _run(ws, timeout=30, stdin=iter([b"x"]))
    assert result.status.exit_code == 0 and result.status.known


class CatWS(FakeWS):
    """Exits (status) only once stdin is closed, as `tar -x` does at the end of its input."""

    async def receive(self) -> SimpleNamespace:
        while bytes([255, 0]) not in self.sent:  # the v5 CLOSE frame for stdin
            await asyncio.sleep(0.01)
        return await super().receive()


async def test_stdin_is_sent_then_half_closed() -> None:
    ws = CatWS([_frame(3, SUCCESS)])
    result = await _run(ws, timeout=30, stdin=iter([b"ab", b"cd"]))
    assert ws.sent == [b"\x00ab", b"\x00cd", b"\xff\x00"] and result.status.exit_code == 0


async def test_a_stream_that_ends_without_status_is_unknown() -> None:
    ws = FakeWS([_frame(2, b"tar: bad"), _msg(aiohttp.WSMsgType.CLOSED)])
    result = await _run(ws, timeout=30, stdin=iter([b"x"]))
    assert not result.status.known and result.status.failure is not None
    assert "dropped the connection" in result.status.failure and result.output == b"tar: bad"


async def test_silence_after_stderr_ends_the_wait() -> None:
    # containerd 1.6 never reports the exit of a process that left input unread: no status,
    # no close, only tar's complaint; the watchdog ends the wait, not the 30 s timeout.
    ws = FakeWS([_frame(2, b"tar: invalid tar magic")], accept=3)
    started = asyncio.get_running_loop().time()
    result = await _run(ws, timeout=30, stdin=iter([b"x"] * 10), stall_after_stderr=0.3)
    assert asyncio.get_running_loop().time() - started < 3
    assert not result.status.known and result.status.failure is not None and "silent" in result.status.failure


async def test_timeout_is_a_conflict_or_the_outage() -> None:
    with pytest.raises(Conflict, match="Timeout on executing command: tar -x"):
        await _run(FakeWS([], accept=3), timeout=0.5, stdin=iter([b"x"] * 10), stall_after_stderr=0.2)
    with pytest.raises(KubeUnavailable):
        await _run(FakeWS([]), reachable=False, timeout=0.2)


async def test_stdin_needs_v5() -> None:
    ws = FakeWS([])
    ws.protocol = "v4.channel.k8s.io"
    with pytest.raises(StdinCloseUnsupported):
        await _run(ws, timeout=30, stdin=iter([b"x"]))
    assert ws.closed and ws.sent == []


async def test_execute_top_and_signal() -> None:
    ps = b"PID USER COMMAND\n1 root sleep 1\n"
    gw = StubGateway(FakeWS([_frame(1, ps), _frame(3, SUCCESS)]))
    log = RecordingLog()
    commands = Commands(cast(KubeGateway, gw), exec_timeout=5, actions=log)
    assert await commands.top(_entry(), None) == {"Titles": ["PID", "USER", "COMMAND"], "Processes": [["1", "root", "sleep 1"]]}
    assert gw.opened[0]["command"] == ["ps", "-ef"]
    gw.ws = FakeWS([_frame(2, b"kill: bad signal"), _frame(3, EXIT_1)])
    with pytest.raises(Conflict, match=r"kill -HUP 1 failed in container u-1 \(exit code 1\): kill: bad signal"):
        await commands.send_signal(CALLER, _entry(), "HUP")
    missing = json.dumps({"status": "Failure", "reason": "InternalError", "message": 'exec: "nope": not found'}).encode()
    gw.ws = FakeWS([_frame(3, missing)])
    result = await commands.execute(CALLER, _entry(), "nope")
    assert result.output == b'exec: "nope": not found\n' and result.status.failure is not None
    # top is no action of Zun's log; a signal that failed is a failed kill; an exec that ran
    # (whatever it exited with) a successful exec_cmd.
    assert log.actions() == [("kill", True), ("exec_cmd", False)]
    _, started, error = log.appended[0]
    assert started.request_id == "req-1" and started.user_id == "u" and started.project_id == "p"
    assert error is not None and "kill -HUP 1 failed" in error
