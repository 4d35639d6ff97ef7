"""A scripted exec websocket for unit tests of kube/streams.py and service/commands.py:
channel frames in, stdin frames out."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import aiohttp

from zunk8s.kube.streams import V5

SUCCESS = b'{"status": "Success"}'


def msg(kind: aiohttp.WSMsgType, data: object = None) -> SimpleNamespace:
    return SimpleNamespace(type=kind, data=data, extra=None)


def frame(channel: int, payload: bytes) -> SimpleNamespace:
    return msg(aiohttp.WSMsgType.BINARY, bytes([channel]) + payload)


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
