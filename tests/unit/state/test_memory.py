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


async def test_memory_groups_hold_members_until_the_group_expires() -> None:
    store = MemoryStore()
    assert await store.members("g") == {}
    await store.put_member("g", "a", {"n": 1}, ttl=60)
    await store.put_member("g", "b", {"n": 2}, ttl=60)
    await store.put_member("g", "a", {"n": 3}, ttl=60)
    assert await store.members("g") == {"a": {"n": 3}, "b": {"n": 2}}
    await store.drop_members("g", "a", "nobody")
    assert await store.members("g") == {"b": {"n": 2}}
    assert await store.members("other") == {}
    await store.put_member("g", "c", {}, ttl=-1)  # the group's last write says: forget it now
    assert await store.members("g") == {}
