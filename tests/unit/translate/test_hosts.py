"""Nodes as Zun hosts: which Nodes are hosts, the host view (golden), usage, sorting and paging."""

from __future__ import annotations

from typing import Any

import pytest

from zunk8s.errors import ComputeNodeNotFound, InvalidParameterValue
from zunk8s.records import Record
from zunk8s.translate.hosts import HOST_KEYS, Usage, host_fields, is_host, page_hosts, usage_by_node, with_links

# The local cluster's real node, as GET /api/v1/nodes/zun-real-0 gives it (trimmed).
REAL_NODE: dict[str, Any] = {
    "metadata": {
        "name": "zun-real-0",
        "uid": "c337cc50-2f85-417f-9ac1-a2c386c6a3c1",
        "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "zun-real-0", "type": "real"},
    },
    "spec": {},
    "status": {
        "capacity": {
            "cpu": "2", "ephemeral-storage": "264212084Ki", "hugepages-1Gi": "0", "memory": "24683652Ki", "pods": "250",
        },
        "allocatable": {"cpu": "2", "memory": "24581252Ki"},
        "nodeInfo": {
            "architecture": "amd64",
            "containerRuntimeVersion": "containerd://1.6.20",
            "kernelVersion": "6.18.44-fc-v857",
            "kubeletVersion": "v1.34.11",
            "operatingSystem": "linux",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
        },
    },
}
# A kwok node: fake, tainted so that only Pods that ask for it go there.
KWOK_NODE: dict[str, Any] = {
    "metadata": {"name": "kwok-node-0", "uid": "0d4c9efd-3863-4c7f-a715-7dc4da55f452", "labels": {"type": "kwok"}},
    "spec": {"taints": [{"effect": "NoSchedule", "key": "kwok.x-k8s.io/node", "value": "fake"}]},
    "status": {
        "capacity": {"cpu": "1k", "memory": "1Ti", "pods": "20k"},
        "nodeInfo": {"architecture": "amd64", "kernelVersion": "kwok-0.8.0", "operatingSystem": "linux", "osImage": ""},
    },
}
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}


def test_the_real_node_as_zun_shows_a_host() -> None:
    usage = Usage(containers=3, cpu=0.1 + 0.2, memory_mib=768, disk_gib=1)
    view = with_links(host_fields(REAL_NODE, usage), "http://zun:9517")
    assert view == {
        "uuid": "c337cc50-2f85-417f-9ac1-a2c386c6a3c1",
        "links": [
            {"href": "http://zun:9517/v1/hosts/c337cc50-2f85-417f-9ac1-a2c386c6a3c1", "rel": "self"},
            {"href": "http://zun:9517/hosts/c337cc50-2f85-417f-9ac1-a2c386c6a3c1", "rel": "bookmark"},
        ],
        "hostname": "zun-real-0",
        "mem_total": 24105,  # 24683652 KiB in MiB, rounded down (Zun: MemTotal // 1024)
        "mem_used": 768,
        "total_containers": 3,
        "cpus": 2,
        "cpu_used": 0.3,
        "architecture": "x86_64",
        "os_type": "linux",
        "os": "Debian GNU/Linux 12 (bookworm)",
        "kernel_version": "6.18.44-fc-v857",
        "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "zun-real-0", "type": "real"},
        "disk_total": 251,  # 264212084 KiB in GiB, rounded down
        "disk_used": 1,
        "disk_quota_supported": True,
        "runtimes": None,
        "enable_cpu_pinning": False,
    }
    assert list(view) == list(HOST_KEYS)


def test_a_kwok_node_with_kilo_cpus_and_no_os() -> None:
    view = host_fields(KWOK_NODE, Usage())
    assert (view["cpus"], view["mem_total"], view["disk_total"]) == (1000, 1024 * 1024, 0)
    assert (view["os"], view["disk_quota_supported"], view["cpu_used"], view["total_containers"]) == (None, False, 0.0, 0)


def test_runtime_handlers_the_kubelet_reports_are_the_runtimes() -> None:
    node = {**REAL_NODE, "status": {**REAL_NODE["status"], "runtimeHandlers": [{"name": ""}, {"name": "runc"}, {"name": "kata"}]}}
    assert host_fields(node, Usage())["runtimes"] == ["runc", "kata"]


def _node(labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "n", "labels": labels or {}}, "spec": {"taints": taints or []}}


