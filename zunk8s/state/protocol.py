"""What callers may ask of the state store, whichever backend serves it.

``StateStore`` lists exactly the operations the service uses; ``MemoryStore``
(state/memory.py) and ``RedisStore`` (state/redis.py) both satisfy it, which mypy checks
where ``make_store`` (state/store.py) returns either as a ``StateStore``.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from zunk8s.errors import Conflict


class LockBusy(Conflict):
    """Another holder has the lock (rendered as Zun's ``conflict`` fault, 409)."""


class LockHandle:
    """What the holder of a lock gets. ``lost`` is set when the lock may no longer be ours
    although the holder has not left it (Redis flushed or restarted, or renewals failing for a
    whole TTL): whoever must be the only holder (the leading reconciler) stops at once."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()


class StateStore(Protocol):
    """Locks, single-use tokens, short-lived values, groups and pub/sub. Every call may raise
    ``BackendUnavailable`` (503) when the backend cannot be reached."""

    def lock(self, uuid: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[LockHandle]:
        """Hold the lock named ``uuid`` for the ``async with`` block, kept alive meanwhile (``ttl``
        bounds it only if the holder dies); wait at most ``wait`` seconds, else ``LockBusy``."""
        ...

    async def is_locked(self, uuid: str) -> bool: ...

    async def put_token(self, token: str, data: dict[str, Any], *, ttl: int) -> None: ...

    async def take_token(self, token: str) -> dict[str, Any] | None:
        """The token's data, once: a second take (on any replica) or an expired token gives None."""
        ...

    async def set_value(self, key: str, value: dict[str, Any], *, ttl: int) -> None: ...

    async def get_value(self, key: str) -> dict[str, Any] | None: ...

    async def put_member(self, group: str, member: str, value: dict[str, Any], *, ttl: int) -> None:
        """Add or replace ``member`` of ``group``. Members do not expire one by one (whoever
        reads them judges their age); the whole group is forgotten ``ttl`` seconds after its
        last write."""
        ...

    async def members(self, group: str) -> dict[str, dict[str, Any]]:
        """Every member of ``group`` and its value, read at once."""
        ...

    async def drop_members(self, group: str, *members: str) -> None: ...

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """At-most-once delivery to whoever is subscribed to ``channel`` right now."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]:
        """A queue of the messages published on ``channel`` while the context is open."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
