"""The in-process state store: the single-replica default when no Redis URL is configured.

Same semantics as the Redis backend for one process: asyncio locks (a held lock cannot be
lost, so TTLs do not apply), expiring tokens, values and groups, and in-process pub/sub.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from zunk8s.state.protocol import LockBusy, LockHandle


class MemoryStore:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self._values: dict[str, tuple[float, dict[str, Any]]] = {}
        self._groups: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    @asynccontextmanager
    async def _locked(self, uuid: str, wait: float) -> AsyncIterator[LockHandle]:
        lk = self._locks.setdefault(uuid, asyncio.Lock())
        try:
            if wait <= 0:
                if lk.locked():
                    raise TimeoutError
                await lk.acquire()
            else:
                await asyncio.wait_for(lk.acquire(), timeout=wait)
        except TimeoutError:
            raise LockBusy(f"Container {uuid} is busy with another operation; try again.") from None
        try:
            yield LockHandle()  # in one process a held lock cannot be lost
        finally:
            lk.release()
            if not lk.locked() and self._locks.get(uuid) is lk:
                del self._locks[uuid]

    def lock(self, uuid: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[LockHandle]:
        return self._locked(uuid, wait)

    async def is_locked(self, uuid: str) -> bool:
        lk = self._locks.get(uuid)
        return lk is not None and lk.locked()

    async def put_token(self, token: str, data: dict[str, Any], *, ttl: int) -> None:
        self._tokens[token] = (time.monotonic() + ttl, data)

    async def take_token(self, token: str) -> dict[str, Any] | None:
        entry = self._tokens.pop(token, None)
        now = time.monotonic()
        for k in [k for k, (exp, _) in self._tokens.items() if exp < now]:
            del self._tokens[k]
        if entry is None or entry[0] < now:
            return None
        return entry[1]

    async def set_value(self, key: str, value: dict[str, Any], *, ttl: int) -> None:
        self._values[key] = (time.monotonic() + ttl, value)

    async def get_value(self, key: str) -> dict[str, Any] | None:
        entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._values.pop(key, None)
            return None
        return entry[1]

    def _group(self, group: str) -> dict[str, dict[str, Any]]:
        entry = self._groups.get(group)
        if entry is None or entry[0] < time.monotonic():
            self._groups.pop(group, None)
            return {}
        return entry[1]

    async def put_member(self, group: str, member: str, value: dict[str, Any], *, ttl: int) -> None:
        members = self._group(group)
        members[member] = value
        self._groups[group] = (time.monotonic() + ttl, members)

    async def members(self, group: str) -> dict[str, dict[str, Any]]:
        return dict(self._group(group))

    async def drop_members(self, group: str, *members: str) -> None:
        current = self._group(group)
        for member in members:
            current.pop(member, None)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            subs = self._subscribers.get(channel)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[channel]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
