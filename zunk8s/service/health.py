"""Whether zunk8s can serve: its dependencies (Redis, the Kubernetes API) and what the
cluster supports, for /healthz, /readyz and /zunk8s/capabilities."""

from __future__ import annotations

import asyncio
from typing import Any

from zunk8s.kube.gateway import KubeGateway
from zunk8s.state.protocol import StateStore

# A dependency check must answer a probe quickly, even when Redis drops packets.
PROBE_TIMEOUT = 2.0


class Health:
    def __init__(self, *, gateway: KubeGateway, store: StateStore, redis: bool) -> None:
        self._gw = gateway
        self._store = store
        self._redis = redis

    async def dependencies(self) -> dict[str, dict[str, Any]]:
        """Each dependency: reachable or not (and why). Redis is pinged (bounded); Kubernetes
        is judged by the gateway's own reachability (kube/reachability.py), so a probe never
        waits on it."""
        checks: dict[str, dict[str, Any]] = {}
        if self._redis:
            try:
                await asyncio.wait_for(self._store.ping(), PROBE_TIMEOUT)
                checks["redis"] = {"ok": True}
            except Exception as e:  # any failure means "down"; the probe itself must not fail
                checks["redis"] = {"ok": False, "detail": f"{type(e).__name__}: {e}"}
        gw = self._gw
        checks["kubernetes"] = {"ok": True} if gw.reachable else {"ok": False, "detail": gw.unavailable_error().detail}
        checks["caches"] = {"ok": True} if gw.synced else {"ok": False, "detail": "the watch caches have not listed yet"}
        return checks

    def capabilities(self) -> dict[str, Any]:
        """What the cluster supports (detected at start-up, or learned on first use) and how
        this replica keeps its shared state."""
        return {**self._gw.capabilities.as_dict(), "state_store": "redis" if self._redis else "memory"}