@pytest.mark.parametrize(
    ("node", "selector", "tolerations", "expected"),
    [
        (REAL_NODE, {}, [], True),
        (KWOK_NODE, {}, [], False),  # untolerated NoSchedule: zunk8s cannot place containers there
        (KWOK_NODE, {}, [KWOK_TOLERATION], True),
        (KWOK_NODE, {}, [{"operator": "Exists"}], True),  # an empty key with Exists tolerates all
        (KWOK_NODE, {}, [{"key": "kwok.x-k8s.io/node", "value": "fake"}], True),  # Equal, any effect
        (KWOK_NODE, {}, [{"key": "kwok.x-k8s.io/node", "value": "real"}], False),
        (KWOK_NODE, {}, [{**KWOK_TOLERATION, "effect": "NoExecute"}], False),
        (REAL_NODE, {"type": "kwok"}, [], False),  # the configured node selector
        (KWOK_NODE, {"type": "kwok"}, [KWOK_TOLERATION], True),
        (_node(taints=[{"key": "x", "effect": "PreferNoSchedule"}]), {}, [], True),  # keeps no Pod off
        (_node(taints=[{"key": "x", "effect": "NoExecute"}]), {}, [], False),
        (_node(taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]), {}, [], False),
        # Kubernetes' own condition taints (cordoned, not ready): still a host, in trouble.
        (_node(taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]), {}, [], True),
        (_node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]), {}, [], True),
    ],
)
def test_which_nodes_are_hosts(
    node: dict[str, Any], selector: dict[str, str], tolerations: list[dict[str, str]], expected: bool
) -> None:
    assert is_host(node, node_selector=selector, tolerations=tolerations) is expected


def _record(cpu: float, memory: str | None, disk: int = 0) -> Record:
    return Record(
        uuid="u", name="n", project_id="p", user_id="u", image="i", cpu=cpu, memory=memory, disk=disk,
        created_at="2026-01-01 00:00:00.000000",
    )


def _pod(node: str | None, phase: str = "Running") -> dict[str, Any]:
    return {"spec": {"nodeName": node} if node else {}, "status": {"phase": phase}}


def test_usage_counts_every_container_and_what_live_pods_ask_for() -> None:
    usage = usage_by_node(
        [
            (_record(0.5, "256", 1), _pod("a")),
            (_record(1.0, "512"), _pod("a", "Pending")),
            (_record(2.0, "1024", 5), _pod("a", "Succeeded")),  # ended: holds nothing, still a container
            (_record(1.0, "128"), _pod("b", "Failed")),
            (_record(1.0, None), _pod(None)),  # not scheduled: on no host
        ]
    )
    assert usage == {"a": Usage(containers=3, cpu=1.5, memory_mib=768, disk_gib=1), "b": Usage(containers=1)}


HOSTS = [
    {"uuid": "u3", "hostname": "b", "cpus": 4, "os": None},
    {"uuid": "u1", "hostname": "c", "cpus": 2, "os": "Linux"},
    {"uuid": "u2", "hostname": "a", "cpus": 4, "os": "Linux"},
]


@pytest.mark.parametrize(
    ("sort_key", "sort_dir", "marker", "limit", "expected"),
    [
        ("hostname", "asc", None, 1000, ["u2", "u3", "u1"]),  # Zun's default order
        ("hostname", "desc", None, 1000, ["u1", "u3", "u2"]),
        ("cpus", "asc", None, 1000, ["u1", "u2", "u3"]),  # ties by uuid
        ("cpus", "desc", None, 1000, ["u3", "u2", "u1"]),
        ("os", "asc", None, 1000, ["u3", "u1", "u2"]),  # null first, as in MySQL
        ("hostname", "asc", None, 2, ["u2", "u3"]),
        ("hostname", "asc", "u3", 2, ["u1"]),
        ("hostname", "asc", "u1", 2, []),
    ],
)
def test_hosts_are_sorted_and_paged_as_zun_does(
    sort_key: str, sort_dir: str, marker: str | None, limit: int, expected: list[str]
) -> None:
    page = page_hosts(HOSTS, sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit)
    assert [h["uuid"] for h in page] == expected


def test_an_unknown_marker_is_zuns_404_and_a_bad_sort_key_its_400() -> None:
    with pytest.raises(ComputeNodeNotFound) as nf:
        page_hosts(HOSTS, sort_key="hostname", sort_dir="asc", marker="nope", limit=10)
    assert (nf.value.status, nf.value.code, nf.value.detail) == (404, "compute-node-not-found", "Compute node nope could not be found.")
    with pytest.raises(InvalidParameterValue) as bad:
        page_hosts(HOSTS, sort_key="labels", sort_dir="asc", marker=None, limit=10)
    assert (bad.value.status, bad.value.detail) == (400, 'The sort_key value "labels" is an invalid field for sorting')
    # Zun looks the marker up before its DB checks the sort key.
    with pytest.raises(ComputeNodeNotFound):
        page_hosts(HOSTS, sort_key="labels", sort_dir="asc", marker="nope", limit=10)
