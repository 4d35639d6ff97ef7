"""Exec and attach streams over the Kubernetes websocket channel protocol.

Each binary websocket message is one channel byte plus payload: 0 stdin, 1 stdout, 2 stderr,
3 error/status (a metav1.Status when the process ends), 4 resize (JSON {"Width","Height"}).
``v5.channel.k8s.io`` (KEP-4006) adds 255 = CLOSE: ``[255, 0]`` half-closes stdin, which is
what lets ``tar -x`` see end-of-file. We offer v5 first and fall back to v4, where stdin cannot
be closed without closing the whole stream (and losing the exit status).

The codec functions are pure and tested without a socket; ``ExecStream`` is the socket.

The channel-3 status is the last thing the API server sends: once it arrives the process is
over, and nothing more is read. A stream can also end without one (the connection reset, or
the API server closed it): then the exit status is unknown, and ``ExitStatus.known`` says so
rather than inventing one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp

from zunk8s.kube.errors import KubeStreamBroken, StdinCloseUnsupported
from zunk8s.kube.http import KubeHTTP

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


@dataclass(frozen=True)
class ExitStatus:
    """How the process ended: an exit code, or a failure to run it at all."""

    exit_code: int
    # Set when Kubernetes could not run the command (not found, not executable, container
    # gone...): the Status message, since there is no exit code of the process itself.
    failure: str | None = None
    # False when no status arrived at all (the stream broke or stalled first): the process may
    # have failed or succeeded; ``failure`` says what happened to the stream.
    known: bool = True


def unknown_status(why: str) -> ExitStatus:
    """No exit status was reported. 126 (as for a command that could not be run) keeps callers
    that only look at ``failure`` on their error path; ``known`` tells the others."""
    return ExitStatus(126, f"no exit status arrived: {why}", known=False)


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


def describe_end(*, close_code: int | None, error: BaseException | None) -> str:
    """Why a stream ended without a status, for logs and error messages: a close frame from the
    API server (``close_code``), or a connection that broke (``error``, when one is known)."""
    if close_code is not None:
        return f"the API server closed the exec stream (code {close_code})"
    if error is None or isinstance(error, ConnectionResetError):
        # aiohttp reports a reset as a failure to write (the close reply it tries to send).
        return "the API server dropped the connection"
    return f"the connection to the API server broke ({type(error).__name__}: {error})"


class ExecStream:
    # A peer that no longer reads (its side is stuck) never answers our close frame: past this
    # the connection is dropped instead of waited for.
    CLOSE_TIMEOUT = 2.0

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.protocol = ws.protocol or V4
        self.status: ExitStatus | None = None
        # Why the stream ended without a status (None while open or once a status arrived).
        self.ended: str | None = None

    @property
    def can_close_stdin(self) -> bool:
        return self.protocol == V5

    async def send_stdin(self, data: bytes) -> None:
        """KubeStreamBroken when the peer closed or reset the stream under us."""
        if data and not self._ws.closed:
            try:
                await self._ws.send_bytes(encode_frame(STDIN, data))
            except (aiohttp.ClientError, ConnectionError) as e:
                raise KubeStreamBroken(f"the exec stream broke while sending input: {e!r}") from e

    async def close_stdin(self) -> None:
        if not self.can_close_stdin:
            raise StdinCloseUnsupported(
                "The cluster's exec stream does not support closing stdin (v5.channel.k8s.io is needed)."
            )
        if not self._ws.closed:
            try:
                await self._ws.send_bytes(bytes([CLOSE, STDIN]))
            except (aiohttp.ClientError, ConnectionError) as e:
                raise KubeStreamBroken(f"the exec stream broke while closing input: {e!r}") from e

    async def resize(self, width: int, height: int) -> None:
        if not self._ws.closed:
            await self._ws.send_bytes(resize_frame(width, height))

    async def frames(self) -> AsyncIterator[tuple[int, bytes]]:
        """Output frames (channel, payload) until the channel-3 status (which sets ``status``
        and ends the iteration: the process is over) or the end of the stream (``status`` stays
        None and ``ended`` says why)."""
        while True:
            msg = await self._ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                channel, payload = decode_frame(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:  # base64 protocols are not negotiated by us
                channel, payload = decode_frame(msg.data.encode())
            elif msg.type == aiohttp.WSMsgType.CLOSE:
                self.ended = describe_end(close_code=int(msg.data), error=None)
                return
            elif msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                error = msg.data if isinstance(msg.data, BaseException) else self._ws.exception()
                self.ended = describe_end(close_code=None, error=error)
                return
            else:
                continue
            if channel == ERROR:
                self.status = parse_status(payload)
                return
            if payload:
                yield channel, payload

    async def close(self) -> None:
        try:
            async with asyncio.timeout(self.CLOSE_TIMEOUT):
                await self._ws.close()
        except TimeoutError:
            pass  # aiohttp drops the connection when its close is cancelled


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
