"""A capsule as one Pod (zunk8s/translate/capsules.py)."""

from typing import Any

from zunk8s.records import Record
from zunk8s.translate import capsules as C
from zunk8s.translate.netports import port_id


def record(**extra: Any) -> C.CapsuleRecord:
    def c(uuid: str, name: str, **kw: Any) -> Record:
        return Record(uuid=uuid, name=name, project_id="p", user_id="u", image="img", created_at="t", **kw)

    fields: dict[str, Any] = dict(
        uuid="cap1", name="demo", project_id="p", user_id="u", networks=["net1"], security_groups=["g1"],
        created_at="2026-01-01 00:00:00",
        containers=[c("c1", "web", cpu=0.5, memory="256", exposed_ports=["80/tcp"], command=["httpd"]),
                    c("c2", "side", cpu=0.25, memory="128", environment={"A": "1"})],
        init_containers=[c("i1", "setup", cpu=1.0, memory="64")],
        kube_names={"c1": "web", "c2": "container-1", "i1": "init-0"},
        mounts={"c1": [("data", "/data", True)]},
        volumes=[C.CapsuleVolume(name="data", kube="data", claim="zun-capsule-cap1-v0", made=True, size=2, auto_remove=True)],
    )
    fields.update(extra)
    return C.CapsuleRecord(**fields)


def pod(rec: C.CapsuleRecord, **status: Any) -> dict[str, Any]:
    p = C.capsule_pod(rec, namespace="ns", project_hash="h", instance="i", ratio=1.0, node_selector={}, tolerations=[])
    p["metadata"]["uid"] = "pod-uid"
    p["status"] = status
    return p


def test_the_pod_holds_every_container_and_the_record() -> None:
    rec = record()
    p = pod(rec)
    spec = p["spec"]
    assert [c["name"] for c in spec["containers"]] == ["web", "container-1"]
    assert [c["name"] for c in spec["initContainers"]] == ["init-0"]
    web = spec["containers"][0]
    assert web["args"] == ["httpd"] and "command" not in web  # Zun's command is Docker's CMD
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert web["volumeMounts"] == [{"name": "data", "mountPath": "/data", "readOnly": True}]
    assert web["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert spec["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "zun-capsule-cap1-v0"}}]
    assert spec["restartPolicy"] == "Always" and spec["schedulingGates"] == [{"name": C.ISOLATION_GATE}]
    assert p["metadata"]["labels"][C.CAPSULE_LABEL] == "cap1"
    assert C.record_of(p) == rec and C.gated(p)
    assert (rec.cpu, rec.memory) == (1.0, "384")  # the init container asks more CPU than both others


def test_new_claims_are_owned_only_when_auto_removed() -> None:
    owner = {"kind": "Pod", "uid": "pod-uid"}
    claims = C.new_claims(record(), namespace="ns", labels={}, owner=owner)
    assert [c["metadata"]["ownerReferences"] for c in claims] == [[owner]]
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    kept = record(volumes=[C.CapsuleVolume(name="data", kube="data", claim="x", made=True, size=1)])
    assert "ownerReferences" not in C.new_claims(kept, namespace="ns", labels={}, owner=owner)[0]["metadata"]


def test_status_follows_the_pod() -> None:
    rec = record()
    assert C.capsule_status(pod(rec), rec) == ("Creating", None)
    running = {"phase": "Running", "podIP": "10.88.128.5",
               "containerStatuses": [{"name": "web", "state": {"running": {}}},
                                     {"name": "container-1", "state": {"running": {}}}],
               "initContainerStatuses": [{"name": "init-0", "state": {"terminated": {"exitCode": 0}}}]}
    p = pod(rec, **running)
    assert C.capsule_status(p, rec) == ("Running", None)
    assert C.container_status(p, "init-0", init=True).status == "Stopped"
    assert C.addresses(p, rec) == {"net1": [{"addr": "10.88.128.5", "version": 4, "port": port_id("cap1", "net1"),
                                             "subnet_id": None, "preserve_on_delete": False}]}
    pulling = {"phase": "Pending", "containerStatuses": [
        {"name": "web", "state": {"waiting": {"reason": "ErrImagePull", "message": "401 Unauthorized"}}}]}
    assert C.capsule_status(pod(rec, **pulling), rec) == ("Error", "web: ErrImagePull: 401 Unauthorized")
    assert C.capsule_status(pod(rec, phase="Succeeded"), rec) == ("Stopped", None)


def test_views_by_version() -> None:
    rec = record()
    p = pod(rec)
    new = C.view(p, rec, base_url="http://z", legacy=False, show_host=False, containers=[], init_containers=[])
    assert (new["name"], new["restart_policy"]) == ("demo", {"MaximumRetryCount": "0", "Name": "always"})
    assert "host" not in new and new["addresses"] is None
    old = C.view(p, rec, base_url="http://z", legacy=True, show_host=True, containers=[], init_containers=[])
    assert (old["meta_name"], old["restart_policy"], old["containers_uuids"]) == ("demo", "always", ["c1", "c2"])
    assert "name" not in old and "host" in old
