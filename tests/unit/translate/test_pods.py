import json

from zunk8s.records import Record
from zunk8s.translate import labels as L
from zunk8s.translate.names import pod_name, project_hash
from zunk8s.translate.pods import Owner, PodOptions, build_pod, build_probe, pod_restart_policy, retry_limit

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
        security_groups=["g1"],
        networks=["n1"],
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
                # Its groups and networks, selected by other containers' NetworkPolicies.
                "sg.zunk8s.openstack.org/g1": "",
                "net.zunk8s.openstack.org/n1": "",
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


# --- #13 class 12: lifecycle ---

def test_on_failure_with_a_limit_is_retried_by_zunk8s() -> None:
    limited = _record(restart_policy={"Name": "on-failure", "MaximumRetryCount": "2"})
    assert retry_limit(limited) == 2 and pod_restart_policy(limited) == "Never"
    unlimited = _record(restart_policy={"Name": "on-failure", "MaximumRetryCount": "0"})
    assert retry_limit(unlimited) == 0 and pod_restart_policy(unlimited) == "OnFailure"


def test_the_action_that_made_a_pod_is_a_label() -> None:
    record = Record(uuid=UUID, name="n", project_id="p1", user_id="u", image="busybox", created_at="t")

    def labels(task: str | None) -> dict[str, str]:
        pod = build_pod(
            record, name="zun-x-1", namespace="zun-p1", project_hash="h", generation=1, options=PodOptions(), owner=None,
            task=task,
        )
        return dict(pod["metadata"]["labels"])

    assert labels("req-6c1d")[L.TASK] == "req-6c1d"
    assert L.TASK not in labels(None)


def test_a_requested_host_binds_every_pod_to_that_node_through_the_scheduler() -> None:
    options = PodOptions(node_selector={"type": "real"})
    spec = _pod(_record(requested_host="zun-real-0"), options)["spec"]
    assert isinstance(spec, dict)
    assert spec["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["zun-real-0"]}]}]
            }
        }
    }
    # Not spec.nodeName: the scheduler still checks fit and taints; the selector still applies.
    assert "nodeName" not in spec and spec["nodeSelector"] == {"type": "real"}
    plain = _pod(_record())["spec"]
    assert isinstance(plain, dict) and "affinity" not in plain
