"""Exec/attach streams: the channel framing, exit statuses, and ExecStream over a scripted
websocket."""

import json
from typing import cast

import aiohttp
import pytest

from tests.unit.fakews import EXIT_1, FakeWS
from tests.unit.fakews import frame as _frame
from tests.unit.fakews import msg as _msg
from zunk8s.kube.streams import (
    ExecStream,
    decode_frame,
    describe_end,
    encode_frame,
    parse_status,
    resize_frame,
    stream_params,
    unknown_status,
)


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


# --- Exec streams whose process exits while stdin is still being fed (issue #13) -------------

def test_describe_end_and_unknown_status() -> None:
    assert "code 1011" in describe_end(close_code=1011, error=None)
    assert describe_end(close_code=None, error=None) == "the API server dropped the connection"
    assert describe_end(close_code=None, error=ConnectionResetError("x")) == "the API server dropped the connection"
    assert "ValueError: bad" in describe_end(close_code=None, error=ValueError("bad"))
    status = unknown_status("why")
    assert status.known is False and status.failure == "no exit status arrived: why"
    assert parse_status(b'{"status": "Success"}').known is True




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
