"""commit for real: the zunk8s node agent (run as the chart's DaemonSet runs it, against the real
node's containerd) diffs the container's snapshot, pushes the image to the cluster's registry, and
``run repo:tag`` then runs it: the created file is there, the deleted one is not, and the
container's command is the image's."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app

# Changes the filesystem, then counts (the committed image's command: run again, it counts too).
CHANGING = ["sh", "-c", "echo made > /made.txt; rm /bin/vi; i=0; while true; do i=$((i+1)); echo $i; sleep 0.2; done"]
CHECK = ["sh", "-c", "cat /made.txt; ls /bin/vi || echo no-vi"]


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


async def actions_of(zun: ZunAPI, uuid: str) -> list[dict[str, Any]]:
    r = await zun.call("GET", f"/v1/containers/{uuid}/container_actions")
    assert r.status == 200, r.body
    return list(r.body["containerActions"])


async def committed(zun: ZunAPI, uuid: str, timeout: float = 60) -> dict[str, Any]:
    """The commit's logged action once it ended (its events: Success or Error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [a for a in await actions_of(zun, uuid) if a["action"] == "commit" and a["finish_time"]]
        if done:
            # As an admin: the traceback (the reason of a failure) is shown to admins only (Zun's policy).
            r = await zun.call("GET", f"/v1/containers/{uuid}/container_actions/{done[-1]['request_id']}", roles="admin")
            assert r.status == 200, r.body
            return dict(r.body or {})
        await asyncio.sleep(0.2)
    raise AssertionError(f"the commit never ended: {await actions_of(zun, uuid)} {await zun.show(uuid)}")


