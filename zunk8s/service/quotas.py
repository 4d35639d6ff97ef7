"""Zun's quotas and quota classes (translate/quotas.py says where they live), and the check a
create makes against them before anything is written (Zun's 403 "Quota exceeded")."""

from __future__ import annotations

import time
from typing import Any

from zunk8s.errors import OverQuota, SchemaValidationError
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record
from zunk8s.service.registry import Registry
from zunk8s.settings import QuotaSettings
from zunk8s.translate import labels as L
from zunk8s.translate import quotas as Q
from zunk8s.translate.names import namespace_for, project_hash, system_namespace
from zunk8s.translate.objects import namespace_body

Obj = dict[str, Any]
HARD_KEYS = (Q.COUNT_KEY, "limits.cpu", "limits.memory")
CLASSES_TTL = 5.0


class Quotas:
    def __init__(self, *, gateway: KubeGateway, registry: Registry, namespace_prefix: str, defaults: QuotaSettings) -> None:
        self._gw = gateway
        self._registry = registry
        self._prefix = namespace_prefix
        self._defaults = defaults.model_dump()
        self._cached: tuple[float, Obj | None] | None = None

    def _labels(self, project_id: str) -> dict[str, str]:
        return L.project_labels(project_hash=project_hash(project_id), instance=self._gw.instance)

    async def _classes(self, *, fresh: bool = False) -> Obj | None:
        # Read at every create: kept CLASSES_TTL seconds (a change through another replica is
        # seen that much later; one through this replica at once).
        now = time.monotonic()
        if fresh or self._cached is None or now - self._cached[0] > CLASSES_TTL:
            self._cached = (now, await self._gw.get_configmap(system_namespace(self._prefix), Q.CLASSES_NAME))
        return self._cached[1]

    async def _default_class(self) -> dict[str, int]:
        return Q.class_limits(await self._classes(), Q.DEFAULT_CLASS)

    async def limits(self, project_id: str) -> dict[str, int]:
        namespace = namespace_for(project_id, self._prefix)
        own = Q.project_limits(await self._gw.get_resource_quota(namespace, Q.QUOTA_NAME))
        return Q.resolve(self._defaults, project=own, default_class=await self._default_class())

    def usage(self, project_id: str) -> dict[str, float]:
        namespace = namespace_for(project_id, self._prefix)
        return Q.usage(e.record for e in self._registry.all_entries() if e.namespace == namespace)

    async def get(self, project_id: str, *, usages: bool) -> Obj:
        return Q.quota_view(await self.limits(project_id), self.usage(project_id) if usages else None)

    async def defaults(self) -> Obj:
        """Zun's get_defaults: the ``default`` class, else the configured defaults."""
        return Q.class_view(self._defaults, await self._default_class())

    async def update(self, project_id: str, body: Any) -> Obj:
        changes = _checked(body)
        namespace = namespace_for(project_id, self._prefix)
        # The project's own limits, changed; the rest stay the default class's or the defaults
        # (Kubernetes enforces the project's own).
        own = {**(Q.project_limits(await self._gw.get_resource_quota(namespace, Q.QUOTA_NAME)) or {}), **changes}
        labels = self._labels(project_id)
        ns_body = namespace_body(namespace, project_id=project_id, project_hash=labels[L.PROJECT], instance=self._gw.instance)
        quota = Q.resource_quota(namespace, own, labels=labels)
        await self._gw.in_namespace(ns_body, lambda: self._gw.save_resource_quota(quota, hard_keys=HARD_KEYS))
        return Q.quota_view(Q.resolve(self._defaults, project=own, default_class=await self._default_class()), None)

    async def delete(self, project_id: str) -> None:
        await self._gw.delete_resource_quota(namespace_for(project_id, self._prefix), Q.QUOTA_NAME)

    async def get_class(self, name: str) -> Obj:
        return Q.class_view(self._defaults, Q.class_limits(await self._classes(fresh=True), name))

    async def update_class(self, name: str, body: Any) -> Obj:
        changes = _checked(body)
        limits = {**Q.class_limits(await self._classes(fresh=True), name), **changes}
        namespace = system_namespace(self._prefix)
        labels = {L.MANAGED_BY: L.MANAGED_BY_VALUE, L.INSTANCE: self._gw.instance}
        await self._gw.ensure_namespace(namespace_body(namespace, project_id="", project_hash="", instance=self._gw.instance))
        made = await self._gw.merge_configmap(Q.classes_body(namespace, {name: limits}, labels=labels))
        self._cached = (time.monotonic(), made)
        return Q.class_view(self._defaults, limits)

    async def check_create(self, project_id: str, *, cpu: float | None, memory: str | None, disk: int | None) -> None:
        """Zun's check at create, before anything is written: one more container and the cpu,
        memory and disk it asks for (an omitted one counts 0, as Zun counts it before defaults)."""
        await self._check(project_id, {"containers": 1.0, "cpu": cpu or 0.0, "memory": float(memory) if memory else 0.0,
                                       "disk": float(disk or 0)})

    async def check_resize(self, record: Record, *, cpu: float | None, memory: str | None) -> None:
        """Zun's check at update: what a new cpu or memory adds to the container's (only those
        the update changes)."""
        deltas: dict[str, float] = {}
        if cpu is not None:
            deltas["cpu"] = cpu - (record.cpu or 0.0)
        if memory is not None:
            deltas["memory"] = float(memory) - (float(record.memory) if record.memory and record.memory.isdigit() else 0.0)
        if deltas:
            await self._check(record.project_id, deltas)

    async def _check(self, project_id: str, deltas: dict[str, float]) -> None:
        exceeded = Q.over(await self.limits(project_id), self.usage(project_id), deltas)
        if exceeded:
            raise OverQuota(Q.over_message(exceeded))


def _checked(body: Any) -> dict[str, int]:
    try:
        return Q.check_update(body)
    except Q.BadQuota as e:
        raise SchemaValidationError(str(e)) from None
