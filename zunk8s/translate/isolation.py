"""What a container's isolation is made of, derived from its record alone: the groups and
networks it is in, the labels its Pod carries for other containers' policies to select, its own
NetworkPolicy's and Service's names, and what its exposed ports become.

Zun's meanings kept: a container created without security groups is in its project's
``default`` group (Neutron gives a port the default group); one created with ``exposed_ports``
is in a group of its own named ``zun-<uuid>`` opening those ports (Zun's driver makes that
group), and its ports are also open to every Pod, as ``docker run -p`` publishes them beyond the
container's networks, and reachable through a Service of the same name.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from zunk8s.records import Record
from zunk8s.translate import labels as L
from zunk8s.translate.networkviews import default_network_id
from zunk8s.translate.neutronviews import default_group_id
from zunk8s.translate.secgroups import (
    EXPOSED_LABEL,
    GROUP_LABEL_PREFIX,
    NETWORK_LABEL_PREFIX,
    ExposedPort,
    default_rule_fields,
    membership_labels,
)

Obj = dict[str, Any]

# Zun's consts.NAME_PREFIX: the exposed-ports group is named for the container.
NAME_PREFIX = "zun-"


def object_name(uuid: str) -> str:
    """The container's NetworkPolicy and (with exposed ports) Service: ``zun-<uuid>``, a DNS
    label as a Service name must be."""
    return NAME_PREFIX + uuid


def exposed_group_id(uuid: str) -> str:
    """The id of the group made for a container's exposed ports: the same on every replica and
    every retry, so the record can name it before it exists."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"zunk8s:{uuid}:exposed-ports"))


def container_groups(record: Record, instance: str) -> list[str]:
    """The ids of the groups the container is in (its project's default one when it names none)."""
    if record.security_groups is not None:  # [] after the last one was removed: in no group
        return list(record.security_groups)
    return [default_group_id(instance, record.project_id)]


def container_networks(record: Record, instance: str) -> list[str]:
    """The ids of the networks the container is on. A record written before zunk8s had networks
    names none: it is on its project's default network."""
    if record.networks is None:
        return [default_network_id(instance, record.project_id)]
    return list(record.networks)


def pod_membership(record: Record, instance: str) -> dict[str, str]:
    return membership_labels(container_groups(record, instance), container_networks(record, instance),
                             exposed=bool(record.exposed_ports))


def membership_patch(current: Mapping[str, str], wanted: Mapping[str, str]) -> dict[str, str | None]:
    """A merge patch of a Pod's labels: membership labels it should not carry removed (None),
    those it lacks added; other labels untouched."""
    prefixes = (GROUP_LABEL_PREFIX, NETWORK_LABEL_PREFIX)
    patch: dict[str, str | None] = {
        k: None for k in current if (k.startswith(prefixes) or k == EXPOSED_LABEL) and k not in wanted
    }
    patch.update({k: v for k, v in wanted.items() if current.get(k) != v})
    return patch


def exposed_ports(record: Record) -> list[ExposedPort]:
    """The record's ``exposed_ports`` (stored as Zun normalises them: ``"80/tcp"``)."""
    out = []
    for key in record.exposed_ports or []:
        port, _, proto = key.partition("/")
        out.append(ExposedPort(port=int(port), protocol="udp" if proto == "udp" else "tcp"))
    return out


def normalise_exposed_ports(ports: Mapping[str, Any] | None) -> list[str] | None:
    """Zun's build_exposed_ports: ``{"80": {}, "53/udp": {}}`` -> ``["80/tcp", "53/udp"]``
    (validated already by the schema)."""
    if not ports:
        return None
    out = []
    for key in ports:
        port, _, proto = key.partition("/")
        value = f"{int(port)}/{proto or 'tcp'}"
        if value not in out:
            out.append(value)
    return out


def exposed_group_rule_fields(group_id: str, ports: list[ExposedPort]) -> list[Obj]:
    """Zun's exposed-ports group: Neutron's egress rules, and one ingress rule per port from
    anywhere (``0.0.0.0/0``, as Zun writes it)."""
    rules = default_rule_fields(group_id, is_default=False)
    rules += [
        {"direction": "ingress", "ethertype": "IPv4", "protocol": p.protocol, "port_range_min": p.port,
         "port_range_max": p.port, "remote_ip_prefix": "0.0.0.0/0"}
        for p in ports
    ]
    return rules


def exposed_service(record: Record, namespace: str, *, labels: Mapping[str, str], owner: Obj) -> Obj | None:
    """The Service that makes a container's exposed ports reachable at a stable name
    (``zun-<uuid>.<namespace>.svc``); None without exposed ports."""
    ports = exposed_ports(record)
    if not ports:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": object_name(record.uuid), "namespace": namespace, "labels": dict(labels),
                     "ownerReferences": [owner]},
        "spec": {
            "type": "ClusterIP",
            "selector": {L.UUID: record.uuid},
            "ports": [{"name": f"{p.protocol}-{p.port}", "protocol": p.protocol.upper(), "port": p.port,
                       "targetPort": p.port} for p in ports],
        },
    }


def owner_reference(*, api_version: str, kind: str, name: str, uid: str) -> Obj:
    """Owned by the container's record: Kubernetes removes the object with it."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True,
            "blockOwnerDeletion": False}