async def commit_when_served(zun: ZunAPI, uuid: str, timeout: float = 30, action: str = "commit",
                             **params: str) -> dict[str, Any]:
    """Commit (or pause) once the node's agent has announced itself (it renews its Lease as it
    starts; the tests of this module may run in any order)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await zun.call("POST", f"/v1/containers/{uuid}/{action}", params=params)
        if r.status == 202:
            return dict(r.body or {})
        assert r.status == 409 and "node agent" in r.body["errors"][0]["detail"], r.body
        assert time.monotonic() < deadline, "the node agent never served the node"
        await asyncio.sleep(0.5)


async def logs(zun: ZunAPI, uuid: str) -> str:
    r = await zun.call("GET", f"/v1/containers/{uuid}/logs", params={"stdout": "true"})
    assert r.status == 200, r.body
    return r.body.decode() if isinstance(r.body, bytes) else str(r.body)


async def counted(zun: ZunAPI, uuid: str) -> int:
    return max((int(x) for x in (await logs(zun, uuid)).split() if x.isdigit()), default=0)


async def test_commit_without_an_agent_says_why(zun: ZunAPI, cluster: Cluster) -> None:
    c = await zun.create(run=True)
    await zun.wait_for(c["uuid"], "Running")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/commit", params={"repository": "nope"})
    assert r.status == 409, r.body
    assert f"No zunk8s node agent serves node {cluster.node}" in r.body["errors"][0]["detail"]
    # Zun's schema: repository is required; a name no registry takes is refused before the 202.
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/commit")
    assert r.status == 400 and "'repository' is a required property" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/commit", params={"repository": "Upper/Case"})
    assert r.status == 400 and "Invalid repository" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/commit", params={"repository": "example.com/x"})
    assert r.status == 400 and "names a registry" in r.body["errors"][0]["detail"], r.body
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})


async def test_commit_then_run_the_image(zun: ZunAPI, agent: None, cluster: Cluster, ns_prefix: str) -> None:
    c = await zun.create(run=True, command=CHANGING)
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running")
    await asyncio.sleep(1)
    image = (await commit_when_served(zun, uuid, repository="snap", tag="v1"))["uuid"]
    action = await committed(zun, uuid)
    assert [e["result"] for e in action["events"]] == ["Success"], action
    shown = await zun.wait_for(uuid, "Running")  # paused for the diff only, and resumed
    assert shown["status_reason"] is None, shown
    before = await counted(zun, uuid)
    await asyncio.sleep(1)
    assert await counted(zun, uuid) > before  # still counting: not left paused

    # The image is in the registry, under the project's namespace, with the container's changes.
    namespace = shown_namespace(cluster, ns_prefix, image)
    with urllib.request.urlopen(f"http://{cluster.registry}/v2/zunk8s/{namespace}/snap/tags/list", timeout=5) as resp:
        assert json.load(resp)["tags"] == ["v1"]

    # run repo:tag runs the committed image: the file made is there, the file removed is not.
    check = await zun.create(run=True, image="snap:v1", command=CHECK)
    await zun.wait_for(check["uuid"], "Stopped")
    out = await logs(zun, check["uuid"])
    assert "made" in out and "no-vi" in out, out
    # Without a command it runs the committed container's (docker commit keeps it).
    again = await zun.create(run=True, image="snap:v1", command=None)
    await zun.wait_for(again["uuid"], "Running")
    await asyncio.sleep(1)
    assert await counted(zun, again["uuid"]) > 0
    for u in (uuid, check["uuid"], again["uuid"]):
        await zun.call("DELETE", f"/v1/containers/{u}", params={"stop": "true"})


async def test_commit_of_a_paused_container_keeps_it_paused(zun: ZunAPI, agent: None) -> None:
    c = await zun.create(run=True, command=CHANGING)
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running")
    await commit_when_served(zun, uuid, action="pause")
    await zun.wait_for(uuid, "Paused")
    frozen = await counted(zun, uuid)
    await commit_when_served(zun, uuid, repository="snap-paused")
    action = await committed(zun, uuid)
    assert [e["result"] for e in action["events"]] == ["Success"], action
    await zun.wait_for(uuid, "Paused")
    await asyncio.sleep(1)
    assert await counted(zun, uuid) == frozen
    await zun.action(uuid, "unpause")
    await zun.wait_for(uuid, "Running")
    await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"})


async def test_commit_of_a_stopped_container(zun: ZunAPI, agent: None) -> None:
    """A stopped container's filesystem is still the runtime's (its Pod stays): Zun commits it."""
    # It ends on SIGTERM (a stop the kubelet outwaits would kill it, and a kill deletes the Pod).
    c = await zun.create(run=True, command=["sh", "-c", "trap 'exit 0' TERM; echo kept > /kept.txt; "
                                                        "while true; do sleep 0.2; done"])
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running")
    await asyncio.sleep(1)
    await zun.action(uuid, "stop", timeout="2")
    await zun.wait_for(uuid, "Stopped")
    await commit_when_served(zun, uuid, repository="snap-stopped")
    action = await committed(zun, uuid)
    assert [e["result"] for e in action["events"]] == ["Success"], action
    check = await zun.create(run=True, image="snap-stopped", command=["cat", "/kept.txt"])
    await zun.wait_for(check["uuid"], "Stopped")
    assert "kept" in await logs(zun, check["uuid"])
    assert (await zun.show(uuid))["status"] == "Stopped"
    for u in (uuid, check["uuid"]):
        await zun.call("DELETE", f"/v1/containers/{u}")


async def test_a_registry_that_is_down_leaves_the_container_running(
    cluster: Cluster, ns_prefix: str, agent: None
) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the push is refused at once.
    settings = make_settings(cluster, ns_prefix, images={"commit_registry": "localhost:9/zunk8s"})
    async with TestClient(TestServer(create_app(settings))) as client:
        zun = ZunAPI(client, image=cluster.image)
        c = await zun.create(run=True, command=CHANGING)
        uuid = c["uuid"]
        await zun.wait_for(uuid, "Running")
        await commit_when_served(zun, uuid, repository="unreachable")
        action = await committed(zun, uuid)
        assert [e["result"] for e in action["events"]] == ["Error"], action
        assert "cannot reach the registry" in action["events"][0]["traceback"], action
        assert action["message"] == "Error", action  # what a non-admin sees of it
        await zun.wait_for(uuid, "Running")
        before = await counted(zun, uuid)
        await asyncio.sleep(1)
        assert await counted(zun, uuid) > before  # resumed after its diff, whatever the push did
        await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"})


def shown_namespace(cluster: Cluster, prefix: str, image: str) -> str:
    """The namespace of proj-a's ZunImage ``image`` (where commit recorded it)."""
    import subprocess

    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "zunimages.zunk8s.openstack.org", "-A",
         "--field-selector", f"metadata.name={image}", "-o", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    items = json.loads(out)["items"]
    assert len(items) == 1 and items[0]["metadata"]["namespace"].startswith(prefix), items
    return str(items[0]["metadata"]["namespace"])


