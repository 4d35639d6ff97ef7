"""The websocket side of attach and interactive exec: a client connects with the single-use
token ``Sessions`` minted, on whichever replica it reaches; the token is taken (atomically,
so it works once across replicas), the container checked, and its Kubernetes stream opened.
Terminal resizes sent as REST calls to any replica reach the stream's replica through the
state store (``resizes``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from zunk8s.errors import Conflict, Unauthorized
from zunk8s.kube.gateway import KubeGateway
from zunk8s.kube.streams import ExecStream
from zunk8s.service.registry import Entry, Registry
from zunk8s.state.keys import stream_id_for, terminal_size_key
from zunk8s.state.protocol import StateStore
from zunk8s.translate.names import CONTAINER_NAME


class NotRunning(Conflict):
    title = "Conflict"


@dataclass(frozen=True)
class Connection:
    """An accepted websocket client: the container, and what to open in it."""

    entry: Entry
    exec_command: list[str] | None  # None: attach to the main process
    stream_id: str


@dataclass
class Resizes:
    """Resizes for one stream: the last size asked before it opened, then each new one."""

    pending: dict[str, Any] | None
    queue: asyncio.Queue[dict[str, Any]]


class Connections:
    def __init__(self, *, gateway: KubeGateway, store: StateStore, registry: Registry) -> None:
        self._gw = gateway
        self._store = store
        self._registry = registry

    async def accept(self, *, token: str, uuid: str, exec_id: str | None) -> Connection:
        """Take the token (single use) and check it names this container (and exec), and that
        the container runs. Unauthorized (401) or NotRunning (409) otherwise."""
        session = await self._store.take_token(token) if token else None
        if session is None or uuid not in (session.get("uuid"), ""):
            raise Unauthorized("Invalid, used or expired websocket token")
        is_exec = session.get("kind") == "exec"
        if is_exec and exec_id != session.get("exec_id"):
            raise Unauthorized("Token does not match exec_id")
        key = (str(session["namespace"]), str(session["uuid"]))
        entry = self._registry.entry(key)
        if entry is None or entry.status.pod is None or entry.status.status != "Running":
            entry = await self._registry.fresh(key)  # this replica's cache may lag the writer's
        if entry is None or entry.status.pod is None or entry.status.status != "Running":
            raise NotRunning("The container is not running")
        return Connection(
            entry=entry,
            exec_command=list(session["command"]) if is_exec else None,
            stream_id=stream_id_for(uuid=entry.uuid, exec_id=exec_id if is_exec else None),
        )

    async def open(self, connection: Connection) -> ExecStream:
        """The container's exec (a terminal) or attach stream (a terminal if it has a tty)."""
        entry = connection.entry
        is_exec = connection.exec_command is not None
        return await self._gw.open_stream(
            "exec" if is_exec else "attach",
            namespace=entry.namespace,
            pod=str(entry.status.pod),
            container=CONTAINER_NAME,
            command=connection.exec_command,
            stdin=True,
            stdout=True,
            stderr=True,
            tty=True if is_exec else entry.record.tty,
        )

    @asynccontextmanager
    async def resizes(self, stream_id: str) -> AsyncIterator[Resizes]:
        async with self._store.subscribe(stream_id) as queue:
            pending = await self._store.get_value(terminal_size_key(stream_id))
            yield Resizes(pending=pending, queue=queue)
