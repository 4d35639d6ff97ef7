"""create's mounts for real: a bind mount injects a file the container reads and writes; a volume
mount gives the container an existing claim of the project, or a new one removed with it (claims
are filled by the local cluster's default StorageClass: the controller manager's hostPath
provisioner)."""

from __future__ import annotations

import asyncio
import base64
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

P = "proj-a"


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def kubectl(cluster: Cluster, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args], input=stdin,
                          capture_output=True, text=True, check=check)


async def logs(zun: ZunAPI, uuid: str) -> str:
    r = await zun.call("GET", f"/v1/containers/{uuid}/logs", params={"stdout": "true"})
    assert r.status == 200, r.body
    return r.body.decode() if isinstance(r.body, bytes) else str(r.body)


async def logs_with(zun: ZunAPI, uuid: str, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while text not in (out := await logs(zun, uuid)):
        assert time.monotonic() < deadline, out
        await asyncio.sleep(0.3)
    return out


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_a_bind_mount_injects_a_file_the_container_reads_and_writes(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    content = f"injected {secrets.token_hex(4)}\n"
    c = await zun.create(run=True, mounts=[{"type": "bind", "source": b64(content), "destination": "/etc/x/app.conf"}],
                         command=["sh", "-c", "cat /etc/x/app.conf; echo appended >> /etc/x/app.conf; "
                                  "ls -l /etc/x/app.conf; cat /etc/x/app.conf; sleep 3600"])
    uuid = c["uuid"]
    assert "mounts" not in c and content.strip() not in json.dumps(c)  # never shown
    await zun.wait_for(uuid, "Running")
    out = await logs_with(zun, uuid, "appended")
    assert out.count(content.strip()) == 2 and "-rw-r--r--" in out, out
    # The contents live in a Secret the record owns: deleting the container removes it.
    namespace = namespace_for(P, ns_prefix)
    secret = json.loads(kubectl(cluster, "-n", namespace, "get", "secret", f"zun-{uuid}-files", "-o", "json").stdout)
    assert secret["metadata"]["ownerReferences"][0]["name"] == uuid and secret["immutable"] is True
    r = await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"})
    assert r.status == 204, r.body
    deadline = time.monotonic() + 30
    while kubectl(cluster, "-n", namespace, "get", "secret", f"zun-{uuid}-files", check=False).returncode == 0:
        assert time.monotonic() < deadline, "the files' Secret outlived its container"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("mount,status,words", [
    ({"type": "bind", "source": "not base64!", "destination": "/etc/x"}, 400, "base64"),
    ({"type": "bind", "source": b64("x"), "destination": "etc/x"}, 400, "absolute path"),
    ({"type": "bind", "source": b64("x"), "destination": "/proc/x"}, 400, "runtime mounts"),
    ({"type": "bind", "source": b64("x"), "destination": "/etc/x", "size": 1}, 400, "'size' is for type 'volume'"),
    ({"type": "nfs", "source": "x", "destination": "/x"}, 400, "Invalid mount type"),
    ({"type": "bind", "source": b64("secret-words")}, 400, "is not valid under any of the given schemas"),
    ({"destination": "/x", "source": "x", "bogus": 1}, 400, "Additional properties are not allowed"),
    ({"source": "no-such-claim", "destination": "/data"}, 404, "Volume no-such-claim could not be found."),
    ({"size": "0", "destination": "/data"}, 400, "at least 1 GiB"),
])
async def test_bad_mounts_are_refused_before_anything_is_made(
    zun: ZunAPI, mount: dict[str, Any], status: int, words: str
) -> None:
    body = {"image": zun.image, "command": ["true"], "mounts": [mount]}
    r = await zun.call("POST", "/v1/containers", json=body)
    assert r.status == status, r.body
    detail = r.body["errors"][0]["detail"]
    assert words in detail and "secret-words" not in detail and b64("secret-words") not in detail, detail
    # mounts came with 1.11.
    old = {**body, "command": "true", "mounts": [{"source": "x", "destination": "/x"}]}  # a string before 1.20
    r = await zun.call("POST", "/v1/containers", json=old, version="1.10")
    assert r.status == 400 and "only supported from version 1.11" in r.body["errors"][0]["detail"], r.body


async def test_a_volume_mount_of_an_existing_claim(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    first = await zun.create(run=False)  # the project's namespace, where its claims live
    namespace = namespace_for(P, ns_prefix)
    # The local cluster's default StorageClass (the controller manager's hostPath provisioner).
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    kubectl(cluster, "apply", "-f", "-", stdin=json.dumps(claim))
    writer = await zun.create(run=True, mounts=[{"source": "data", "destination": "/data"}],
                              command=["sh", "-c", "echo kept > /data/f; sleep 3600"])
    await zun.wait_for(writer["uuid"], "Running")
    await zun.call("DELETE", f"/v1/containers/{writer['uuid']}", params={"stop": "true"})
    await zun.wait_gone(writer["uuid"])
    reader = await zun.create(run=True, mounts=[{"type": "volume", "source": "data", "destination": "/mnt"}],
                              command=["sh", "-c", "cat /mnt/f; sleep 3600"])
    await zun.wait_for(reader["uuid"], "Running")
    await logs_with(zun, reader["uuid"], "kept")
    for u in (reader["uuid"], first["uuid"]):
        await zun.call("DELETE", f"/v1/containers/{u}", params={"stop": "true"})
    await zun.wait_gone(reader["uuid"])
    kubectl(cluster, "-n", namespace, "delete", "pvc", "data", "--wait=false")


async def test_a_volume_mount_of_a_size_makes_a_claim_removed_with_the_container(
    zun: ZunAPI, cluster: Cluster, ns_prefix: str
) -> None:
    c = await zun.create(run=True, mounts=[{"size": 1, "destination": "/scratch"}],
                         command=["sh", "-c", "echo ok > /scratch/f && cat /scratch/f; sleep 3600"])
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running", timeout=90)
    await logs_with(zun, uuid, "ok")
    namespace = namespace_for(P, ns_prefix)
    pvc = json.loads(kubectl(cluster, "-n", namespace, "get", "pvc", f"zun-{uuid}-v0", "-o", "json").stdout)
    assert pvc["metadata"]["ownerReferences"][0]["name"] == uuid and pvc["status"]["capacity"]["storage"] == "1Gi"
    volume = pvc["spec"]["volumeName"]  # provisioned for it (the local cluster's default StorageClass)
    await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"})
    deadline = time.monotonic() + 90
    # The claim goes with the container, and its volume with the claim (reclaim policy Delete).
    while (kubectl(cluster, "-n", namespace, "get", "pvc", f"zun-{uuid}-v0", check=False).returncode == 0
           or kubectl(cluster, "get", "pv", volume, check=False).returncode == 0):
        assert time.monotonic() < deadline, "the new claim or its volume outlived the container"
        await asyncio.sleep(0.5)
