"""A record kept true to its Pod: what the Pod watch shows is written into the record's
status while no task owns it (the reconciler calls this for every Pod event)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from zunk8s.kube.errors import KubeConflict
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.operations import Operations
from zunk8s.service.registry import Entry, Registry
from zunk8s.translate.statuschanges import pod_changes


class PodSync:
    def __init__(
        self, *, gateway: KubeGateway, ops: Operations, registry: Registry, heal: Callable[[Entry], Awaitable[None]]
    ) -> None:
        self._gw = gateway
        self._ops = ops
        self._registry = registry
        self._heal = heal

    async def sync(self, entry: Entry, *, reason: str | None = None) -> Entry:
        """Write what the current Pod shows into the record's status (when no task owns it).

        Called without the container's lock, so the write only lands if the record has not
        changed since ``entry`` was read; on a conflict the fresh record is read and the
        decision taken again. A Pod missing from the cache is looked up on the API server
        before the record says it was deleted (auto_heal then makes a new one). ``reason``:
        why the container ended, when the caller knows better than the Pod (a healthcheck
        kill)."""
        for _ in range(3):
            st = entry.status
            if st.task_state is not None or st.pod is None:
                return entry
            pod = self._gw.cached_pod(entry.namespace, st.pod)
            changes = pod_changes(entry.record, st, pod)
            if changes is None:
                return entry
            if reason is not None:
                changes["status_reason"] = reason
            if pod is None:
                if await self._gw.live_pod(entry.namespace, st.pod) is not None:
                    continue  # the cache lagged: the Pod is there now (and cached); decide again
                if entry.record.auto_heal:
                    await self._heal(entry)
                    return entry
            try:
                return await self._ops.write(entry, if_unchanged=True, **changes)
            except KubeConflict:
                fresh = await self._registry.fresh(entry.key)
                if fresh is None:
                    return entry
                entry = fresh
        return entry
