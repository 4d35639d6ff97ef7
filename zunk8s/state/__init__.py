"""Fast, shared, rebuildable state: per-container locks and single-use websocket tokens.

Two backends with the same semantics: Redis (several replicas share the work) and an
in-process store (the single-replica default when no Redis URL is configured). Nothing
here is the source of truth for a container; losing it loses no container.

``protocol`` is what callers use (``StateStore``, ``LockHandle``, ``LockBusy``); ``keys``
builds every stored name (and new websocket tokens); ``store.make_store`` picks the backend
(``memory.MemoryStore`` or ``redis.RedisStore``).
"""
