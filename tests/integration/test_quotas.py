"""Zun's quotas, quota classes and availability zones against the real cluster: a project's
quota is a ResourceQuota Kubernetes enforces too, and a create past it is refused with Zun's 403
before anything is made."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app
from zunk8s.translate.names import namespace_for

ADMIN = "admin"


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def kubectl(cluster: Cluster, *args: str) -> Any:
    out = subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args, "-o", "json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


async def test_a_quota_of_two_containers(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    project = f"quota-{secrets.token_hex(3)}"
    r = await zun.call("PUT", f"/v1/quotas/{project}", json={"containers": "2", "memory": 2048}, roles=ADMIN)
    assert r.status == 200, r.body
    assert r.body == {"containers": 2, "memory": 2048, "disk": 100, "cpu": 20}
    quota = kubectl(cluster, "-n", namespace_for(project, ns_prefix), "get", "resourcequota", "zun-quota")
    # (Kubernetes writes 2048Mi back as 2Gi.)
    assert quota["spec"]["hard"] == {"count/zuncontainers.zunk8s.openstack.org": "2", "limits.memory": "2Gi"}
    # Until Kubernetes' quota controller has counted the namespace, its admission refuses the
    # creates the quota covers (zunk8s waits 10 s, then answers 503); on a cluster just made it
    # learns of the ZunContainer kind at its next discovery, up to 30 s later.
    deadline = time.monotonic() + 90
    while "used" not in (quota := kubectl(cluster, "-n", namespace_for(project, ns_prefix), "get", "resourcequota",
                                           "zun-quota")).get("status", {}):
        assert time.monotonic() < deadline, quota
        await asyncio.sleep(1)

    made = [(await zun.create(project=project, memory="512"))["uuid"] for _ in range(2)]
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "command": ["true"]}, project=project)
    assert r.status == 403, r.body
    assert r.body["errors"][0]["code"] == "container.over-quota"
    assert r.body["errors"][0]["detail"] == "Quota exceeded for resources: ['containers']"
    r = await zun.call("GET", "/v1/containers", project=project)
    assert len(r.body["containers"]) == 2  # nothing of the refused one was made

    r = await zun.call("GET", f"/v1/quotas/{project}", params={"usages": "True"}, project=project)
    assert r.status == 200, r.body
    assert r.body["containers"] == {"limit": 2, "in_use": 2}
    assert r.body["memory"] == {"limit": 2048, "in_use": 1024} and r.body["cpu"]["in_use"] == 2.0

    # Deleting a container frees its slot; 512 + 1537 MiB is past 2048 (reaching it is not).
    await zun.call("DELETE", f"/v1/containers/{made[0]}", project=project)
    await zun.wait_gone(made[0], project=project)
    over_memory = await zun.call("POST", "/v1/containers", project=project,
                                 json={"image": zun.image, "command": ["true"], "memory": "1537"})
    assert over_memory.status == 403, over_memory.body
    assert over_memory.body["errors"][0]["detail"] == "Quota exceeded for resources: ['memory']"
    third = await zun.create(project=project, memory="512")

    # Another project sees only its own: a member cannot read or change this one's quota.
    r = await zun.call("GET", f"/v1/quotas/{project}", project="proj-other")
    assert r.status == 403, r.body
    r = await zun.call("PUT", f"/v1/quotas/{project}", json={"containers": 5}, project=project)
    assert r.status == 403 and "quota:update" in r.body["errors"][0]["detail"], r.body

    r = await zun.call("DELETE", f"/v1/quotas/{project}", roles=ADMIN)
    assert r.status == 200 and r.body is None, r.body
    r = await zun.call("GET", f"/v1/quotas/{project}", project=project)
    assert r.body == {"containers": 40, "memory": 51200, "disk": 100, "cpu": 20}
    for u in (made[1], third["uuid"]):
        await zun.call("DELETE", f"/v1/containers/{u}", project=project)


@pytest.mark.parametrize("body,words", [
    ({"containers": -2}, "is less than the minimum of -1"),
    ({"containers": "1.5"}, "does not match"),
    ({"cpu": True}, "is not of type 'integer', 'string'"),
    ({"pods": 1}, "Additional properties are not allowed ('pods' was unexpected)"),
    ([1], "is not of type 'object'"),
])
async def test_bad_quota_updates(zun: ZunAPI, body: Any, words: str) -> None:
    r = await zun.call("PUT", "/v1/quotas/some-project", json=body, roles=ADMIN)
    assert r.status == 400 and words in r.body["errors"][0]["detail"], r.body


async def test_the_default_quota_class_applies_to_projects_without_a_quota(zun: ZunAPI) -> None:
    project = f"qc-{secrets.token_hex(3)}"
    r = await zun.call("GET", "/v1/quota_classes/default", roles=ADMIN)
    assert r.status == 200 and r.body == {"containers": 40, "memory": 51200, "disk": 100, "cpu": 20}, r.body
    r = await zun.call("PUT", "/v1/quota_classes/default", json={"containers": 1}, roles=ADMIN)
    assert r.status == 200 and r.body["containers"] == 1, r.body
    try:
        r = await zun.call("GET", f"/v1/quotas/{project}/defaults", project=project)
        assert r.body["containers"] == 1, r.body
        await zun.create(project=project)
        r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "command": ["true"]}, project=project)
        assert r.status == 403 and "['containers']" in r.body["errors"][0]["detail"], r.body
        r = await zun.call("GET", "/v1/quota_classes/default", project=project)  # admins only
        assert r.status == 403, r.body
    finally:
        r = await zun.call("PUT", "/v1/quota_classes/default", json={"containers": 40}, roles=ADMIN)
        assert r.status == 200, r.body


async def test_availability_zones_are_the_hosts_zones(cluster: Cluster, ns_prefix: str) -> None:
    """A zone label on a Node zunk8s may place containers on is a zone; a Node it may not (a
    kwok node's taint, not tolerated) adds none."""
    zone = f"zt-zone-{secrets.token_hex(3)}"
    label = f"topology.kubernetes.io/zone={zone}"
    base = [cluster.kubectl, "--kubeconfig", cluster.kubeconfig]
    subprocess.run([*base, "label", "node", "kwok-node-2", label, "--overwrite"], check=True, capture_output=True)
    tolerate = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
    try:
        for tolerations, want in (([], []), (tolerate, [zone])):
            settings = make_settings(cluster, ns_prefix, tolerations=tolerations)
            async with TestClient(TestServer(create_app(settings))) as client:
                r = await ZunAPI(client, image=cluster.image).call("GET", "/v1/availability_zones", project="proj-a")
            assert r.status == 200, r.body
            zones = [z["availability_zone"] for z in r.body["availability_zones"]]
            assert [z for z in zones if z.startswith("zt-zone-")] == want and r.body["next"] is None, r.body
    finally:
        subprocess.run([*base, "label", "node", "kwok-node-2", "topology.kubernetes.io/zone-"], capture_output=True)


async def test_an_update_past_the_quota_is_refused(zun: ZunAPI) -> None:
    """Zun checks an update's new cpu and memory against the quota too (what they add)."""
    project = f"qu-{secrets.token_hex(3)}"
    r = await zun.call("PUT", f"/v1/quotas/{project}", json={"memory": 1024, "cpu": 2}, roles=ADMIN)
    assert r.status == 200, r.body
    c = await zun.create(project=project, memory="512", cpu=1)
    await zun.wait_for(c["uuid"], "Created", project=project)
    r = await zun.call("PATCH", f"/v1/containers/{c['uuid']}", json={"memory": "1025"}, project=project)
    assert r.status == 403 and r.body["errors"][0]["detail"] == "Quota exceeded for resources: ['memory']", r.body
    r = await zun.call("PATCH", f"/v1/containers/{c['uuid']}", json={"memory": "1024", "cpu": 2}, project=project)
    assert r.status == 200 and r.body["memory"] == "1024", r.body  # reaching the limit is not past it
    r = await zun.call("PATCH", f"/v1/containers/{c['uuid']}", json={"cpu": 2.5}, project=project)
    assert r.status == 403 and "['cpu']" in r.body["errors"][0]["detail"], r.body
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", project=project)
