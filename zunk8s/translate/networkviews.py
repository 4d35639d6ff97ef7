"""Network objects and their views in Neutron's API shape (what openstacksdk and the
`openstack network` commands read).

A zunk8s network is an isolation domain, not a layer-2 segment: it has no subnets, ports,
provider attributes or external routing, so the view reports Neutron's defaults for those
(``subnets: []``, ``mtu: 1500``, ``router:external: false``, always ``ACTIVE`` and up).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from zunk8s.clock import kube_time
from zunk8s.translate import crd

Obj = dict[str, Any]

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default network"
# What every zunk8s network reports for Neutron's layer-2 attributes.
MTU = 1500

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def default_network_id(instance: str, project_id: str) -> str:
    """The same id on every replica, so that two replicas making a project's default network at
    once make one (the second create is AlreadyExists); never the default group's id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"zunk8s:{instance}:{project_id}:default-network"))


def network_body(
    namespace: str, network_id: str, *, name: str, description: str, project_id: str, shared: bool,
    labels: Mapping[str, str], now: str,
) -> Obj:
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.NET_KIND,
        "metadata": {"name": network_id, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "name": name,
            "description": description,
            "project_id": project_id,
            "shared": shared,
            "created_at": now,
            "updated_at": now,
        },
    }


def is_shared(obj: Obj) -> bool:
    return (obj.get("spec") or {}).get("shared") is True


def network_project(obj: Obj) -> str | None:
    project = (obj.get("spec") or {}).get("project_id")
    return str(project) if project is not None else None


def created_key(obj: Obj) -> tuple[datetime, str]:
    """Oldest first: by ``created_at`` (parsed: Kubernetes-style times drop a zero fraction, so
    the text does not sort), then by id; one without a time counts as the oldest."""
    spec = obj.get("spec") or {}
    return kube_time(str(spec.get("created_at") or "")) or _EPOCH, str(obj["metadata"]["name"])


def network_view(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    meta = obj["metadata"]
    created = str(spec.get("created_at") or "") or None
    project_id = network_project(obj)
    return {
        "id": meta["name"],
        "name": spec.get("name", ""),
        "description": spec.get("description", ""),
        "status": "ACTIVE",
        "admin_state_up": True,
        "shared": is_shared(obj),
        "project_id": project_id,
        "tenant_id": project_id,
        "subnets": [],
        "mtu": MTU,
        "router:external": False,
        "availability_zones": [],
        "availability_zone_hints": [],
        "port_security_enabled": True,
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "tags": [],
        "created_at": created,
        "updated_at": str(spec.get("updated_at") or "") or created,
        "revision_number": int(meta.get("generation") or 0),
    }


