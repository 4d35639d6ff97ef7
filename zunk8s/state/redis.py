"""The Redis state store: several replicas share locks, tokens, values, groups and pub/sub.

Every Redis call goes through ``_unavailable``, so a Redis that cannot be reached is the
API's 503 (``BackendUnavailable``) and no redis-py exception reaches a caller. Held locks
are renewed in the background (``renew_lock``); subscriptions are made again after a Redis
restart (``resubscribe_delay``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import LockError, RedisError

from zunk8s.cancellation import cancel_and_wait
from zunk8s.errors import BackendUnavailable
from zunk8s.state.keys import channel_key, group_key, lock_key, token_key, value_key
from zunk8s.state.protocol import LockBusy, LockHandle

log = structlog.get_logger(__name__)

# A broken subscription is made again after 0.1 s, 0.2 s, 0.4 s … at most 5 s apart.
RESUBSCRIBE_BASE = 0.1
RESUBSCRIBE_CAP = 5.0


def resubscribe_delay(failures: int) -> float:
    """Seconds before the next attempt to restore a broken subscription: doubling, capped."""
    return float(min(RESUBSCRIBE_CAP, RESUBSCRIBE_BASE * 2 ** min(failures, 16)))


@contextmanager
def _unavailable() -> Iterator[None]:
    """Redis failures become the API's 503 (``BackendUnavailable``)."""
    try:
        yield
    except RedisError as e:
        raise BackendUnavailable(f"Redis unavailable: {e}") from e


