"""Zun's hosts: the Kubernetes Nodes zunk8s may place containers on (translate/hosts.py
``is_host``), listed and shown for admins, and checked for a create's requested host."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping, Sequence
from typing import Any

from zunk8s.errors import ComputeNodeNotFound, RequestedHostNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record
from zunk8s.schemas.queries import HostQuery
from zunk8s.service.registry import Registry, is_uuid_like
from zunk8s.translate.hosts import Usage, host_fields, is_host, page_hosts, usage_by_node
from zunk8s.translate.names import is_dns_subdomain
from zunk8s.translate.pods import ZONE_LABEL


class Hosts:
    def __init__(
        self,
        *,
        gateway: KubeGateway,
        registry: Registry,
        node_selector: Mapping[str, str],
        tolerations: Sequence[Mapping[str, Any]],
    ) -> None:
        self._gw = gateway
        self._registry = registry
        self._node_selector = dict(node_selector)
        self._tolerations = list(tolerations)

    def _is_host(self, node: Mapping[str, Any]) -> bool:
        return is_host(node, node_selector=self._node_selector, tolerations=self._tolerations)

    def _usage(self) -> dict[str, Usage]:
        """What this installation's containers use, per Node, from the watch caches: each
        container's current Pod says where it runs."""
        placed: list[tuple[Record, dict[str, Any]]] = []
        for entry in self._registry.all_entries():
            pod = self._gw.cached_pod(entry.namespace, entry.status.pod) if entry.status.pod else None
            if pod is not None:
                placed.append((entry.record, pod))
        return usage_by_node(placed)

    async def _named(self, name: str) -> dict[str, Any] | None:
        if not is_dns_subdomain(name):
            return None  # no Node can have this name: not worth asking
        node = await self._gw.get_node(name)
        return node if node is not None and self._is_host(node) else None

    async def page(self, query: HostQuery) -> list[dict[str, Any]]:
        """Zun's host list (views without links), sorted and paged as the query asks."""
        usage = self._usage()
        hosts = [
            host_fields(n, usage.get(str(n["metadata"].get("name")), Usage()))
            for n in await self._gw.list_nodes()
            if self._is_host(n)
        ]
        selected = page_hosts(
            hosts, sort_key=query.sort_key, sort_dir=query.sort_dir, marker=query.marker, limit=query.limit
        )
        return [dict(h) for h in selected]

    async def zones(self) -> list[str]:
        """Zun's availability zones: the topology zones of the Nodes containers may go to (what
        create's ``availability_zone`` selects by), sorted; Nodes without one add none."""
        return sorted({zone for n in await self._gw.list_nodes() if self._is_host(n)
                       if (zone := ((n.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL))})

    async def get(self, ident: str) -> dict[str, Any]:
        """One host (view without links) by uuid (the Node's uid) or name, as Zun's
        get_resource looks it up; ComputeNodeNotFound (404) otherwise."""
        if is_uuid_like(ident):
            uid = str(uuidlib.UUID(ident))  # Zun's uuids match without dashes and in capitals too
            node = next((n for n in await self._gw.list_nodes() if n["metadata"].get("uid") == uid), None)
            node = node if node is not None and self._is_host(node) else None
        else:
            node = await self._named(ident)
        if node is None:
            raise ComputeNodeNotFound(ident)
        name = str(node["metadata"].get("name"))
        return host_fields(node, self._usage().get(name, Usage()))

    async def hostname(self, ident: str) -> str | None:
        """The name of the host ``ident`` (a uuid or a name, as ``get`` finds it); None if none."""
        try:
            return str((await self.get(ident))["hostname"])
        except ComputeNodeNotFound:
            return None

    async def require(self, name: str) -> None:
        """A create's requested host must be a host, named as Zun names it (ComputeNode.get_by_name);
        RequestedHostNotFound (404) otherwise."""
        if await self._named(name) is None:
            raise RequestedHostNotFound(name)
