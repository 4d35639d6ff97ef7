"""/v1/capsules for real: a capsule is one Pod whose containers share its address and volumes,
created behind a scheduling gate until its NetworkPolicy and new claims exist; Zun's views,
lookups, policies and 400s; delete takes the Pod and what it owned."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app
from zunk8s.appkeys import SERVICES
from zunk8s.clock import now_utc
from zunk8s.schemas.capsules import check_body
from zunk8s.service.capsules import STUCK_AFTER
from zunk8s.service.context import Caller
from zunk8s.translate.names import namespace_for

P = "proj-capsules"
OTHER = "proj-capsules-b"


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def kubectl(cluster: Cluster, *args: str) -> str:
    return subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args], check=True,
                          capture_output=True, text=True).stdout


def template(image: str, name: str, **extra: Any) -> dict[str, Any]:
    """Two containers sharing localhost (a server and a client of it), an init container writing
    into a new volume the client reads."""
    return {
        "kind": "capsule",
        "metadata": {"name": name, "labels": {"app": "web"}, "annotations": {"note": "n1"}},
        "spec": {
            "restartPolicy": "Always",
            "containers": [
                {"name": "server", "image": image, "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                 "command": ["sh", "-c", "mkdir -p /www && echo served > /www/index.html && httpd -f -p 8080 -h /www"],
                 "resources": {"requests": {"cpu": 0.1, "memory": 64}}},
                {"name": "client", "image": image, "volumeMounts": [{"name": "Data_1", "mountPath": "/data"}],
                 "command": ["sh", "-c", "until wget -q -O /tmp/got http://localhost:8080/; do sleep 0.5; done; "
                             "cat /tmp/got /data/x; sleep 3600"],
                 "env": {"MODE": "client"}},
            ],
            "initContainers": [{"image": image, "command": ["sh", "-c", "echo from-init > /data/x"],
                                "volumeMounts": [{"name": "Data_1", "mountPath": "/data"}]}],
            # A Zun volume name that is no DNS label (the Pod's volume is named for it).
            "volumes": [{"name": "Data_1", "cinder": {"size": 1, "autoRemove": True}}],
        },
        **extra,
    }


async def wait_capsule(zun: ZunAPI, ident: str, status: str, timeout: float = 90, project: str = P) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        r = await zun.call("GET", f"/v1/capsules/{ident}", project=project)
        assert r.status == 200, r.body
        last = r.body
        if last["status"] == status:
            return dict(last)
        await asyncio.sleep(0.5)
    raise AssertionError(f"capsule {ident} never {status}: {last and (last['status'], last['status_reason'])}")


async def test_a_capsule_is_one_pod_whose_containers_share_localhost(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    r = await zun.call("POST", "/v1/capsules", json={"template": template(cluster.image, "demo")}, project=P)
    assert r.status == 202, r.body
    made = r.body
    uuid = made["uuid"]
    assert r.headers["Location"].endswith(f"/v1/capsules/{uuid}")
    assert (made["name"], made["labels"], made["annotations"], made["status"]) == ("demo", {"app": "web"}, {"note": "n1"}, "Creating")
    assert made["restart_policy"] == {"MaximumRetryCount": "0", "Name": "always"}
    assert [c["name"] for c in made["containers"]] == ["server", "client"] and len(made["init_containers"]) == 1
    assert made["init_containers"][0]["name"].startswith("capsule-demo-")
    assert made["containers"][0]["ports"] == [8080] and made["containers"][1]["environment"] == {"MODE": "client"}
    # The client asks nothing: a Zun container's defaults (1 CPU, 512 MiB).
    assert (made["cpu"], made["memory"]) == (1.1, "576") and made["containers"][1]["cpu"] == 1.0
    assert "host" not in made  # capsule:get:host is an admin's

    running = await wait_capsule(zun, uuid, "Running")
    assert [c["status"] for c in running["containers"]] == ["Running", "Running"], running["containers"]
    assert running["init_containers"][0]["status"] == "Stopped", running["init_containers"]
    ip = next(iter(running["addresses"].values()))[0]["addr"]
    assert ip.startswith("10.88."), running["addresses"]

    namespace = namespace_for(P, ns_prefix)
    pod = json.loads(kubectl(cluster, "-n", namespace, "get", "pod", f"zun-capsule-{uuid}", "-o", "json"))
    assert [c["name"] for c in pod["spec"]["containers"]] == ["server", "client"]
    assert not pod["spec"].get("schedulingGates"), pod["spec"].get("schedulingGates")
    # The client reached the server on localhost and read what the init container wrote.
    deadline = time.monotonic() + 30
    while "from-init" not in (out := kubectl(cluster, "-n", namespace, "logs", f"zun-capsule-{uuid}", "-c", "client")):
        assert time.monotonic() < deadline, out
        await asyncio.sleep(0.5)
    assert "served" in out
    # Its own NetworkPolicy, owned by its Pod, as is its new claim.
    policy = json.loads(kubectl(cluster, "-n", namespace, "get", "networkpolicy", f"zun-capsule-{uuid}", "-o", "json"))
    assert policy["metadata"]["ownerReferences"][0]["uid"] == pod["metadata"]["uid"]
    claim = json.loads(kubectl(cluster, "-n", namespace, "get", "pvc", f"zun-capsule-{uuid}-v0", "-o", "json"))
    assert claim["metadata"]["ownerReferences"][0]["uid"] == pod["metadata"]["uid"]

    # Zun's lookups: by name and uuid; listed; another project sees nothing; an admin the host.
    assert (await zun.call("GET", "/v1/capsules/demo", project=P)).body["uuid"] == uuid
    listed = await zun.call("GET", "/v1/capsules", project=P)
    assert [c["uuid"] for c in listed.body["capsules"]] == [uuid] and listed.body["next"] is None
    assert (await zun.call("GET", f"/v1/capsules/{uuid}", project=OTHER)).status == 404
    assert (await zun.call("GET", "/v1/capsules", project=OTHER)).body["capsules"] == []
    admin = await zun.call("GET", f"/v1/capsules/{uuid}", project=OTHER, roles="admin")
    assert admin.status == 200 and admin.body["host"] == cluster.node, admin.body
    # Legacy view before 1.32.
    old = await zun.call("GET", f"/v1/capsules/{uuid}", project=P, version="1.31")
    assert (old.body["meta_name"], old.body["restart_policy"]) == ("demo", "always") and "name" not in old.body
    # Its containers are not Zun containers.
    names = [c["name"] for c in (await zun.call("GET", "/v1/containers", project=P)).body["containers"]]
    assert "server" not in names
    assert (await zun.call("GET", f"/v1/containers/{made['containers'][0]['uuid']}", project=P)).status == 404

    gone = await zun.call("DELETE", "/v1/capsules/demo", project=P)
    assert gone.status == 204 and gone.body is None
    deadline = time.monotonic() + 60
    while (await zun.call("GET", f"/v1/capsules/{uuid}", project=P)).status != 404:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)
    while kubectl(cluster, "-n", namespace, "get", "pvc,networkpolicy", "-l", f"zunk8s.openstack.org/capsule={uuid}",
                  "-o", "name").strip():
        assert time.monotonic() < deadline, "its claim and policy outlived it"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda t: t.pop("kind"), "'kind' is a required property"),
        (lambda t: t.update(kind="pod"), "field 'kind'"),
        (lambda t: t["spec"].update(containers=[]), "Capsule need to have one container at least"),
        (lambda t: t["spec"]["containers"][0].pop("image"), "'image' is a required property"),
        (lambda t: t["spec"]["containers"][0].update(labels={}), "'labels' was unexpected"),
        (lambda t: t["spec"]["containers"][0]["ports"][0].update(hostPort=80), "Remove hostPort"),
        (lambda t: t["spec"]["containers"][0]["resources"].update(limits={}), "'limits' was unexpected"),
        (lambda t: t["spec"]["containers"][1].update(env={"A": 1}), "It must map strings to strings"),
        (lambda t: t["spec"].update(restartPolicy="Sometimes"), "field 'restartPolicy'"),
        (lambda t: t["spec"].update(restartPolicy=[]), "field 'restartPolicy'"),
        (lambda t: t["spec"]["volumes"][0]["cinder"].update(size=1e300), "field 'size'"),
        (lambda t: t["spec"].update(hostNetwork=True), "not 'hostNetwork'"),
        (lambda t: t["spec"]["volumes"][0].update(cinder={}), "Volume size is needed"),
        (lambda t: t["spec"]["volumes"][0]["cinder"].update(volumeID="v"), "could not be set at the same time"),
        (lambda t: t["spec"]["volumes"].append({"name": "spare", "cinder": {"size": 1}}), "volume mount parameters is invalid"),
        (lambda t: t["spec"]["containers"][1].update(name="server"), "the same name"),
    ],
)
async def test_bad_templates_are_zuns_400(zun: ZunAPI, cluster: Cluster, mutate: Any, words: str) -> None:
    t = template(cluster.image, "bad")
    mutate(t)
    r = await zun.call("POST", "/v1/capsules", json={"template": t}, project=P)
    assert r.status == 400, r.body
    assert words in r.body["errors"][0]["detail"], r.body


async def test_lookups_errors_and_policy(zun: ZunAPI, cluster: Cluster) -> None:
    r = await zun.call("GET", "/v1/capsules/none-such", project=P)
    assert r.status == 404 and r.body["errors"][0]["detail"] == "Container none-such could not be found.", r.body
    r = await zun.call("POST", "/v1/capsules", json={"template": template(cluster.image, "x1"), "nets": []}, project=P)
    assert r.status == 400 and "'nets' was unexpected" in r.body["errors"][0]["detail"], r.body
    t = template(cluster.image, "vol")
    t["spec"]["volumes"] = [{"name": "Data_1", "cinder": {"volumeID": "no-such-claim"}}]
    r = await zun.call("POST", "/v1/capsules", json={"template": t}, project=P)
    assert r.status == 404 and r.body["errors"][0]["detail"] == "Volume no-such-claim could not be found.", r.body
    t = template(cluster.image, "pull")
    t["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    r = await zun.call("POST", "/v1/capsules", json={"template": t}, project=P)
    assert r.status == 403 and "container:create:image_pull_policy" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("DELETE", "/v1/capsules/none-such", project=P, params={"all_projects": "true"})
    assert r.status == 403, r.body


async def test_a_capsule_that_cannot_pull_is_an_error_with_the_reason(zun: ZunAPI, cluster: Cluster) -> None:
    t = {"kind": "capsule", "metadata": {"name": "nopull"},
         "spec": {"containers": [{"image": "localhost:5055/zunk8s-test/none-such:1", "command": ["true"]}]}}
    r = await zun.call("POST", "/v1/capsules", json={"template": t}, project=P)
    assert r.status == 202, r.body
    failed = await wait_capsule(zun, r.body["uuid"], "Error")
    assert "none-such" in failed["status_reason"] or "pull" in failed["status_reason"].lower(), failed
    assert failed["containers"][0]["status"] == "Error"
    assert (await zun.call("DELETE", f"/v1/capsules/{r.body['uuid']}", project=P)).status == 204


async def test_a_create_cut_short_is_finished_by_the_sweep(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    """A replica made the gated Pod and died before its policy: the Pod stays unscheduled (never
    unisolated), and the sweep makes the policy and lifts the gate."""
    services = zun.client.app[SERVICES]
    capsules = services.capsules
    finish = capsules.finish

    async def dies(pod: dict[str, Any]) -> None:
        raise RuntimeError("the replica died here")

    capsules.finish = dies  # the test plays the dying replica
    try:
        with pytest.raises(RuntimeError):
            await capsules.create(Caller(P, "u", frozenset(), "r"), check_body({"template": {
                "kind": "capsule", "metadata": {"name": "cut"},
                "spec": {"containers": [{"image": cluster.image, "command": ["sleep", "3600"]}]}}}))
    finally:
        capsules.finish = finish
    cut = await wait_capsule(zun, "cut", "Creating", timeout=5)
    namespace = namespace_for(P, ns_prefix)
    pod = json.loads(kubectl(cluster, "-n", namespace, "get", "pod", f"zun-capsule-{cut['uuid']}", "-o", "json"))
    assert pod["spec"]["schedulingGates"] and not pod["spec"].get("nodeName")
    assert not kubectl(cluster, "-n", namespace, "get", "networkpolicy", "-o", "name",
                       "-l", f"zunk8s.openstack.org/capsule={cut['uuid']}").strip()
    await services.recovery.sweep(now=now_utc() + timedelta(seconds=STUCK_AFTER + 5))
    await wait_capsule(zun, cut["uuid"], "Running")
    assert kubectl(cluster, "-n", namespace, "get", "networkpolicy", f"zun-capsule-{cut['uuid']}", "-o", "name").strip()
    assert (await zun.call("DELETE", f"/v1/capsules/{cut['uuid']}", project=P)).status == 204


async def test_a_project_quota_bounds_a_capsules_pod(zun: ZunAPI, cluster: Cluster) -> None:
    """Zun does not count capsules, but the project's ResourceQuota still bounds its Pods: a
    capsule past its cpu is Zun's 403 with Kubernetes' words, and nothing is made."""
    project = f"capq-{secrets.token_hex(3)}"
    r = await zun.call("PUT", f"/v1/quotas/{project}", json={"cpu": 1}, roles="admin")
    assert r.status == 200, r.body
    t = {"kind": "capsule", "metadata": {"name": "big"},
         "spec": {"containers": [{"image": cluster.image, "command": ["sleep", "60"]},
                                 {"image": cluster.image, "command": ["sleep", "60"]}]}}  # 1 CPU each by default
    deadline = time.monotonic() + 40
    while (r := await zun.call("POST", "/v1/capsules", json={"template": t}, project=project)).status == 503:
        assert time.monotonic() < deadline, r.body  # until Kubernetes has counted the new quota
        await asyncio.sleep(1)
    assert r.status == 403 and r.body["errors"][0]["code"] == "container.over-quota", r.body
    assert "exceeded quota" in r.body["errors"][0]["detail"], r.body
    assert (await zun.call("GET", "/v1/capsules", project=project)).body["capsules"] == []
