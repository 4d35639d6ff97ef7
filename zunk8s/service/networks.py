"""Neutron networks of a project, kept as Network objects in its namespace.

A network here is an isolation domain (containers on one network reach each other; the
NetworkPolicies say so), not a layer-2 segment. What a project sees: its own networks and the
shared networks of every project. As the default security group does, a project's ``default``
network appears on first use (listing, showing, creating, or a container needing one) when the
project has no network of its own. Neutron's rules kept: only admins share a network (create
or update), a network a container is on cannot be deleted (409 NetworkInUse) nor unshared while
containers of other projects are on it; an admin reaches any project's network by id, a
non-admin sees another project's only when it is shared (and may not change it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import structlog

from zunk8s.clock import kube_now
from zunk8s.errors import (
    Conflict,
    InvalidSharedSetting,
    NetworkInUse,
    NetworkNotFound,
    NeutronPolicyNotAuthorized,
)
from zunk8s.kube.errors import KubeAlreadyExists, KubeNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.ownership import owned, require_owned
from zunk8s.translate import capsules
from zunk8s.translate import labels as L
from zunk8s.translate.names import is_dns_subdomain, namespace_for, project_hash
from zunk8s.translate.networkviews import (
    DEFAULT_DESCRIPTION,
    DEFAULT_NAME,
    created_key,
    default_network_id,
    is_shared,
    network_body,
    network_view,
)
from zunk8s.translate.neutronfilters import matches
from zunk8s.translate.objects import namespace_body

Obj = dict[str, Any]
log = structlog.get_logger(__name__)

# What update_network may change (the handler refuses the rest in Neutron's words).
UPDATABLE = frozenset({"name", "description", "shared"})


class Networks:
    def __init__(self, *, gateway: KubeGateway, namespace_prefix: str) -> None:
        self._gw = gateway
        self._prefix = namespace_prefix

    def _namespace(self, caller: Caller) -> str:
        return namespace_for(caller.project_id, self._prefix)

    def _labels(self, caller: Caller, *, shared: bool) -> dict[str, str]:
        labels = L.project_labels(project_hash=project_hash(caller.project_id), instance=self._gw.instance)
        if shared:
            labels[L.SHARED] = "true"
        return labels

    async def _own(self, caller: Caller) -> list[Obj]:
        """The project's networks, its default one made first if it has none yet."""
        namespace = self._namespace(caller)
        await self._gw.ensure_namespace(
            namespace_body(namespace, project_id=caller.project_id, project_hash=project_hash(caller.project_id),
                           instance=self._gw.instance)
        )
        networks = await self._gw.list_networks(namespace)
        if not networks:
            networks.append(await self._make_default(caller, namespace))
        return networks

    async def _make_default(self, caller: Caller, namespace: str) -> Obj:
        network_id = default_network_id(self._gw.instance, caller.project_id)
        body = network_body(namespace, network_id, name=DEFAULT_NAME, description=DEFAULT_DESCRIPTION,
                            project_id=caller.project_id, shared=False, labels=self._labels(caller, shared=False),
                            now=kube_now())
        try:
            made = await self._gw.create_network(body)
        except KubeAlreadyExists:  # another replica (or request) made it first
            found = await self._gw.get_network(namespace, network_id)
            if found is None:
                raise NetworkNotFound(network_id) from None
            return found
        log.info("default_network_created", network=network_id, namespace=namespace)
        return made

    async def _visible(self, caller: Caller) -> list[Obj]:
        """The project's networks and every shared one, each once, oldest first."""
        own = await self._own(caller)
        seen = {(n["metadata"].get("namespace"), n["metadata"]["name"]) for n in own}
        shared = [n for n in await self._gw.list_shared_networks()
                  if (n["metadata"].get("namespace"), n["metadata"]["name"]) not in seen]
        return sorted([*own, *shared], key=created_key)

    async def _find(self, caller: Caller, network_id: str) -> Obj:
        """A visible network by id (the project's own first); for an admin, this installation's
        network of any project. NetworkNotFound otherwise, also for another project's
        network a non-admin cannot see (Neutron does not tell it exists)."""
        visible = await self._visible(caller)
        namespace = self._namespace(caller)
        found = sorted((n for n in visible if n["metadata"]["name"] == network_id),
                       key=lambda n: n["metadata"].get("namespace") != namespace)
        if found:
            return found[0]
        if caller.is_admin and is_dns_subdomain(network_id):
            anywhere = await self._gw.find_network(network_id)
            if anywhere is not None:
                return anywhere
        raise NetworkNotFound(network_id)

    def _owned(self, network: Obj) -> bool:
        return owned(network, self._gw.instance)

    def _require_owned(self, network: Obj) -> None:
        require_owned(network, self._gw.instance, what="Network")

    def _may_change(self, caller: Caller, network: Obj, action: str) -> None:
        """Another project's (shared) network is seen, not changed, by a non-admin: Neutron's 403."""
        if not caller.is_admin and network["metadata"].get("namespace") != self._namespace(caller):
            raise NeutronPolicyNotAuthorized(action)

    def _users(self, network_id: str) -> set[str]:
        """The namespaces of this installation's containers on the network (their records name
        it; a record naming no networks, from before zunk8s had them, is on its project's
        default network)."""
        namespaces = set()
        for key in self._gw.record_keys():
            spec = (self._gw.cached_record(key) or {}).get("spec") or {}
            networks = spec.get("networks")
            if networks is None:
                networks = [default_network_id(self._gw.instance, str(spec.get("project_id") or ""))]
            if network_id in networks:
                namespaces.add(key[0])
        # Capsules are on their project's default network (translate/capsules.py).
        namespaces |= {str(pod["metadata"]["namespace"]) for pod, record in capsules.cached(self._gw.cached_pods())
                       if network_id in record.networks}
        return namespaces

    # --- the /network API ---------------------------------------------------------------------

    async def list_networks(self, caller: Caller, *, filters: dict[str, list[str]]) -> list[Obj]:
        views = [network_view(n) for n in await self._visible(caller)]
        return [v for v in views if matches(v, filters)]

    async def show_network(self, caller: Caller, network_id: str) -> Obj:
        return network_view(await self._find(caller, network_id))

    async def create_network(self, caller: Caller, *, name: str, description: str, shared: bool) -> Obj:
        """A new network of the caller's project; sharing it is for admins (Neutron's policy)."""
        if shared and not caller.is_admin:
            raise NeutronPolicyNotAuthorized("create_network:shared")
        await self._own(caller)  # the default network comes first
        network_id = str(uuid.uuid4())
        body = network_body(self._namespace(caller), network_id, name=name, description=description,
                            project_id=caller.project_id, shared=shared, labels=self._labels(caller, shared=shared),
                            now=kube_now())
        return network_view(await self._gw.create_network(body))

    async def update_network(self, caller: Caller, network_id: str, fields: Mapping[str, Any]) -> Obj:
        """Change ``name``, ``description`` and (admins only) ``shared`` of a network this
        zunk8s made."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")  # the handler let through what it must not
        network = await self._find(caller, network_id)
        self._may_change(caller, network, "update_network")
        if "shared" in fields and not caller.is_admin:
            raise NeutronPolicyNotAuthorized("update_network:shared")
        self._require_owned(network)
        if not fields:
            return network_view(network)
        namespace = network["metadata"]["namespace"]
        if fields.get("shared") is False and is_shared(network) and self._users(network_id) - {namespace}:
            raise InvalidSharedSetting(network_id)
        patch: Obj = {"spec": {**fields, "updated_at": kube_now()}}
        if "shared" in fields:
            patch["metadata"] = {"labels": {L.SHARED: "true" if fields["shared"] else None}}
        try:
            return network_view(await self._gw.patch_network(namespace, network_id, patch))
        except KubeNotFound:
            raise NetworkNotFound(network_id) from None

    async def delete_network(self, caller: Caller, network_id: str) -> None:
        network = await self._find(caller, network_id)
        self._may_change(caller, network, "delete_network")
        if self._users(network_id):
            raise NetworkInUse(network_id)
        self._require_owned(network)
        await self._gw.delete_network(network["metadata"]["namespace"], network_id)

    # --- for containers -----------------------------------------------------------------------

    async def show(self, caller: Caller, network_id: str) -> Obj:
        """A network's view by id (a container's networks by name): as show_network."""
        return await self.show_network(caller, network_id)

    async def resolve(self, caller: Caller, name_or_id: str) -> str:
        """The id of the network the caller names: by id first, then by name among the networks
        it sees; NetworkNotFound for none, Zun's 409 for a name several networks have."""
        visible = await self._visible(caller)
        if any(n["metadata"]["name"] == name_or_id for n in visible):
            return name_or_id
        named = [n for n in visible if (n.get("spec") or {}).get("name") == name_or_id]
        if not named:
            raise NetworkNotFound(name_or_id)
        if len(named) > 1:
            raise Conflict(f"Multiple network matches found for name '{name_or_id}', use an ID to be more specific.")
        return str(named[0]["metadata"]["name"])

    async def default_for(self, caller: Caller) -> str:
        """The network a container created without one goes on (Zun's choice): the project's
        oldest network that is not shared, else the oldest shared one it sees. The project's
        default network is made first if it has no network."""
        visible = await self._visible(caller)
        namespace = self._namespace(caller)
        own = [n for n in visible if n["metadata"].get("namespace") == namespace and not is_shared(n)]
        chosen = own or [n for n in visible if is_shared(n)] or visible
        return str(chosen[0]["metadata"]["name"])
