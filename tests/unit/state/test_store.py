"""Choosing the state store from the settings."""

from zunk8s.state.memory import MemoryStore
from zunk8s.state.protocol import StateStore
from zunk8s.state.redis import RedisStore
from zunk8s.state.store import make_store


async def test_make_store_picks_the_backend_the_settings_ask_for() -> None:
    memory: StateStore = make_store(None)
    redis: StateStore = make_store("redis://127.0.0.1:1/0")
    try:
        assert isinstance(memory, MemoryStore) and isinstance(redis, RedisStore)
    finally:
        await redis.close()
