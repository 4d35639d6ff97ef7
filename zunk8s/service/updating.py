"""rename and update (name, auto_heal, cpu, memory): record fields, and a running container's
resources resized in place where the cluster can (pods/resize, Kubernetes 1.33+), otherwise
by a restart in a new Pod (README: "update")."""

from __future__ import annotations

from typing import Any

import structlog

from zunk8s.errors import Conflict
from zunk8s.kube.errors import KubeNotFound, KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.schemas.containers import ContainerUpdate
from zunk8s.service.actionlog import ActionLog
from zunk8s.service.context import Caller
from zunk8s.service.operations import Operations
from zunk8s.service.power import Power
from zunk8s.service.quotas import Quotas
from zunk8s.service.registry import Entry, Registry
from zunk8s.service.states import check_state
from zunk8s.translate import labels as L
from zunk8s.translate.names import CONTAINER_NAME
from zunk8s.translate.pods import resources

log = structlog.get_logger(__name__)


class Updates:
    def __init__(
        self,
        *,
        gateway: KubeGateway,
        ops: Operations,
        registry: Registry,
        power: Power,
        request_ratio: float,
        actions: ActionLog,
        quotas: Quotas,
    ) -> None:
        self._quotas = quotas
        self._gw = gateway
        self._ops = ops
        self._registry = registry
        self._power = power
        self._request_ratio = request_ratio
        self._actions = actions

    async def rename(self, caller: Caller, entry: Entry, name: str) -> Entry:
        if name == entry.record.name:
            raise Conflict("The new name for the container is the same as the old name.")
        async with self._actions.recorded(caller, entry, "rename"):
            return await self._write(entry, {"name": name})

    async def _write(self, entry: Entry, spec: dict[str, Any]) -> Entry:
        labels: dict[str, str | None] | None = None
        if "name" in spec:
            name = spec["name"]
            labels = {L.NAME: name if L.is_valid_label_value(name) else None}
        return await self._ops.write_spec(entry, spec, labels=labels)

    async def update(self, caller: Caller, entry: Entry, changes: ContainerUpdate) -> Entry:
        # A running task holds the lock for its whole run (a start until its Pod runs): say
        # "busy" at once rather than wait for it.
        self._ops.check_not_busy(self._ops.cached(entry), "update")
        async with self._ops.lock(entry.uuid):
            entry = await self._ops.fresh(entry)
            self._ops.check_not_busy(entry, "update")
            spec: dict[str, Any] = {}
            if changes.name is not None:
                spec["name"] = changes.name
            if changes.auto_heal is not None:
                spec["auto_heal"] = changes.auto_heal
            if changes.cpu is not None:
                spec["cpu"] = changes.cpu
            if changes.memory is not None:
                spec["memory"] = changes.memory
            if not spec:
                return entry
            await self._quotas.check_resize(entry.record, cpu=changes.cpu, memory=changes.memory)
            async with self._actions.recorded(caller, entry, "update"):
                entry = await self._write(entry, spec)
                resized = changes.cpu is not None or changes.memory is not None
                if resized and entry.status.pod is not None and entry.status.status == "Running":
                    await self._resize_running(entry, entry.status.pod, changes)
            return self._registry.entry(entry.key) or entry

    async def resize_container(self, caller: Caller, entry: Entry, changes: ContainerUpdate) -> Entry:
        """resize_container (1.19+): Zun's state rule, then the same resize as an update."""
        check_state("resize_container", uuid=entry.uuid, status=entry.status.status)
        return await self.update(caller, entry, changes)

    async def _resize_running(self, entry: Entry, pod: str, changes: ContainerUpdate) -> None:
        """In-place Pod resize (pods/resize, Kubernetes 1.33+); otherwise a documented restart."""
        res = resources(cpu=changes.cpu, memory=changes.memory, ratio=self._request_ratio)
        patch = {"spec": {"containers": [{"name": CONTAINER_NAME, "resources": res}]}}
        try:
            await self._gw.resize_pod(entry.namespace, pod, patch)
            return
        except (KubeRejected, KubeNotFound) as e:
            log.info("inplace_resize_unavailable", uuid=entry.uuid, error=e.detail)
        # Fallback: a new Pod with the new resources (the writable layer does not survive).
        await self._power.resize_restart(entry)
