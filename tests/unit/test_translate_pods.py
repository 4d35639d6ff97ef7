import json

from zunk8s.records import Record
from zunk8s.translate import labels as L
from zunk8s.translate.names import namespace_for, pod_name, project_hash
from zunk8s.translate.pods import Owner, PodOptions, build_pod, build_probe

UUID = "0342dad3-1111-2222-3333-444455556666"


def _record(**kw: object) -> Record:
    base: dict[str, object] = {
        "uuid": UUID,
        "name": "web",
        "project_id": "p1",
        "user_id": "u1",
        "image": "localhost/zunk8s-busybox:1",
        "created_at": "2026-11-27 05:34:04.286314",
    }
    base.update(kw)
    return Record.model_validate(base)


def _pod(record: Record, options: PodOptions | None = None) -> dict[str, object]:
    return build_pod(
        record,
        name=pod_name(record.uuid, 3),
        namespace="zun-p1",
        project_hash=project_hash("p1"),
        generation=3,
        options=options or PodOptions(),
        owner=Owner(api_version="zunk8s.openstack.org/v1alpha1", kind="ZunContainer", name=UUID, uid="uid-1"),
    )


def test_golden_pod() -> None:
    record = _record(
        command=["sleep", "100"],
        entrypoint=["/bin/sh", "-c"],
        cpu=0.5,
        memory="256",
        disk=2,
        workdir="/w",
        environment={"A": "b"},
        labels={"app": "hello", "bad key!": "x"},
        restart_policy={"Name": "on-failure", "MaximumRetryCount": "3"},
        interactive=True,
        tty=True,
        image_pull_policy="ifnotpresent",
        hostname="myhost",
        runtime="runsc",
    )
    pod = _pod(record)
    expected = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"zun-{UUID}-3",
            "namespace": "zun-p1",
            "labels": {
                "app": "hello",
                L.MANAGED_BY: "zunk8s",
                L.INSTANCE: "default",
                L.UUID: UUID,
                L.PROJECT: project_hash("p1"),
                L.GENERATION: "3",
            },
            "annotations": {L.ANN_LABELS: json.dumps({"app": "hello", "bad key!": "x"}, sort_keys=True, separators=(",", ":"))},
            "ownerReferences": [
                {
                    "apiVersion": "zunk8s.openstack.org/v1alpha1",
                    "kind": "ZunContainer",
                    "name": UUID,
                    "uid": "uid-1",
                    "controller": True,
                    "blockOwnerDeletion": False,
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "localhost/zunk8s-busybox:1",
                    "resources": {
                        "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "2Gi"},
                        "requests": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "2Gi"},
                    },
                    "stdin": True,
                    "tty": True,
                    "stdinOnce": False,
                    "command": ["/bin/sh", "-c"],
                    "args": ["sleep", "100"],
                    "workingDir": "/w",
                    "env": [{"name": "A", "value": "b"}],
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            # on-failure:3 is retried by zunk8s, one Pod per run (translate/pods.py zunk8s_restarts).
            "restartPolicy": "Never",
            "hostname": "myhost",
            "enableServiceLinks": False,
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 10,
            "runtimeClassName": "runsc",
        },
    }
    assert pod == expected


def test_defaults_and_options() -> None:
    options = PodOptions(
        request_ratio=0.1,
        stop_timeout=5,
        node_selector={"type": "kwok"},
        tolerations=[{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
    )
    pod = _pod(_record(availability_zone="az1"), options)
    spec = pod["spec"]
    assert isinstance(spec, dict)
    c = spec["containers"][0]
    assert "command" not in c and "args" not in c and "imagePullPolicy" not in c
    assert c["resources"]["limits"] == {"cpu": "1000m", "memory": "512Mi"}
    assert c["resources"]["requests"] == {"cpu": "100m", "memory": "52429Ki"}
    assert spec["restartPolicy"] == "Never"
    assert spec["hostname"] == UUID.replace("-", "")[:12]
    assert spec["nodeSelector"] == {"type": "kwok", "topology.kubernetes.io/zone": "az1"}
    assert spec["tolerations"][0]["key"] == "kwok.x-k8s.io/node"
    assert spec["terminationGracePeriodSeconds"] == 5


def test_restart_policies() -> None:
    for zun, k8s in (("no", "Never"), ("always", "Always"), ("on-failure", "OnFailure"), ("unless-stopped", "Always")):
        spec = _pod(_record(restart_policy={"Name": zun, "MaximumRetryCount": "0"}))["spec"]
        assert isinstance(spec, dict) and spec["restartPolicy"] == k8s


def test_healthcheck_probe() -> None:
    probe = build_probe({"test": "stat /etc/passwd || exit 1", "interval": 3, "retries": 2, "timeout": 5})
    assert probe == {
        "exec": {"command": ["/bin/sh", "-c", "stat /etc/passwd || exit 1"]},
        "periodSeconds": 3,
        "timeoutSeconds": 5,
        "failureThreshold": 2,
    }


def test_namespace_names() -> None:
    assert namespace_for("demo", "zun-") == "zun-demo"
    assert namespace_for("2cc8ed7104ca427c873cad82411bcebb", "zun-") == "zun-2cc8ed7104ca427c873cad82411bcebb"
    hashed = namespace_for("My Project", "zun-")
    assert hashed == "zun-" + project_hash("My Project") and len(hashed) <= 63
    assert namespace_for("x" * 70, "zun-").startswith("zun-") and len(namespace_for("x" * 70, "zun-")) <= 63


def test_label_validity() -> None:
    assert L.is_valid_label_key("app")
    assert L.is_valid_label_key("example.com/app")
    assert not L.is_valid_label_key("bad key")
    assert not L.is_valid_label_key("kubernetes.io/x")
    assert not L.is_valid_label_key(f"{L.PREFIX}/uuid")
    assert L.is_valid_label_value("")
    assert not L.is_valid_label_value("x" * 64)
    valid, annotation = L.split_user_labels({"ok": "v", "no way": "v"})
    assert valid == {"ok": "v"}
    assert annotation is not None and json.loads(annotation) == {"ok": "v", "no way": "v"}


def test_instance_names() -> None:
    assert L.instance_for("zun-").startswith("zun-")
    assert L.instance_for("zt1a2b3c-").startswith("zt1a2b3c-")
    # Prefixes that read alike once label-safe still name different installations (#13 class 9).
    for a, b in (("rel-", "rel"), ("zun-", "zun"), ("a b/c-", "a-b-c"), ("x.", "x-")):
        assert L.instance_for(a) != L.instance_for(b)
    for prefix in ("", "-", "zun-", "a" * 200, "Ünïcode-", "a b/c-"):
        value = L.instance_for(prefix)
        assert L.is_valid_label_value(value) and value, prefix
        assert L.instance_for(prefix) == value  # stable across restarts
    assert L.managed_selector("zun") == "app.kubernetes.io/managed-by=zunk8s,zunk8s.openstack.org/instance=zun"