class RedisStore:
    def __init__(self, url: str) -> None:
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=30,
            # ``Redis.from_url`` builds its pool from the URL and drops the constructor's default
            # Retry (10 tries): a connection that Redis closed (restart) then fails its next
            # command with "Connection closed by server". One retry reconnects and sends it
            # again; a Redis that is really down still answers 503 at once.
            retry=Retry(NoBackoff(), 1),
            # A Redis that drops packets must not hold a request (or a lock renewal) for minutes.
            socket_connect_timeout=5,
        )

    @asynccontextmanager
    async def _locked(self, uuid: str, ttl: float, wait: float) -> AsyncIterator[LockHandle]:
        # A fresh Lock per critical section with thread_local=False: every asyncio task shares
        # one thread, so redis-py's default thread-local token would be shared between tasks.
        lk = self.redis.lock(lock_key(uuid), timeout=ttl, blocking_timeout=wait, thread_local=False)
        asked = time.monotonic()  # the key's TTL runs from no earlier than this
        with _unavailable():
            acquired = await lk.acquire()
        if not acquired:
            raise LockBusy(f"Container {uuid} is busy with another operation; try again.")
        handle = LockHandle()
        renewer = asyncio.create_task(renew_lock(lk, ttl, handle, acquired_at=asked))
        try:
            yield handle
        finally:
            await cancel_and_wait(renewer)
            try:
                await lk.release()
            except (LockError, RedisError):
                pass  # expired: another replica may already have re-driven the task

    def lock(self, uuid: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[LockHandle]:
        return self._locked(uuid, ttl, wait)

    async def is_locked(self, uuid: str) -> bool:
        with _unavailable():
            return bool(await self.redis.exists(lock_key(uuid)))

    async def put_token(self, token: str, data: dict[str, Any], *, ttl: int) -> None:
        with _unavailable():
            await self.redis.set(token_key(token), json.dumps(data), ex=ttl)

    async def take_token(self, token: str) -> dict[str, Any] | None:
        with _unavailable():
            raw = await self.redis.getdel(token_key(token))  # atomic: single use across replicas
        return None if raw is None else dict(json.loads(raw))

    async def set_value(self, key: str, value: dict[str, Any], *, ttl: int) -> None:
        with _unavailable():
            await self.redis.set(value_key(key), json.dumps(value), ex=ttl)

    async def get_value(self, key: str) -> dict[str, Any] | None:
        with _unavailable():
            raw = await self.redis.get(value_key(key))
        return None if raw is None else dict(json.loads(raw))

    async def put_member(self, group: str, member: str, value: dict[str, Any], *, ttl: int) -> None:
        # One hash per group: a replica lists its peers with one HGETALL, not a SCAN of the
        # whole keyspace (locks, tokens, values of every installation sharing this Redis).
        key = group_key(group)
        with _unavailable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, member, json.dumps(value))
                pipe.expire(key, ttl)
                await pipe.execute()

    async def members(self, group: str) -> dict[str, dict[str, Any]]:
        with _unavailable():
            raw = await self.redis.hgetall(group_key(group))
        # decode_responses=True: str keys and values (redis-py types them as bytes | str).
        return {str(member): dict(json.loads(value)) for member, value in raw.items()}

    async def drop_members(self, group: str, *members: str) -> None:
        if members:
            with _unavailable():
                await self.redis.hdel(group_key(group), *members)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """At-most-once notification to whichever replica holds the stream."""
        with _unavailable():
            await self.redis.publish(channel_key(channel), json.dumps(message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """Messages on ``channel`` for as long as the context is open, across Redis restarts:
        a broken subscription is made again (with capped backoff) until the context closes."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        name = channel_key(channel)
        pubsub = self.redis.pubsub()
        try:
            with _unavailable():
                await pubsub.subscribe(name)
        except BaseException:
            await _close_pubsub(pubsub)
            raise
        task = asyncio.create_task(self._pump(pubsub, name, queue), name=f"subscription:{channel}")
        try:
            yield queue
        finally:
            await cancel_and_wait(task)

    async def _pump(self, pubsub: PubSub, name: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        current: PubSub | None = pubsub
        failures = 0
        try:
            while True:
                try:
                    if current is None:
                        current = self.redis.pubsub()
                        await current.subscribe(name)
                        log.info("redis_resubscribed", channel=name, attempts=failures)
                    failures = 0
                    async for msg in current.listen():
                        if msg.get("type") == "message":
                            queue.put_nowait(dict(json.loads(msg["data"])))
                    # listen() returns only once nothing is subscribed: subscribe again.
                except RedisError as e:  # not a 503: nobody is waiting on this call; retry
                    if failures == 0:
                        log.warning("redis_subscription_broken", channel=name, error=str(e))
                if current is not None:
                    await _close_pubsub(current)
                    current = None
                await asyncio.sleep(resubscribe_delay(failures))
                failures += 1
        finally:
            if current is not None:
                await _close_pubsub(current)

    async def ping(self) -> None:
        with _unavailable():
            await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


async def _close_pubsub(pubsub: PubSub) -> None:
    with suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call]


class Renewable(Protocol):
    """The part of redis-py's asyncio ``Lock`` that renewal uses."""

    def reacquire(self) -> Awaitable[bool]: ...


async def renew_lock(lk: Renewable, ttl: float, handle: LockHandle, *, acquired_at: float) -> None:
    """Keep a held lock alive, so its TTL only matters when the holder dies; set
    ``handle.lost`` once the lock may no longer be ours: a renewal finds another token (or
    none: Redis was flushed or restarted), or renewals keep failing until the TTL would run
    out (another replica may take the lock from then on)."""
    valid_until = acquired_at + ttl
    # Give up this long before our own reckoning of the expiry: the holder needs time to stop.
    margin = ttl / 10
    delay = ttl / 3
    while True:
        await asyncio.sleep(max(0.0, min(delay, valid_until - margin - time.monotonic())))
        attempt = time.monotonic()
        try:
            await asyncio.wait_for(lk.reacquire(), timeout=max(0.001, valid_until - margin - attempt))
        except LockError:  # LockNotOwnedError among them
            handle.lost.set()
            return
        except (RedisError, OSError, TimeoutError):
            if time.monotonic() >= valid_until - margin:
                handle.lost.set()
                return
            delay = margin  # retry soon, while the lock is still ours
        else:
            valid_until = attempt + ttl
            delay = ttl / 3
