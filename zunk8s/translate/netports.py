"""A container's place on its networks, as Zun and Neutron show it: one port per network it is
on, all with the Pod's one address (a Pod has one network interface; networks are isolation
domains drawn by NetworkPolicies, not separate interfaces). A port's id derives from the
container and the network, so every replica names it alike and network_detach accepts it."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from zunk8s.records import Record, RecordStatus

Obj = dict[str, Any]

# The one key of a record from before zunk8s had networks.
LEGACY_NETWORK = "pod-network"


def port_id(container_uuid: str, network_id: str) -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"zunk8s:{container_uuid}:port:{network_id}"))


def _networks(record: Record) -> list[str]:
    return list(record.networks) if record.networks is not None else [LEGACY_NETWORK]


def _version(address: str) -> int:
    return 6 if ":" in address else 4


def addresses(record: Record, st: RecordStatus) -> dict[str, list[Obj]]:
    """Zun's ``addresses``: keyed by network id; {} (never null) without an address, since
    clients call .values()."""
    if not st.pod_ip:
        return {}
    return {
        net: [{"addr": st.pod_ip, "version": _version(st.pod_ip), "port": port_id(record.uuid, net),
               "subnet_id": None, "preserve_on_delete": False}]
        for net in _networks(record)
    }


def network_list(record: Record, st: RecordStatus, *, flat: bool) -> list[Obj]:
    """network_list's entries: one per network with its fixed_ips list (1.18+), or ``flat``
    (1.13-1.17) one per address."""
    if not st.pod_ip:
        return []  # Zun lists the container's addresses: none before its Pod has one
    ips = [{"subnet_id": None, "version": _version(st.pod_ip), "ip_address": st.pod_ip}]
    out: list[Obj] = []
    for net in _networks(record):
        pid = port_id(record.uuid, net)
        if flat:
            out += [{"net_id": net, "port_id": pid, **ip} for ip in ips]
        else:
            out.append({"net_id": net, "port_id": pid, "fixed_ips": ips})
    return out


def port_view(record: Record, st: RecordStatus, network_id: str, groups: list[str]) -> Obj:
    """A container's port on one network, in Neutron's shape (read-only /v2.0/ports)."""
    return {
        "id": port_id(record.uuid, network_id),
        "name": "",
        "network_id": network_id,
        "project_id": record.project_id,
        "tenant_id": record.project_id,
        "device_id": record.uuid,
        "device_owner": "compute:kuryr",
        "admin_state_up": True,
        "status": "ACTIVE" if st.pod_ip and st.status == "Running" else "DOWN",
        "mac_address": None,
        "fixed_ips": [{"subnet_id": None, "ip_address": st.pod_ip}] if st.pod_ip else [],
        "security_groups": groups,
        "port_security_enabled": True,
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "description": "",
        "tags": [],
        "created_at": record.created_at,
        "updated_at": record.updated_at or record.created_at,
        "revision_number": 0,
    }
