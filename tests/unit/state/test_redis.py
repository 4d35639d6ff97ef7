"""The Redis store's pure parts: lock renewal and loss, resubscription backoff, the Redis
error mapping and the client's retry setting (no Redis server needed)."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockNotOwnedError

from zunk8s.errors import BackendUnavailable
from zunk8s.state.protocol import LockHandle
from zunk8s.state.redis import RESUBSCRIBE_CAP, RedisStore, _unavailable, renew_lock, resubscribe_delay


class FakeLock:
    """Answers reacquire() from a script: None = renewed, an exception = raised."""

    def __init__(self, *outcomes: BaseException | None, then: BaseException | None = None) -> None:
        self.outcomes = list(outcomes)
        self.then = then
        self.calls = 0

    async def reacquire(self) -> bool:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else self.then
        if outcome is not None:
            raise outcome
        return True


async def _renew_for(lk: FakeLock, ttl: float, seconds: float) -> LockHandle:
    handle = LockHandle()
    task = asyncio.create_task(renew_lock(lk, ttl, handle, acquired_at=time.monotonic()))
    try:
        await asyncio.wait_for(handle.lost.wait(), seconds)
    except TimeoutError:
        pass
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return handle


async def test_a_renewed_lock_is_kept() -> None:
    lk = FakeLock()
    handle = await _renew_for(lk, ttl=0.3, seconds=0.8)
    assert not handle.lost.is_set()
    assert lk.calls >= 2


async def test_a_lock_no_longer_ours_is_lost_at_the_next_renewal() -> None:
    # Redis flushed or restarted: the key is gone, redis-py's reacquire says it is not ours.
    began = time.monotonic()
    handle = await _renew_for(FakeLock(LockNotOwnedError("gone")), ttl=0.6, seconds=2)
    assert handle.lost.is_set()
    assert time.monotonic() - began < 0.4  # one renewal period (ttl/3), not the whole TTL


async def test_a_lock_that_cannot_be_renewed_is_lost_before_its_ttl_runs_out() -> None:
    began = time.monotonic()
    lk = FakeLock(then=RedisConnectionError("down"))
    handle = await _renew_for(lk, ttl=0.6, seconds=2)
    assert handle.lost.is_set()
    assert time.monotonic() - began < 0.6
    assert lk.calls >= 2  # it kept trying meanwhile


async def test_one_failed_renewal_is_retried_and_the_lock_kept() -> None:
    lk = FakeLock(RedisConnectionError("blip"))
    handle = await _renew_for(lk, ttl=0.6, seconds=1.0)
    assert not handle.lost.is_set()


async def test_a_hanging_renewal_counts_as_failed() -> None:
    class Hanging:
        async def reacquire(self) -> bool:
            await asyncio.sleep(3600)
            return True

    handle = LockHandle()
    task = asyncio.create_task(renew_lock(Hanging(), 0.6, handle, acquired_at=time.monotonic()))
    await asyncio.wait_for(handle.lost.wait(), 1)
    await task


def test_resubscribe_backoff_doubles_up_to_a_cap() -> None:
    delays = [resubscribe_delay(n) for n in range(10)]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert delays == sorted(delays)
    assert max(delays) == RESUBSCRIBE_CAP
    assert resubscribe_delay(10_000) == RESUBSCRIBE_CAP


def test_redis_errors_become_503() -> None:
    with pytest.raises(BackendUnavailable) as caught, _unavailable():
        raise RedisConnectionError("Connection closed by server.")
    assert caught.value.status == 503
    assert "Redis unavailable" in caught.value.detail
    with pytest.raises(KeyError), _unavailable():
        raise KeyError("not a Redis error")


async def test_redis_store_retries_once_on_a_new_connection() -> None:
    # Redis.from_url drops the constructor's default Retry (it builds its own pool): without
    # an explicit one, connections do not retry at all.
    store = RedisStore("redis://127.0.0.1:1/0")
    try:
        conn = store.redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        assert conn.retry.get_retries() == 1
        assert RedisConnectionError in conn.retry._supported_errors
    finally:
        await store.close()


async def test_redis_store_calls_answer_503_when_redis_is_unreachable() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with pytest.raises(BackendUnavailable):
            await store.is_locked("u1")
        with pytest.raises(BackendUnavailable):
            async with store.lock("u1", ttl=1, wait=0):
                pass
        with pytest.raises(BackendUnavailable):
            async with store.subscribe("c"):
                pass
    finally:
        await store.close()
