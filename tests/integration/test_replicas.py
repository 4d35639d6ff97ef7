"""Two zunk8s replicas sharing Redis and the cluster: each sees the other's work, and the
per-container lock serialises actions across them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="session")
async def second(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    app = create_app(make_settings(cluster, ns_prefix))
    async with TestClient(TestServer(app)) as c:
        yield ZunAPI(c, image=cluster.image)


async def test_work_is_shared(zun: ZunAPI, second: ZunAPI) -> None:
    c = await zun.create(run=True, project="proj-ha", name="ha-1")
    # Straight after the create on A, B answers for it (by uuid and by name), not 404.
    assert (await second.show(c["uuid"], project="proj-ha"))["name"] == "ha-1"
    d = await zun.create(project="proj-ha", name="ha-2")
    assert (await second.show("ha-2", project="proj-ha"))["uuid"] == d["uuid"]
    await second.wait_for(d["uuid"], "Created", project="proj-ha")
    assert (await second.call("DELETE", f"/v1/containers/{d['uuid']}", project="proj-ha")).status == 204
    running = await second.wait_for(c["uuid"], "Running", project="proj-ha")
    assert running["name"] == "ha-1"
    # Stop through replica B, observe on replica A.
    await second.action(c["uuid"], "stop", project="proj-ha", timeout="1")
    await zun.wait_for(c["uuid"], "Stopped", project="proj-ha", timeout=30)
    # Concurrent starts on both replicas: exactly one is accepted.
    results = await asyncio.gather(
        zun.call("POST", f"/v1/containers/{c['uuid']}/start", project="proj-ha"),
        second.call("POST", f"/v1/containers/{c['uuid']}/start", project="proj-ha"),
    )
    assert sorted(r.status for r in results) == [202, 409]
    await zun.wait_for(c["uuid"], "Running", project="proj-ha")
    r = await second.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"}, project="proj-ha")
    assert r.status == 204
    await zun.wait_gone(c["uuid"], project="proj-ha")


async def test_resize_reaches_the_stream_held_by_the_other_replica(zun: ZunAPI, second: ZunAPI) -> None:
    c = await zun.create(project="proj-ha", run=True, interactive=True, tty=True, command=["sh"])
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running", project="proj-ha")
    # The URL is minted by replica A, the websocket lands on replica B (the token is in Redis).
    r = await zun.call("GET", f"/v1/containers/{uuid}/attach", project="proj-ha")
    parts = urlsplit(r.body)
    async with second.client.ws_connect(f"{parts.path}?{parts.query}", protocols=("binary",)) as ws:
        await asyncio.sleep(0.3)
        # The REST resize lands on replica A; replica B holds the websocket.
        r2 = await zun.call("POST", f"/v1/containers/{uuid}/resize", params={"w": "123", "h": "45"}, project="proj-ha")
        assert r2.status == 200
        await asyncio.sleep(0.3)
        await ws.send_bytes(b"stty size\n")
        seen, deadline = "", time.monotonic() + 10
        while "45 123" not in seen and time.monotonic() < deadline:
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.BINARY, msg
            seen += msg.data.decode()
        assert "45 123" in seen
    await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project="proj-ha")


def _pods_of(cluster: Cluster, uuid: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "pods", "-A", "-l",
         f"zunk8s.openstack.org/uuid={uuid}", "-o", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]


async def _race(replicas: tuple[ZunAPI, ZunAPI], uuid: str, actions: list[str], project: str) -> list[int]:
    calls = [
        replicas[i % 2].call("POST", f"/v1/containers/{uuid}/{action}", project=project)
        for i, action in enumerate(actions)
    ]
    return [r.status for r in await asyncio.gather(*calls)]


async def test_racing_actions_over_two_replicas(zun: ZunAPI, second: ZunAPI, cluster: Cluster) -> None:
    """#13 class 7: the state check, task_state and the lock are one step across replicas. Ten
    starts of a stopped container spread over two replicas, 20 rounds: exactly one 202 a round,
    exactly one live Pod, no task_state left behind. Then mixes of stop/reboot/kill/start on a
    running one: at most one 202 (the first action makes the container busy)."""
    project = "proj-race"
    c = await zun.create(project=project, run=True, command=["sh", "-c", "trap 'sleep 2; exit 0' TERM; while :; do sleep 1; done"])
    uuid = c["uuid"]
    replicas = (zun, second)
    await zun.wait_for(uuid, "Running", project=project)
    for round_ in range(int(os.environ.get("ZUNK8S_RACE_ROUNDS", "20"))):
        await zun.action(uuid, "kill", project=project)
        await second.wait_for(uuid, "Stopped", project=project)
        statuses = await _race(replicas, uuid, ["start"] * 10, project)
        assert sorted(statuses) == [202] + [409] * 9, (round_, statuses)
        shown = await zun.wait_for(uuid, "Running", project=project)
        assert shown["task_state"] is None
        pods = _pods_of(cluster, uuid)
        assert len(pods) == 1, (round_, [p["metadata"]["name"] for p in pods])
    for round_ in range(6):
        # From Running: stop and reboot are both allowed; the winner takes seconds (the process
        # takes 2 s over SIGTERM), so every other one meets a busy container.
        # From Stopped: start and reboot are both allowed; after the winner, status is Creating.
        mix = ["stop", "reboot"] * 5 if round_ % 2 == 0 else ["start", "reboot"] * 5
        statuses = await _race(replicas, uuid, mix, project)
        assert statuses.count(202) == 1 and set(statuses) <= {202, 409}, f"round {round_}: {list(zip(mix, statuses))}"
        shown = await zun.wait_for(uuid, "Running", "Stopped", project=project, timeout=60)
        assert shown["task_state"] is None
        assert len(_pods_of(cluster, uuid)) == 1
        if round_ % 2 == 0 and shown["status"] == "Running":
            await zun.action(uuid, "kill", project=project)
            await zun.wait_for(uuid, "Stopped", project=project)
        elif round_ % 2 == 1 and shown["status"] == "Stopped":
            await zun.action(uuid, "start", project=project)
            await zun.wait_for(uuid, "Running", project=project)
    r = await second.call("DELETE", f"/v1/containers/{uuid}", params={"force": "true"}, project=project, roles="admin")
    assert r.status == 204
