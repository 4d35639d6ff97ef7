"""pause / unpause for real: the zunk8s node agent (`zunk8s agent`, run here as the chart's
DaemonSet runs it, against the real node's containerd) freezes the container's processes; a
counter the container prints stops while it is paused and goes on from where it was after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app
from zunk8s.appkeys import SERVICES
from zunk8s.service.context import Caller
from zunk8s.translate import freeze

COUNTER = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.2; done"]


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


async def counted(zun: ZunAPI, uuid: str) -> list[int]:
    r = await zun.call("GET", f"/v1/containers/{uuid}/logs", params={"stdout": "true"})
    assert r.status == 200, r.body
    text = r.body.decode() if isinstance(r.body, bytes) else str(r.body)
    return [int(line) for line in text.split() if line.isdigit()]


async def paused_when_asked(zun: ZunAPI, uuid: str, timeout: float = 30) -> None:
    """Until the agent has served its first ask (it renews its Lease as it starts)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await zun.call("POST", f"/v1/containers/{uuid}/pause")
        if r.status == 202:
            return
        assert r.status == 409 and "node agent" in r.body["errors"][0]["detail"], r.body
        assert time.monotonic() < deadline, "the node agent never served the node"
        await asyncio.sleep(0.5)


async def test_pause_without_an_agent_says_why(zun: ZunAPI, cluster: Cluster) -> None:
    c = await zun.create(run=True)
    await zun.wait_for(c["uuid"], "Running")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/pause")
    assert r.status == 409, r.body
    assert f"No zunk8s node agent serves node {cluster.node}" in r.body["errors"][0]["detail"]
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})


async def test_a_paused_counter_stops_and_goes_on_after_unpause(
    zun: ZunAPI, agent: None, cluster: Cluster, ns_prefix: str
) -> None:
    c = await zun.create(run=True, command=COUNTER)
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running")
    await asyncio.sleep(1)
    await paused_when_asked(zun, uuid)
    shown = await zun.wait_for(uuid, "Paused")
    assert shown["addresses"], shown  # a paused container keeps its address
    frozen = await counted(zun, uuid)
    await asyncio.sleep(2)
    assert await counted(zun, uuid) == frozen  # not one more line in 2 s (10 were due)

    # Zun's answers for a paused container.
    r = await zun.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "true", "run": "true"})
    assert r.status == 409 and "in Paused state" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", f"/v1/containers/{uuid}/stop")
    assert r.status == 409 and "in Paused state" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("DELETE", f"/v1/containers/{uuid}")
    assert r.status == 409, r.body
    r = await zun.call("POST", f"/v1/containers/{uuid}/pause")
    assert r.status == 409, r.body
    r = await zun.call("GET", f"/v1/containers/{uuid}/get_archive", params={"path": "/etc/hostname"})
    assert r.status == 409 and "Unpause it first" in r.body["errors"][0]["detail"], r.body

    # Another replica (or a restarted zunk8s) sees it Paused: the record says so, not the kubelet.
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as other:
        again = ZunAPI(other, image=cluster.image)
        await asyncio.sleep(1)
        assert (await again.show(uuid))["status"] == "Paused"

    r = await zun.call("POST", f"/v1/containers/{uuid}/unpause")
    assert r.status == 202, r.body
    await zun.wait_for(uuid, "Running")
    await asyncio.sleep(1)
    after = await counted(zun, uuid)
    assert after[: len(frozen)] == frozen and after[len(frozen)] == frozen[-1] + 1, (frozen[-3:], after[len(frozen) - 2:])
    assert (await zun.show(uuid))["status_detail"].startswith("Up")
    r = await zun.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "1"})
    assert r.status == 202, r.body
    await zun.wait_for(uuid, "Stopped")
    await zun.call("DELETE", f"/v1/containers/{uuid}")


async def test_a_pause_whose_replica_died_is_finished_by_recovery(zun: ZunAPI, agent: None) -> None:
    """The ask reached the agent and the replica died before its final write: recovery takes the
    agent's answer as the outcome (never a frozen container the record calls Running)."""
    c = await zun.create(run=True, command=COUNTER)
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running")
    services = zun.client.app[SERVICES]
    entry = await services.registry.find(Caller("proj-a", "u", frozenset(), "r"), uuid)
    assert entry.status.pod is not None
    gw = services.podwork._gw  # noqa: SLF001 (the test plays the dead replica's part)
    request = "req-died-while-pausing"
    await gw.patch_record(entry.namespace, uuid, {"status": {"task_state": "container_pausing", "task_request_id": request}},
                          status=True)
    await gw.patch_pod(entry.namespace, entry.status.pod, {"metadata": {"annotations": {freeze.WANT: freeze.ask("paused", request)}}})
    deadline = time.monotonic() + 30
    while (answer := freeze.answer(await gw.live_pod(entry.namespace, entry.status.pod) or {})) is None:
        assert time.monotonic() < deadline, "the agent did not answer"
        await asyncio.sleep(0.2)
    assert answer.state == "paused"
    stuck = await services.registry.fresh(entry.key)
    assert stuck is not None
    await services.recovery.recover(stuck)
    assert (await zun.wait_for(uuid, "Paused"))["task_state"] is None
    r = await zun.call("POST", f"/v1/containers/{uuid}/unpause")
    assert r.status == 202, r.body
    await zun.wait_for(uuid, "Running")
    await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"})
