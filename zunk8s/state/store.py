"""The state-store interface and its Redis and in-process backends."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from zunk8s.errors import BackendUnavailable, Conflict


def lock_key(uuid: str) -> str:
    return f"zunk8s:lock:{uuid}"


def token_key(token: str) -> str:
    return f"zunk8s:wstoken:{token}"


class LockBusy(Conflict):
    code = "conflict"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class MemoryStore:
    """Single-process backend: asyncio locks with the same TTL-less semantics for one replica."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self._values: dict[str, tuple[float, dict[str, Any]]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    @asynccontextmanager
    async def _locked(self, uuid: str, wait: float) -> AsyncIterator[None]:
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
            yield
        finally:
            lk.release()
            if not lk.locked() and self._locks.get(uuid) is lk:
                del self._locks[uuid]

    def lock(self, uuid: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
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


class RedisStore:
    def __init__(self, url: str) -> None:
        self.redis: aioredis.Redis = aioredis.Redis.from_url(url, decode_responses=True, health_check_interval=30)

    @asynccontextmanager
    async def _locked(self, uuid: str, ttl: float, wait: float) -> AsyncIterator[None]:
        # A fresh Lock per critical section with thread_local=False: every asyncio task shares
        # one thread, so redis-py's default thread-local token would be shared between tasks.
        lk = self.redis.lock(lock_key(uuid), timeout=ttl, blocking_timeout=wait, thread_local=False)
        try:
            acquired = await lk.acquire()
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e
        if not acquired:
            raise LockBusy(f"Container {uuid} is busy with another operation; try again.")
        renewer = asyncio.create_task(self._renew(lk, ttl))
        try:
            yield
        finally:
            renewer.cancel()
            with suppress(asyncio.CancelledError):
                await renewer
            try:
                await lk.release()
            except (LockError, RedisError):
                pass  # expired: another replica may already have re-driven the task

    @staticmethod
    async def _renew(lk: Any, ttl: float) -> None:
        """Keep a held lock alive, so its TTL only matters when the holder dies."""
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await lk.reacquire()
            except (LockError, RedisError):
                return

    def lock(self, uuid: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        return self._locked(uuid, ttl, wait)

    async def is_locked(self, uuid: str) -> bool:
        try:
            return bool(await self.redis.exists(lock_key(uuid)))
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e

    async def put_token(self, token: str, data: dict[str, Any], *, ttl: int) -> None:
        try:
            await self.redis.set(token_key(token), json.dumps(data), ex=ttl)
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e

    async def take_token(self, token: str) -> dict[str, Any] | None:
        try:
            raw = await self.redis.getdel(token_key(token))  # atomic: single use across replicas
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e
        return None if raw is None else dict(json.loads(raw))

    async def set_value(self, key: str, value: dict[str, Any], *, ttl: int) -> None:
        try:
            await self.redis.set(f"zunk8s:value:{key}", json.dumps(value), ex=ttl)
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e

    async def get_value(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self.redis.get(f"zunk8s:value:{key}")
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e
        return None if raw is None else dict(json.loads(raw))

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """At-most-once notification to whichever replica holds the stream."""
        try:
            await self.redis.publish(f"zunk8s:chan:{channel}", json.dumps(message))
        except RedisError as e:
            raise BackendUnavailable(f"Redis unavailable: {e}") from e

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(f"zunk8s:chan:{channel}")

        async def pump() -> None:
            async for msg in pubsub.listen():
                if msg.get("type") == "message":
                    queue.put_nowait(dict(json.loads(msg["data"])))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError, RedisError):
                await task
            with suppress(RedisError):
                await pubsub.unsubscribe()
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


StateStore = MemoryStore | RedisStore


def make_store(redis_url: str | None) -> StateStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
