"""Kubernetes Nodes as Zun hosts (GET /v1/hosts): which Nodes are hosts, and a Node as Zun's
host view (zun/api/controllers/v1/views/hosts_view.py), sorted and paged as Zun's DB does.

Zun's compute node reports its machine (Docker's ``info``: NCPU, MemTotal, the data root's
disk) and, as used, what its Zun containers ask for. Here: totals are the Node's capacity
(what the kubelet reports of the machine), used is what this installation's containers on
the Node ask for (Zun's cpu / memory / disk of each), counting only containers whose Pod has
not ended (a finished Pod holds nothing on Kubernetes); ``total_containers`` counts them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zunk8s.errors import ComputeNodeNotFound
from zunk8s.records import Record
from zunk8s.translate.paging import page
from zunk8s.translate.quantities import parse_quantity

# The view's keys in Zun's order (ComputeNode.fields filtered by hosts_view._basic_keys;
# ``links`` follows ``uuid``).
HOST_KEYS = (
    "uuid", "links", "hostname", "mem_total", "mem_used", "total_containers", "cpus", "cpu_used",
    "architecture", "os_type", "os", "kernel_version", "labels", "disk_total", "disk_used",
    "disk_quota_supported", "runtimes", "enable_cpu_pinning",
)
# What a host list may be sorted by: the view's scalar keys (Zun: any compute_node column).
SORT_KEYS = frozenset(HOST_KEYS) - {"links", "labels", "runtimes"}
DEFAULT_SORT_KEY = "hostname"

# Go's architecture names (what the kubelet reports) as ``uname -m`` names them (what Docker,
# and so Zun, reports).
_ARCHITECTURES = {"amd64": "x86_64", "arm64": "aarch64"}
# Taints Kubernetes itself sets while a Node is not ready, unreachable, under pressure or
# cordoned: a host in trouble is still a host (Zun lists a compute node whatever its health).
_CONDITION_TAINT_PREFIX = "node.kubernetes.io/"
_BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
_MIB = Decimal(2) ** 20
_GIB = Decimal(2) ** 30


@dataclass(frozen=True)
class Usage:
    """What the containers of this installation on one Node ask for."""

    containers: int = 0
    cpu: float = 0.0
    memory_mib: int = 0
    disk_gib: int = 0


def _tolerated(taint: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]) -> bool:
    """Whether one of ``tolerations`` tolerates ``taint`` (Kubernetes' ToleratesTaint)."""
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        operator = t.get("operator") or "Equal"
        if not t.get("key"):
            if operator == "Exists":
                return True  # an empty key with Exists tolerates every taint
            continue
        if t.get("key") != taint.get("key"):
            continue
        if operator == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def is_host(node: Mapping[str, Any], *, node_selector: Mapping[str, str], tolerations: Sequence[Mapping[str, Any]]) -> bool:
    """A Node is a Zun host when zunk8s may place containers on it: it matches the configured
    node selector and every taint that keeps Pods off (other than Kubernetes' own condition
    taints) is tolerated by the configured tolerations. A requested host (create's ``host``)
    must be one, as Zun's must be a compute node."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in node_selector.items()):
        return False
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in _BLOCKING_EFFECTS or str(taint.get("key") or "").startswith(_CONDITION_TAINT_PREFIX):
            continue
        if not _tolerated(taint, tolerations):
            return False
    return True


def usage_by_node(containers: Iterable[tuple[Record, Mapping[str, Any]]]) -> dict[str, Usage]:
    """Per Node name, the usage of the containers given as (record, current Pod)."""
    totals: dict[str, Usage] = {}
    for record, pod in containers:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            continue  # not scheduled yet: on no host
        u = totals.get(node, Usage())
        ended = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        if ended:
            totals[node] = Usage(u.containers + 1, u.cpu, u.memory_mib, u.disk_gib)
        else:
            memory = int(record.memory) if record.memory and record.memory.isdigit() else 0
            totals[node] = Usage(u.containers + 1, u.cpu + record.cpu, u.memory_mib + memory, u.disk_gib + record.disk)
    return totals


def _whole(quantity: object, unit: Decimal = Decimal(1)) -> int:
    value = parse_quantity(quantity)
    return 0 if value is None else int(value / unit)


def host_fields(node: Mapping[str, Any], usage: Usage) -> dict[str, Any]:
    """The host view of ``node`` without ``links`` (added by ``with_links``)."""
    meta = node.get("metadata") or {}
    status = node.get("status") or {}
    capacity = status.get("capacity") or {}
    info = status.get("nodeInfo") or {}
    arch = info.get("architecture") or None
    handlers = [str(h["name"]) for h in status.get("runtimeHandlers") or [] if isinstance(h, dict) and h.get("name")]
    return {
        "uuid": meta.get("uid"),
        "hostname": meta.get("name"),
        "mem_total": _whole(capacity.get("memory"), _MIB),
        "mem_used": usage.memory_mib,
        "total_containers": usage.containers,
        "cpus": _whole(capacity.get("cpu")),
        # Millicores, as Kubernetes counts them: no 0.30000000000000004.
        "cpu_used": round(usage.cpu, 3),
        "architecture": _ARCHITECTURES.get(arch, arch) if arch else None,
        "os_type": info.get("operatingSystem") or None,
        "os": info.get("osImage") or None,
        "kernel_version": info.get("kernelVersion") or None,
        # Zun shows the Docker daemon's labels; a Node's labels are what selects it here.
        "labels": dict(meta.get("labels") or {}),
        "disk_total": _whole(capacity.get("ephemeral-storage"), _GIB),
        "disk_used": usage.disk_gib,
        # A container's ``disk`` is its ephemeral-storage limit, which the kubelet enforces
        # where the Node reports ephemeral storage.
        "disk_quota_supported": "ephemeral-storage" in capacity,
        # The runtime handlers the kubelet reports (Kubernetes 1.30+); null where it reports none.
        "runtimes": handlers or None,
        # cpu_policy 'dedicated' is refused (service/creating.py): no pinning.
        "enable_cpu_pinning": False,
    }


def with_links(fields: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The view with Zun's ``links`` after ``uuid`` (list items have them too, unlike containers')."""
    uuid = fields["uuid"]
    links = [
        {"href": f"{base_url}/v1/hosts/{uuid}", "rel": "self"},
        {"href": f"{base_url}/hosts/{uuid}", "rel": "bookmark"},
    ]
    return {k: links if k == "links" else fields[k] for k in HOST_KEYS}


def page_hosts(
    hosts: Sequence[Mapping[str, Any]], *, sort_key: str, sort_dir: str, marker: str | None, limit: int
) -> list[Mapping[str, Any]]:
    """Zun's host list order (translate/paging.py); an unknown marker is Zun's 404 for a host."""
    return page(hosts, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit, sort_keys=SORT_KEYS,
                missing=ComputeNodeNotFound)