async def test_an_image_whose_layer_the_node_dropped_cannot_be_committed(
    zun: ZunAPI, agent: None, cluster: Cluster, tmp_path: Any
) -> None:
    """The runtime may drop an image's compressed layers once unpacked: the committed image could
    not be pushed without them, so the commit fails, before anything is paused, and says why."""
    import secrets
    import subprocess

    ctr = ["ctr", "--address", cluster.containerd_socket, "-n", "k8s.io"]
    ref = f"localhost/zt-nolayer-{secrets.token_hex(3)}:1"
    tar = tmp_path / "image.tar"
    subprocess.run([sys.executable, "deploy/images/mkimage.py", "--tag", ref, "--out", str(tar),
                    "--file", "/bin/busybox:/bin/busybox:0755", "--text", f"/marker:{ref}"], check=True)
    subprocess.run([*ctr, "images", "import", str(tar)], check=True, capture_output=True)
    try:
        target = subprocess.run([*ctr, "images", "ls", f"name=={ref}", "-q"], check=True, capture_output=True, text=True)
        assert target.stdout.strip() == ref
        listing = subprocess.run([*ctr, "images", "ls", f"name=={ref}"], check=True, capture_output=True, text=True)
        manifest_digest = listing.stdout.splitlines()[1].split()[2]
        manifest = json.loads(subprocess.run([*ctr, "content", "get", manifest_digest], check=True,
                                             capture_output=True, text=True).stdout)
        layer = manifest["layers"][0]["digest"]
        c = await zun.create(run=True, image=ref, command=["/bin/busybox", "sleep", "3600"])
        await zun.wait_for(c["uuid"], "Running")
        subprocess.run([*ctr, "content", "rm", layer], check=True, capture_output=True)  # unpacked: the container runs on
        await commit_when_served(zun, c["uuid"], repository="nolayer")
        action = await committed(zun, c["uuid"])
        assert [e["result"] for e in action["events"]] == ["Error"], action
        assert f"the layer {layer}" in action["events"][0]["traceback"] and "not on this node" in action["events"][0]["traceback"]
        await zun.wait_for(c["uuid"], "Running")
        await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})
        await zun.wait_gone(c["uuid"])
    finally:
        subprocess.run([*ctr, "images", "rm", ref], capture_output=True)


async def test_commit_of_an_image_the_node_also_pulled_under_another_name(zun: ZunAPI, agent: None, cluster: Cluster) -> None:
    """The test image also pulled from the private registry (the same image): the kubelet then
    reports the container's image by the pulled name, whose layers containerd dropped after
    unpacking; the agent finds the image by its other name (found by the CI: every commit after
    the private-registry tests failed)."""
    r = await zun.call("POST", "/v1/registries", json={"registry": {
        "domain": cluster.private_image.partition("/")[0], "username": cluster.private_user,
        "password": cluster.private_password}})
    assert r.status == 201, r.body
    reg = r.body["registry"]["uuid"]
    pulled = await zun.create(run=True, image=cluster.private_image, registry=reg)
    await zun.wait_for(pulled["uuid"], "Running", timeout=90)
    c = await zun.create(run=True, command=CHANGING)
    await zun.wait_for(c["uuid"], "Running")
    await commit_when_served(zun, c["uuid"], repository="snap-twice", tag="v1")
    action = await committed(zun, c["uuid"])
    assert [e["result"] for e in action["events"]] == ["Success"], action
    check = await zun.create(run=True, image="snap-twice:v1", command=CHECK)
    await zun.wait_for(check["uuid"], "Stopped")
    assert "made" in await logs(zun, check["uuid"])
    for u in (pulled["uuid"], c["uuid"], check["uuid"]):
        await zun.call("DELETE", f"/v1/containers/{u}", params={"stop": "true"})
        await zun.wait_gone(u)
    assert (await zun.call("DELETE", f"/v1/registries/{reg}")).status == 204
