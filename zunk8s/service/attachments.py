"""A container's security groups and networks, changed while it runs (Zun's
add_security_group / remove_security_group, network_attach / network_detach) and listed
(network_list).

Each change is an action (service/operations.py): claimed with its task_state (sg_adding,
network_attaching...), answered, then done under the container's lock: the record says the
new groups or networks, the Pod is relabelled in place (it keeps running: no restart), and the
container's NetworkPolicy is rewritten. Other containers' policies select it by those labels,
so they follow at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zunk8s.errors import Conflict, InvalidValue, PortNotFound, ZunError
from zunk8s.kube.errors import KubeError
from zunk8s.records import TaskState
from zunk8s.service.actionlog import begun, failure_text
from zunk8s.service.context import Caller
from zunk8s.service.creating import Creation
from zunk8s.service.isolation import Isolation
from zunk8s.service.operations import Operations
from zunk8s.service.registry import Entry, Registry
from zunk8s.service.secgroups import SecurityGroups
from zunk8s.service.states import check_state
from zunk8s.translate.isolation import container_groups, container_networks
from zunk8s.translate.netports import port_id, port_view
from zunk8s.translate.neutronfilters import matches

Obj = dict[str, Any]


class Attachments:
    def __init__(
        self,
        *,
        ops: Operations,
        registry: Registry,
        isolation: Isolation,
        secgroups: SecurityGroups,
        creation: Creation,
        instance: str,
    ) -> None:
        self._ops = ops
        self._registry = registry
        self._isolation = isolation
        self._secgroups = secgroups
        self._creation = creation
        self._instance = instance

    # --- security groups (Zun <= 1.14) ------------------------------------------------------

    async def add_security_group(self, caller: Caller, entry: Entry, ident: str) -> None:
        check_state("add_security_group", uuid=entry.uuid, status=entry.status.status)
        (group_id,) = await self._secgroups.resolve(caller, [ident])
        if group_id in container_groups(entry.record, self._instance):
            raise InvalidValue(f"Security group {group_id} has been added to container.")
        await self._change(caller, entry, "add_security_group", "sg_adding",
                           lambda e: {"security_groups": [*container_groups(e.record, self._instance), group_id]})

    async def remove_security_group(self, caller: Caller, entry: Entry, ident: str) -> None:
        check_state("remove_security_group", uuid=entry.uuid, status=entry.status.status)
        (group_id,) = await self._secgroups.resolve(caller, [ident])
        if group_id not in container_groups(entry.record, self._instance):
            raise InvalidValue(f"Security group {group_id} was not added to container.")
        await self._change(caller, entry, "remove_security_group", "sg_removing",
                           lambda e: {"security_groups": [g for g in container_groups(e.record, self._instance)
                                                          if g != group_id]})

    # --- networks ---------------------------------------------------------------------------

    async def network_attach(self, caller: Caller, entry: Entry, network: str | None) -> None:
        """Attach ``network`` (by name or id; None: Zun's available network)."""
        if network is None:
            network_id = await self._creation.default_network(caller)
            shown = network_id
        else:
            network_id, shown = await self._creation.find_network(caller, network), network
        if network_id in container_networks(entry.record, self._instance):
            raise InvalidValue(f"Network '{shown}' is already connected to container '{entry.uuid}'.")
        await self._change(caller, entry, "network_attach", "network_attaching",
                           lambda e: {"networks": [*container_networks(e.record, self._instance), network_id]})

    async def network_detach(self, caller: Caller, entry: Entry, *, network: str | None, port: str | None) -> None:
        """Detach a network, named by itself or by the container's port on it (network_list's
        ``port_id``)."""
        attached = container_networks(entry.record, self._instance)
        if port is not None:
            network_id = next((n for n in attached if port_id(entry.uuid, n) == port), None)
            if network_id is None:
                raise InvalidValue(f"Port '{port}' is not attached to container '{entry.uuid}'.")
        else:
            network_id = await self._creation.find_network(caller, str(network))
            if network_id not in attached:
                raise InvalidValue(f"Network '{network}' is not attached to container '{entry.uuid}'.")
        await self._change(caller, entry, "network_detach", "network_detaching",
                           lambda e: {"networks": [n for n in container_networks(e.record, self._instance)
                                                   if n != network_id]})

    # --- ports (read-only, the /network API) ---------------------------------------------------

    def list_ports(self, caller: Caller, *, filters: dict[str, list[str]]) -> list[Obj]:
        """The caller's containers' ports, one per container and network (all projects' for an
        admin, as Neutron lists them)."""
        views = [
            port_view(e.record, e.status, network, container_groups(e.record, self._instance))
            for e in self._registry.visible(caller, all_projects=True)
            for network in container_networks(e.record, self._instance)
        ]
        return [v for v in views if matches(v, filters)]

    def show_port(self, caller: Caller, ident: str) -> Obj:
        for view in self.list_ports(caller, filters={}):
            if view["id"] == ident:
                return view
        raise PortNotFound(ident)

    # --- the action -------------------------------------------------------------------------

    async def _change(
        self, caller: Caller, entry: Entry, name: str, task_state: TaskState, fields: Callable[[Entry], Obj]
    ) -> None:
        """Claim, write the record's new groups or networks before answering (so a replica that
        dies after the answer leaves the change for recovery to finish, service/recovery.py),
        then relabel the Pod and rewrite the policy in the background."""
        entry = await self._ops.claim(
            entry, _not_busy, logged=begun(caller, name), task_state=task_state, task_request_id=caller.request_id
        )
        try:
            # From the claimed record: no other action can change it while the task is set.
            entry = await self._ops.write_spec(entry, fields(entry))
        except (ZunError, KubeError) as e:
            await self._ops.finish(entry, None, error=failure_text(e))
            raise

        async def work(e: Entry) -> None:
            await self._isolation.apply(e)

        self._ops.run(entry, name, work)


def _not_busy(entry: Entry) -> None:
    if entry.status.task_state is not None:
        raise Conflict(f"Container {entry.uuid} is busy ({entry.status.task_state}); try again when it finishes.")

