"""The in-process store (one replica, no Redis)."""

from zunk8s.state.memory import MemoryStore
from zunk8s.state.protocol import LockHandle


async def test_memory_locks_yield_a_handle_never_lost() -> None:
    store = MemoryStore()
    async with store.lock("u1", ttl=1, wait=0) as held:
        assert isinstance(held, LockHandle)
        assert not held.lost.is_set()
        assert await store.is_locked("u1")
    assert not await store.is_locked("u1")
