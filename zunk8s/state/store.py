"""Choosing the state store: Redis when a URL is configured, else the in-process store."""

from __future__ import annotations

from zunk8s.state.memory import MemoryStore
from zunk8s.state.protocol import StateStore
from zunk8s.state.redis import RedisStore


def make_store(redis_url: str | None) -> StateStore:
    """The backend the settings ask for; mypy checks here that both satisfy ``StateStore``."""
    return RedisStore(redis_url) if redis_url else MemoryStore()
