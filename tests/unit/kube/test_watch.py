"""The informer caches keep only what zunk8s reads: what is kept, that nothing zunk8s decides
changes, and that lists and local writes go through the same transform."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from tests.unit.translate.test_status import CASES
from zunk8s.kube.http import KubeHTTP
from zunk8s.kube.watch import LIST_PAGE, Informer, slim_pod, slim_record
from zunk8s.records import Record
from zunk8s.service.registry import entry_from_object
from zunk8s.translate.pods import Owner, PodOptions, build_pod
from zunk8s.translate.status import observe_pod

Obj = dict[str, Any]

MANAGED = [
    {
        "manager": "python",
        "operation": "Update",
        "apiVersion": "v1",
        "time": "2026-11-27T11:55:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app.kubernetes.io/managed-by": {}}}, "f:spec": {}},
    }
]


def whole_pod(status: Obj, *, rv: str = "1234", deleting: bool = False) -> Obj:
    """A Pod as the API server returns it: zunk8s's manifest plus what the server and node add."""
    record = Record(
        uuid="0b5c1d0e-1f1a-4a7a-9d7b-3a3c2d1e0f00",
        name="web",
        project_id="p",
        user_id="u",
        image="busybox",
        command=["sleep", "60"],
        environment={"A": "1"},
        labels={"tier": "front"},
        created_at="2026-11-27 11:55:00.000000",
    )
    pod = build_pod(
        record,
        name="zun-0b5c1d0e-1f1a-4a7a-9d7b-3a3c2d1e0f00-1",
        namespace="zun-p",
        project_hash="p",
        generation=1,
        options=PodOptions(instance="zun", request_ratio=1.0, stop_timeout=10, node_selector={}, tolerations=[]),
        owner=Owner(api_version="zunk8s.openstack.org/v1alpha1", kind="ZunContainer", name=record.uuid, uid="u-1"),
    )
    meta = pod["metadata"]
    meta.update(
        uid="9f7e", resourceVersion=rv, creationTimestamp="2026-11-27T11:55:00Z", generation=1, managedFields=MANAGED
    )
    if deleting:
        meta.update(deletionTimestamp="2026-11-27T11:59:00Z", deletionGracePeriodSeconds=10)
    pod["spec"].update(
        nodeName="kwok-node-1",
        schedulerName="default-scheduler",
        dnsPolicy="ClusterFirst",
        priority=0,
        tolerations=[{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
    )
    full_status = copy.deepcopy(status)
    full_status.setdefault("hostIP", "127.0.0.1")
    full_status.setdefault("qosClass", "Guaranteed")
    full_status.setdefault("startTime", "2026-11-27T11:55:01Z")
    for cs in full_status.get("containerStatuses") or []:
        cs.update(image="busybox", imageID="", containerID="kwok://x", ready=True, started=True)
    for cond in full_status.get("conditions") or []:
        cond.setdefault("lastTransitionTime", "2026-11-27T11:55:01Z")
        cond.setdefault("lastProbeTime", None)
    pod["status"] = full_status
    return pod


@pytest.mark.parametrize(("p", "status", "reason"), CASES)
def test_slim_pod_observes_the_same(p: Obj, status: str, reason: str | None) -> None:
    whole = whole_pod(p["status"])
    # The case's own spec (no restartPolicy: Kubernetes' default, Always).
    whole["spec"].pop("restartPolicy")
    whole["spec"].update(p["spec"])
    assert observe_pod(slim_pod(whole)) == observe_pod(whole)
    assert observe_pod(slim_pod(whole)).status == status


def test_slim_pod_keeps_what_zunk8s_reads_only() -> None:
    main = {
        "name": "main",
        "restartCount": 2,
        "state": {"running": {"startedAt": "2026-11-27T11:55:02Z"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-27T11:55:01Z"}},
    }
    running = {
        "phase": "Running",
        "podIP": "10.244.0.5",
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [main],
    }
    whole = whole_pod(running, deleting=True)
    slim = slim_pod(whole)
    meta = slim["metadata"]
    assert "managedFields" not in meta and "ownerReferences" not in meta and "annotations" not in meta
    assert meta["name"] == whole["metadata"]["name"] and meta["namespace"] == "zun-p"
    assert meta["labels"] == whole["metadata"]["labels"]
    assert meta["resourceVersion"] == "1234" and meta["creationTimestamp"] == "2026-11-27T11:55:00Z"
    assert meta["deletionTimestamp"] == "2026-11-27T11:59:00Z"
    assert slim["spec"] == {"nodeName": "kwok-node-1", "restartPolicy": whole["spec"]["restartPolicy"]}
    assert set(slim["status"]) == {"phase", "podIP", "conditions", "containerStatuses"}
    # (with the runtime's container id: the node agent's answer names it)
    assert slim["status"]["containerStatuses"] == [{**main, "containerID": "kwok://x"}]
    assert slim["status"]["conditions"][1] == {"type": "PodScheduled", "status": "True"}
    obs = observe_pod(slim)
    assert (obs.status, obs.restart_count, obs.host, obs.pod_ip) == ("Running", 2, "kwok-node-1", "10.244.0.5")


def test_slim_pod_shares_repeated_strings() -> None:
    a = slim_pod(copy.deepcopy(whole_pod({"phase": "Pending"})))
    b = slim_pod(copy.deepcopy(whole_pod({"phase": "Pending"})))
    key_a = next(k for k in a["metadata"]["labels"] if k.endswith("/uuid"))
    key_b = next(k for k in b["metadata"]["labels"] if k.endswith("/uuid"))
    assert key_a is key_b
    assert a["spec"]["nodeName"] is b["spec"]["nodeName"]


def whole_record(status: Obj | None) -> Obj:
    obj: Obj = {
        "apiVersion": "zunk8s.openstack.org/v1alpha1",
        "kind": "ZunContainer",
        "metadata": {
            "name": "0b5c1d0e-1f1a-4a7a-9d7b-3a3c2d1e0f00",
            "namespace": "zun-p",
            "uid": "u-1",
            "resourceVersion": "77",
            "generation": 1,
            "creationTimestamp": "2026-11-27T11:55:00Z",
            "labels": {"app.kubernetes.io/managed-by": "zunk8s"},
            "managedFields": MANAGED,
        },
        "spec": {
            "uuid": "0b5c1d0e-1f1a-4a7a-9d7b-3a3c2d1e0f00",
            "name": "web",
            "project_id": "p",
            "user_id": "u",
            "image": "busybox",
            "environment": {"A": "1"},
            "created_at": "2026-11-27 11:55:00.000000",
        },
    }
    if status is not None:
        obj["status"] = status
    return obj


@pytest.mark.parametrize("status", [None, {"status": "Running", "pod": "zun-x-1", "task_state": None, "generation": 1}])
def test_slim_record_keeps_metadata_spec_status(status: Obj | None) -> None:
    whole = whole_record(status)
    slim = slim_record(whole)
    assert "managedFields" not in slim["metadata"]
    assert {k: v for k, v in whole["metadata"].items() if k != "managedFields"} == slim["metadata"]
    assert slim["spec"] == whole["spec"]
    assert slim.get("status") == whole.get("status")
    assert entry_from_object(slim) == entry_from_object(whole)


class FakeHTTP:
    """Stands in for KubeHTTP.request: serves list pages in order."""

    def __init__(self, pages: list[Obj]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    async def request(
        self, method: str, path: str, *, params: Any = None, timeout: float | None = None, wait_for_api: bool = False
    ) -> Obj:
        # The informer's list waits out an API outage instead of failing (kube/http.py).
        assert wait_for_api
        self.calls.append(dict(params or {}))
        return self.pages[len(self.calls) - 1]


def informer(http: FakeHTTP) -> Informer:
    return Informer(cast(KubeHTTP, http), path="/api/v1/pods", label_selector="a=b", name="pods", transform=slim_pod)


def pod_named(name: str, rv: str) -> Obj:
    pod = whole_pod({"phase": "Pending"}, rv=rv)
    pod["metadata"]["name"] = name
    return pod


async def test_list_reads_pages_and_caches_slim_objects() -> None:
    http = FakeHTTP(
        [
            {"metadata": {"continue": "c1", "resourceVersion": "50"}, "items": [pod_named("a", "10")]},
            {"metadata": {"resourceVersion": "50"}, "items": [pod_named("b", "20")]},
        ]
    )
    inf = informer(http)
    events: list[tuple[str, str]] = []
    inf.add_handler(lambda kind, obj: events.append((kind, obj["metadata"]["name"])))
    assert await inf._list() == "50"
    assert [c.get("continue") for c in http.calls] == [None, "c1"]
    assert all(c["limit"] == LIST_PAGE for c in http.calls)
    assert sorted(name for _, name in inf.store) == ["a", "b"]
    assert all("managedFields" not in obj["metadata"] and "containers" not in obj["spec"] for obj in inf.store.values())
    assert sorted(events) == [("ADDED", "a"), ("ADDED", "b")]


async def test_relist_keeps_objects_written_after_its_snapshot() -> None:
    http = FakeHTTP([{"metadata": {"resourceVersion": "100"}, "items": [pod_named("old", "90")]}])
    inf = informer(http)
    inf.upsert_local(pod_named("old", "90"))
    inf.upsert_local(pod_named("gone", "80"))  # deleted before the snapshot
    inf.upsert_local(pod_named("new", "120"))  # created through this replica after it
    events: list[tuple[str, str]] = []
    inf.add_handler(lambda kind, obj: events.append((kind, obj["metadata"]["name"])))
    await inf._list()
    assert sorted(name for _, name in inf.store) == ["new", "old"]
    assert events == [("DELETED", "gone")]


def test_upsert_local_caches_a_slim_copy_and_leaves_the_callers_object() -> None:
    inf = informer(FakeHTTP([]))
    pod = pod_named("a", "5")
    before = copy.deepcopy(pod)
    inf.upsert_local(pod)
    assert pod == before
    cached = inf.store[("zun-p", "a")]
    assert cached == slim_pod(pod) and "managedFields" not in cached["metadata"]
    inf.upsert_local(pod_named("a", "4"))  # older: ignored
    assert inf.store[("zun-p", "a")]["metadata"]["resourceVersion"] == "5"


def test_slim_pod_keeps_only_the_node_agents_annotations() -> None:
    whole = whole_pod({"phase": "Running"})
    agents = {
        "zunk8s.openstack.org/want-state": "paused req-1", "zunk8s.openstack.org/node-state": "paused req-1",
        "zunk8s.openstack.org/want-stats": "req-2", "zunk8s.openstack.org/stats": '{"request":"req-2","error":"x"}',
        "zunk8s.openstack.org/want-commit": '{"request":"req-3"}', "zunk8s.openstack.org/commit": '{"request":"req-3"}',
    }
    whole["metadata"]["annotations"] = {
        **agents, "zunk8s.openstack.org/labels": "{}", "kubectl.kubernetes.io/last-applied-configuration": "{...}",
    }
    assert slim_pod(whole)["metadata"]["annotations"] == agents
