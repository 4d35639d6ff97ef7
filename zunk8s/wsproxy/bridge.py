"""The websocket endpoint behind attach and interactive exec URLs.

Speaks what python-zunclient speaks (subprotocol ``binary``: raw bytes each way; ``base64``:
base64 text) and bridges it to the container's Kubernetes attach or exec stream. Output is cut
on UTF-8 character boundaries, because the client strictly decodes each frame and a split
multi-byte character would crash it; invalid bytes are replaced. Tokens are single-use and
checked before the upgrade, so a bad one gets a plain HTTP error.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog
from aiohttp import web

from zunk8s.appkeys import WS_PATH, services_of
from zunk8s.cancellation import cancel_and_wait
from zunk8s.envelope import error_response, zun_error_response
from zunk8s.kube.streams import ExecStream
from zunk8s.service.connections import Resizes
from zunk8s.service.faults import public_error

log = structlog.get_logger(__name__)
STREAMS = web.AppKey("ws_streams", set[web.WebSocketResponse])
# After the client goes away, output still in flight is given this long before we hang up.
CLOSE_GRACE = 2.0


class Utf8Framer:
    """Incremental UTF-8: never emits a partial character; holds it for the next chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> bytes:
        return self._decoder.decode(data).encode("utf-8")

    def flush(self) -> bytes:
        return self._decoder.decode(b"", final=True).encode("utf-8")


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...] = ()) -> bool:
    """Zun's _verify_origin: the Origin's host must be the Host header's host (or allowed)."""
    if not origin:
        return True
    try:
        origin_host = urlsplit(origin).hostname
        host_only = urlsplit(f"//{host}").hostname if host else None
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 literal): not an origin we allow
        return False
    return origin_host is not None and (origin_host == host_only or origin_host in allowed)


async def handle(request: web.Request) -> web.StreamResponse:
    connections = services_of(request).connections
    if not origin_allowed(request.headers.get("Origin"), request.headers.get("Host")):
        return error_response(status=403, code="", title="Forbidden", detail="Origin not allowed")
    try:
        connection = await connections.accept(
            token=request.query.get("token", ""),
            uuid=request.query.get("uuid", ""),
            exec_id=request.query.get("exec_id"),
        )
    except Exception as e:  # checked before the upgrade: a bad token gets a plain HTTP error
        public = public_error(e)
        if public is None:
            raise
        return zun_error_response(public)
    uuid = connection.entry.uuid
    ws = web.WebSocketResponse(protocols=("binary", "base64"), heartbeat=30, max_msg_size=0)
    await ws.prepare(request)
    b64 = ws.ws_protocol == "base64"
    try:
        stream = await connections.open(connection)
    except Exception as e:  # the client sees a close reason instead of a hang
        log.warning("stream_open_failed", uuid=uuid, error=str(e))
        await ws.close(code=aiohttp.WSCloseCode.INTERNAL_ERROR, message=b"cannot open the container stream")
        return ws
    request.app[STREAMS].add(ws)
    try:
        async with connections.resizes(connection.stream_id) as resizes:
            await _bridge(ws, stream, resizes, stream_id=connection.stream_id, b64=b64, uuid=uuid)
    finally:
        request.app[STREAMS].discard(ws)
        await stream.close()
        if not ws.closed:
            await ws.close(code=aiohttp.WSCloseCode.OK, message=b"Target closed")
    return ws


async def _bridge(
    ws: web.WebSocketResponse, stream: ExecStream, resizes: Resizes, *, stream_id: str, b64: bool, uuid: str
) -> None:
    if resizes.pending is not None:
        await stream.resize(int(resizes.pending["w"]), int(resizes.pending["h"]))
    pumps = {
        "pod_to_client": asyncio.create_task(_pod_to_client(ws, stream, b64=b64)),
        "client_to_pod": asyncio.create_task(_client_to_pod(ws, stream, b64=b64)),
        "resizes": asyncio.create_task(_resizes(stream, resizes.queue)),
    }
    output, client = pumps["pod_to_client"], pumps["client_to_pod"]
    try:
        done, _ = await asyncio.wait(pumps.values(), return_when=asyncio.FIRST_COMPLETED)
        if client in done and not output.done():
            # The client left: end stdin (v5) and let the last output drain briefly.
            try:
                await stream.close_stdin()
            except Exception as e:  # v4 cannot, or the stream is already gone
                log.info("ws_stdin_close_failed", uuid=uuid, stream_id=stream_id, error=repr(e))
            await asyncio.wait([output], timeout=CLOSE_GRACE)
    finally:
        await cancel_and_wait(*pumps.values())
        for name, t in pumps.items():
            error = None if t.cancelled() else t.exception()
            if error is not None:  # the client still gets its close; say here what broke
                log.warning("ws_pump_failed", uuid=uuid, stream_id=stream_id, pump=name, error=repr(error))
    if stream.status is None and stream.ended is not None:
        log.info("ws_stream_ended_without_status", uuid=uuid, stream_id=stream_id, why=stream.ended)


async def _pod_to_client(ws: web.WebSocketResponse, stream: ExecStream, *, b64: bool) -> None:
    framer = Utf8Framer()
    async for _channel, payload in stream.frames():
        await _send(ws, framer.feed(payload), b64=b64)
    await _send(ws, framer.flush(), b64=b64)


async def _send(ws: web.WebSocketResponse, data: bytes, *, b64: bool) -> None:
    if not data or ws.closed:
        return
    try:
        if b64:
            await ws.send_str(base64.b64encode(data).decode())
        else:
            await ws.send_bytes(data)
    except ConnectionResetError:
        pass  # the client went away; the other pump notices


async def _client_to_pod(ws: web.WebSocketResponse, stream: ExecStream, *, b64: bool) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.BINARY:
            data = msg.data
        elif msg.type == aiohttp.WSMsgType.TEXT:
            data = base64.b64decode(msg.data) if b64 else msg.data.encode()
        else:
            break
        await stream.send_stdin(data)


async def _resizes(stream: ExecStream, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        size = await queue.get()
        await stream.resize(int(size["w"]), int(size["h"]))


async def close_all(app: web.Application) -> None:
    streams = app[STREAMS]
    for ws in list(streams):
        await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"Server shutdown")


def setup(app: web.Application) -> None:
    streams: set[web.WebSocketResponse] = set()
    app[STREAMS] = streams
    app.router.add_get(WS_PATH, handle)
    app.router.add_get(WS_PATH.rstrip("/"), handle)
    app.on_shutdown.append(close_all)
