"""Exec and attach streams over the Kubernetes websocket channel protocol.

Each binary websocket message is one channel byte plus payload: 0 stdin, 1 stdout, 2 stderr,
3 error/status (a metav1.Status when the process ends), 4 resize (JSON {"Width","Height"}).
``v5.channel.k8s.io`` (KEP-4006) adds 255 = CLOSE: ``[255, 0]`` half-closes stdin, which is
what lets ``tar -x`` see end-of-file. We offer v5 first and fall back to v4, where stdin cannot
be closed without closing the whole stream (and losing the exit status).

The codec functions are pure and tested without a socket; ``ExecStream`` is the socket.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp

from zunk8s.errors import ZunError
from zunk8s.kube.http import KubeHTTP

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


class StdinCloseUnsupported(ZunError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class ExitStatus:
    """How the process ended: an exit code, or a failure to run it at all."""

    exit_code: int
    # Set when Kubernetes could not run the command (not found, not executable, container
    # gone...): the Status message, since there is no exit code of the process itself.
    failure: str | None = None


def decode_frame(data: bytes) -> tuple[int, bytes]:
    if not data:
        raise ValueError("empty channel frame")
    return data[0], data[1:]


def encode_frame(channel: int, payload: bytes) -> bytes:
    return bytes([channel]) + payload


def resize_frame(width: int, height: int) -> bytes:
    return encode_frame(RESIZE, json.dumps({"Width": width, "Height": height}).encode())


def parse_status(payload: bytes) -> ExitStatus:
    """Channel 3 carries a metav1.Status. Success = 0; Failure with reason NonZeroExitCode
    carries the code in details.causes[reason=ExitCode]; any other Failure means the process
    never ran (or the stream broke): exit code 126, as Docker reports a command it could not run."""
    try:
        status = json.loads(payload)
    except ValueError:
        return ExitStatus(126, payload.decode("utf-8", errors="replace") or "unreadable exec status")
    if status.get("status") == "Success":
        return ExitStatus(0)
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return ExitStatus(int(cause.get("message")))
                except (TypeError, ValueError):
                    break
    return ExitStatus(126, str(status.get("message") or "command could not be run"))


def stream_params(
    *, command: Sequence[str] | None, container: str, stdin: bool, stdout: bool, stderr: bool, tty: bool
) -> dict[str, str | int | bool | list[str]]:
    params: dict[str, str | int | bool | list[str]] = {
        "container": container,
        "stdin": stdin,
        "stdout": stdout,
        # With a tty everything arrives on stdout, as kubectl requests it.
        "stderr": stderr and not tty,
        "tty": tty,
    }
    if command is not None:
        params["command"] = list(command)  # one query parameter per argv element
    return params


class ExecStream:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.protocol = ws.protocol or V4
        self.status: ExitStatus | None = None

    @property
    def can_close_stdin(self) -> bool:
        return self.protocol == V5

    async def send_stdin(self, data: bytes) -> None:
        if data and not self._ws.closed:
            await self._ws.send_bytes(encode_frame(STDIN, data))

    async def close_stdin(self) -> None:
        if not self.can_close_stdin:
            raise StdinCloseUnsupported(
                "The cluster's exec stream does not support closing stdin (v5.channel.k8s.io is needed)."
            )
        if not self._ws.closed:
            await self._ws.send_bytes(bytes([CLOSE, STDIN]))

    async def resize(self, width: int, height: int) -> None:
        if not self._ws.closed:
            await self._ws.send_bytes(resize_frame(width, height))

    async def frames(self) -> AsyncIterator[tuple[int, bytes]]:
        """Output frames (channel, payload) until the stream ends; channel 3 sets ``status``."""
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                channel, payload = decode_frame(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:  # base64 protocols are not negotiated by us
                channel, payload = decode_frame(msg.data.encode())
            elif msg.type == aiohttp.WSMsgType.ERROR:
                break
            else:
                continue
            if channel == ERROR:
                self.status = parse_status(payload)
                continue
            if payload:
                yield channel, payload

    async def close(self) -> None:
        await self._ws.close()


async def open_stream(
    http: KubeHTTP,
    *,
    kind: Literal["exec", "attach"],
    namespace: str,
    pod: str,
    container: str,
    command: Sequence[str] | None = None,
    stdin: bool = False,
    stdout: bool = True,
    stderr: bool = True,
    tty: bool = False,
) -> ExecStream:
    params = stream_params(command=command, container=container, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    ws = await http.ws_connect(f"/api/v1/namespaces/{namespace}/pods/{pod}/{kind}", params, protocols=(V5, V4))
    return ExecStream(ws)
