"""Attach and interactive exec sessions: websocket URLs, single-use tokens, resize routing.

``attach`` and ``execute`` (run=false) only mint a URL with a random single-use token that
expires after ``token_ttl``; the stream is opened when the client connects (wsproxy), on
whichever replica it reaches. Resizes arrive as separate REST calls, possibly on another
replica: they are published on the store's pub/sub (so the replica holding the stream
applies them) and also remembered, so a size sent before the stream is up applies when it is.
attach, execute and a resize of the attached terminal are logged (service/actionlog.py) once
their URL is minted or their size sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from zunk8s.errors import InvalidValue, NoInteractiveFlag
from zunk8s.service.actionlog import ActionLog
from zunk8s.service.context import Caller
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.state.keys import exec_session_key, new_token, stream_id_for, terminal_size_key
from zunk8s.state.protocol import StateStore
from zunk8s.translate.commandline import split_command

# An exec session that nobody connects to is forgotten after this long.
EXEC_SESSION_TTL = 3600
SIZE_TTL = 3600


@dataclass(frozen=True)
class ExecSession:
    exec_id: str
    proxy_url: str


def _ws_url(ws_base: str, **params: str) -> str:
    return f"{ws_base}?{urlencode(params)}"


class Sessions:
    """Mint websocket URLs for attach / interactive exec, and route terminal resizes."""

    def __init__(self, store: StateStore, *, token_ttl: int, actions: ActionLog) -> None:
        self._store = store
        self.token_ttl = token_ttl
        self._actions = actions

    async def attach_url(self, caller: Caller, entry: Entry, *, ws_base: str) -> str:
        """The websocket URL to attach to the container's main process (an interactive one)."""
        check_state("attach", uuid=entry.uuid, status=entry.status.status)
        if not entry.record.interactive:
            raise NoInteractiveFlag(
                "Container doesn't support to be attached, please check the interactive set properly"
            )
        token = new_token()
        async with self._actions.recorded(caller, entry, "attach"):
            await self._store.put_token(
                token,
                {"kind": "attach", "uuid": entry.uuid, "namespace": entry.namespace},
                ttl=self.token_ttl,
            )
        return _ws_url(ws_base, token=token, uuid=entry.uuid)

    async def create_exec(self, caller: Caller, entry: Entry, command: str, *, ws_base: str) -> ExecSession:
        """An exec session, started when its websocket URL is connected (Zun's run=false)."""
        check_state("execute", uuid=entry.uuid, status=entry.status.status)
        argv = split_command(command)
        # Docker's exec ids are 64 hex digits; python-zunclient and Zun's schema expect that shape.
        exec_id = secrets.token_hex(32)
        session = {
            "kind": "exec",
            "uuid": entry.uuid,
            "namespace": entry.namespace,
            "exec_id": exec_id,
            "command": argv,
        }
        token = new_token()
        async with self._actions.recorded(caller, entry, "execute"):
            await self._store.set_value(exec_session_key(exec_id), session, ttl=EXEC_SESSION_TTL)
            await self._store.put_token(token, session, ttl=self.token_ttl)
        return ExecSession(exec_id=exec_id, proxy_url=_ws_url(ws_base, token=token, uuid=entry.uuid, exec_id=exec_id))

    async def resize(self, caller: Caller, entry: Entry, *, width: int, height: int, exec_id: str | None) -> None:
        """Resize the attach stream's terminal (``exec_id`` None) or an exec session's."""
        check_state("execute_resize" if exec_id else "resize", uuid=entry.uuid, status=entry.status.status)
        if exec_id is not None:
            session = await self._store.get_value(exec_session_key(exec_id))
            if session is None or session.get("uuid") != entry.uuid:
                # Docker answers an unknown exec with 400 "no such exec instance"; zunclient
                # tolerates 400 for resizes that race the stream's start.
                raise InvalidValue(f"no such exec instance: {exec_id}")
        stream = stream_id_for(uuid=entry.uuid, exec_id=exec_id)
        size = {"w": width, "h": height}
        # Not logged: Zun names "resize" but never records it, and clients send one on every
        # window change, which would push real actions out of the bounded log.
        await self._store.set_value(terminal_size_key(stream), size, ttl=SIZE_TTL)
        await self._store.publish(stream, size)
