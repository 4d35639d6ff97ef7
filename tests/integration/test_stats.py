"""stats for real: the zunk8s node agent (`zunk8s agent`, run here as the chart's DaemonSet runs
it) measures the container from the real node's kernel; Zun's seven keys come back with the
memory a shell holds and the bytes it sends to another container."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI
from tests.serverproc import forget_agent
from zunk8s.app import create_app

KEYS = ["CONTAINER", "CPU %", "MEM USAGE(MiB)", "MEM LIMIT(MiB)", "MEM %", "BLOCK I/O(B)", "NET I/O(B)"]
SERVER = ["httpd", "-f", "-p", "8080", "-h", "/tmp"]


def hungry_client(ip: str) -> list[str]:
    """30 MB held in a shell variable, then an HTTP request to ``ip`` every 0.2 s, forever (with
    nc: the image's static busybox wget crashes)."""
    request = "printf 'GET / HTTP/1.0\\r\\n\\r\\n'"
    return ["sh", "-c", 'x=$(head -c 30000000 /dev/zero | tr "\\0" a); '
            f"while true; do {request} | nc -w 2 {ip} 8080 >/dev/null; sleep 0.2; done"]


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


async def served_stats(zun: ZunAPI, uuid: str, timeout: float = 30) -> dict[str, Any]:
    """Stats, once the agent has announced itself (it renews its Lease as it starts)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await zun.call("GET", f"/v1/containers/{uuid}/stats")
        if r.status == 200:
            assert isinstance(r.body, dict)
            return r.body
        assert r.status == 409 and "node agent" in r.body["errors"][0]["detail"], r.body
        assert time.monotonic() < deadline, "the node agent never served the node"
        await asyncio.sleep(0.5)


def net(view: dict[str, Any]) -> tuple[int, int]:
    rx, tx = view["NET I/O(B)"].split("/")
    return int(rx), int(tx)


def refused(r: Response, status: int, code: str, words: str) -> None:
    assert r.status == status, (r.status, r.body)
    error = r.body["errors"][0]
    assert error["code"] == code and words in error["detail"], error


async def test_stats_without_an_agent_says_why(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    forget_agent(cluster, ns_prefix)  # another module's agent (ns_prefix is the session's) may have just stopped
    created = await zun.create()
    await zun.wait_for(created["uuid"], "Created")
    # Zun's state table first: stats only while Running.
    r = await zun.call("GET", f"/v1/containers/{created['uuid']}/stats")
    refused(r, 409, "container.invalid-state-exception", f"Cannot stats container {created['uuid']} in Created state")
    running = await zun.create(run=True)
    await zun.wait_for(running["uuid"], "Running")
    r = await zun.call("GET", f"/v1/containers/{running['uuid']}/stats")
    refused(r, 409, "container.conflict", f"No zunk8s node agent serves node {cluster.node}")
    assert "cannot be measured for stats" in r.body["errors"][0]["detail"]
    for c in (created, running):
        await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"force": "true"}, roles="admin")


async def test_stats_of_a_container_using_memory_and_the_network(zun: ZunAPI, agent: None) -> None:
    server = await zun.create(run=True, name="stats-server", command=SERVER)
    shown = await zun.wait_for(server["uuid"], "Running")
    ip = next(a["addr"] for addrs in shown["addresses"].values() for a in addrs)
    client = await zun.create(run=True, name="stats-client", memory="256", command=hungry_client(ip))
    uuid = client["uuid"]
    await zun.wait_for(uuid, "Running")
    await asyncio.sleep(3)  # the 30 MB string is built, requests are going

    first = await served_stats(zun, uuid)
    assert list(first) == KEYS, first
    assert first["CONTAINER"] == "stats-client"
    assert isinstance(first["CPU %"], float) and 0 <= first["CPU %"] <= 100, first
    assert 28 < first["MEM USAGE(MiB)"] < 256, first
    assert first["MEM LIMIT(MiB)"] == 256.0, first
    assert first["MEM %"] == pytest.approx(first["MEM USAGE(MiB)"] / 256 * 100), first
    # This VM accounts no block I/O (README: stats): the kernel's 0 is what it says.
    read, write = (int(n) for n in first["BLOCK I/O(B)"].split("/"))
    assert read >= 0 and write >= 0, first
    await asyncio.sleep(1.5)
    second = await served_stats(zun, uuid)
    rx0, tx0 = net(first)
    rx1, tx1 = net(second)
    assert tx1 > tx0 and rx1 > rx0, (first, second)  # requests out, answers in

    # Asked three times at once: one ask on the Pod overwrites another; each caller gets an answer.
    again = await asyncio.gather(*(zun.call("GET", f"/v1/containers/{uuid}/stats") for _ in range(3)))
    assert [r.status for r in again] == [200] * 3, [r.body for r in again]
    assert all(net(r.body)[1] >= tx1 for r in again), [r.body for r in again]

    # The other one, asked by name at the same time: each gets its own container's numbers.
    both = await asyncio.gather(*(zun.call("GET", f"/v1/containers/{n}/stats") for n in ("stats-server", "stats-client")))
    assert [r.status for r in both] == [200, 200], [r.body for r in both]
    assert [r.body["CONTAINER"] for r in both] == ["stats-server", "stats-client"]
    assert both[0].body["MEM USAGE(MiB)"] < 28 < both[1].body["MEM USAGE(MiB)"], [r.body for r in both]

    # Not Running: Zun's 409, before anything is asked of the agent.
    r = await zun.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "0"})
    assert r.status == 202, r.body
    await zun.wait_for(uuid, "Stopped")
    r = await zun.call("GET", f"/v1/containers/{uuid}/stats")
    refused(r, 409, "container.invalid-state-exception", f"Cannot stats container {uuid} in Stopped state")
    for c in (server, client):
        await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"force": "true"}, roles="admin")
