"""The single-replica default: no Redis, the in-process store (locks, tokens, sizes, pub/sub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="session")
P = "proj-mem"


@pytest.fixture(scope="module")
async def solo(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    # Its own installation (namespace prefix), so it does not compete with the Redis-backed app.
    settings = make_settings(cluster, f"{ns_prefix}m-")
    settings = settings.model_copy(update={"redis_url": None})
    app = create_app(settings)
    async with TestClient(TestServer(app)) as c:
        r = await c.get("/zunk8s/capabilities")
        assert (await r.json())["state_store"] == "memory"
        yield ZunAPI(c, image=cluster.image)


async def test_lifecycle_and_attach_without_redis(solo: ZunAPI) -> None:
    c = await solo.create(project=P, run=True, interactive=True, tty=True, command=["sh"])
    uuid = c["uuid"]
    await solo.wait_for(uuid, "Running", project=P)
    r = await solo.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "echo hi"}, project=P)
    assert r.body["output"] == "hi\n"
    r = await solo.call("GET", f"/v1/containers/{uuid}/attach", project=P)
    url = urlsplit(r.body)
    await solo.call("POST", f"/v1/containers/{uuid}/resize", params={"w": "90", "h": "33"}, project=P)
    async with solo.client.ws_connect(f"{url.path}?{url.query}", protocols=("binary",)) as ws:
        await ws.send_bytes(b"stty size\n")
        seen = ""
        while "33 90" not in seen:
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.BINARY, msg
            seen += msg.data.decode()
    async with solo.client.get(f"{url.path}?{url.query}") as resp:
        assert resp.status == 401  # single use
    results = await asyncio.gather(
        solo.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "1"}, project=P),
        solo.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "1"}, project=P),
    )
    assert sorted(x.status for x in results) == [202, 409]
    await solo.wait_for(uuid, "Stopped", project=P, timeout=30)
    await solo.action(uuid, "start", project=P)
    await solo.wait_for(uuid, "Running", project=P)
    r = await solo.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project=P)
    assert r.status == 204
    await solo.wait_gone(uuid, project=P)


