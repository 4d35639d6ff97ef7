"""Attach and interactive exec sessions: websocket URLs, single-use tokens, resize routing.

``attach`` and ``execute`` (run=false) only mint a URL with a random single-use token that
expires after ``ws_token_ttl``; the stream is opened when the client connects (wsproxy), on
whichever replica it reaches. Resizes arrive as separate REST calls, possibly on another
replica: they are published on the store's pub/sub (so the replica holding the stream
applies them) and also remembered, so a size sent before the stream is up applies when it is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from zunk8s.errors import InvalidValue, NoInteractiveFlag
from zunk8s.schemas.params import ascii_int, shown
from zunk8s.service.commands import split_command
from zunk8s.service.lifecycle import ContainerService
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.state.store import new_token

# An exec session that nobody connects to is forgotten after this long.
EXEC_SESSION_TTL = 3600
SIZE_TTL = 3600


def exec_key(exec_id: str) -> str:
    return f"exec:{exec_id}"


def size_key(stream_id: str) -> str:
    return f"size:{stream_id}"


def stream_id_for(*, uuid: str, exec_id: str | None) -> str:
    return f"exec:{exec_id}" if exec_id else f"attach:{uuid}"


@dataclass(frozen=True)
class ExecSession:
    exec_id: str
    proxy_url: str


def _ws_url(ws_base: str, **params: str) -> str:
    return f"{ws_base}?{urlencode(params)}"


async def attach_url(service: ContainerService, entry: Entry, *, ws_base: str) -> str:
    check_state("attach", uuid=entry.uuid, status=entry.status.status)
    if not entry.record.interactive:
        raise NoInteractiveFlag(
            "Container doesn't support to be attached, please check the interactive set properly"
        )
    token = new_token()
    await service.store.put_token(
        token,
        {"kind": "attach", "uuid": entry.uuid, "namespace": entry.namespace},
        ttl=service.settings.ws_token_ttl,
    )
    return _ws_url(ws_base, token=token, uuid=entry.uuid)


async def create_exec(service: ContainerService, entry: Entry, command: str, *, ws_base: str) -> ExecSession:
    check_state("execute", uuid=entry.uuid, status=entry.status.status)
    argv = split_command(command)
    # Docker's exec ids are 64 hex digits; python-zunclient and Zun's schema expect that shape.
    exec_id = secrets.token_hex(32)
    session = {"kind": "exec", "uuid": entry.uuid, "namespace": entry.namespace, "exec_id": exec_id, "command": argv}
    await service.store.set_value(exec_key(exec_id), session, ttl=EXEC_SESSION_TTL)
    token = new_token()
    await service.store.put_token(token, session, ttl=service.settings.ws_token_ttl)
    return ExecSession(exec_id=exec_id, proxy_url=_ws_url(ws_base, token=token, uuid=entry.uuid, exec_id=exec_id))


# A terminal's rows and columns travel as uint16 in the resize channel (kubelet's TerminalSize).
MAX_TERMINAL_SIDE = 65535


def parse_size(params: dict[str, Any]) -> tuple[int, int]:
    out = []
    for key in ("w", "h"):
        raw = params.get(key)
        value = ascii_int(raw) if isinstance(raw, str) else raw if type(raw) is int else None
        if value is None or not 1 <= value <= MAX_TERMINAL_SIDE:
            raise InvalidValue(
                f"Invalid input for query parameters '{key}'. Value: '{shown(raw)}'. "
                f"It must be a whole number from 1 to {MAX_TERMINAL_SIDE}."
            )
        out.append(value)
    return out[0], out[1]


async def resize(service: ContainerService, entry: Entry, *, width: int, height: int, exec_id: str | None) -> None:
    check_state("execute_resize" if exec_id else "resize", uuid=entry.uuid, status=entry.status.status)
    if exec_id is not None:
        session = await service.store.get_value(exec_key(exec_id))
        if session is None or session.get("uuid") != entry.uuid:
            # Docker answers an unknown exec with 400 "no such exec instance"; zunclient
            # tolerates 400 for resizes that race the stream's start.
            raise InvalidValue(f"no such exec instance: {exec_id}")
    stream = stream_id_for(uuid=entry.uuid, exec_id=exec_id)
    size = {"w": width, "h": height}
    await service.store.set_value(size_key(stream), size, ttl=SIZE_TTL)
    await service.store.publish(stream, size)


def check_exec_id(exec_id: Any) -> str:
    text = exec_id if isinstance(exec_id, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidValue(f"Invalid input for query parameters 'exec_id'. Value: '{shown(text)}'. It must be 64 hex digits.")
    return text
