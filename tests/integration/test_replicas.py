"""Two zunk8s replicas sharing Redis and the cluster: each sees the other's work, and the
per-container lock serialises actions across them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

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
    running = await second.wait_for(c["uuid"], "Running", project="proj-ha")
    assert running["name"] == "ha-1"
    # Stop through replica B, observe on replica A.
    await second.action(c["uuid"], "stop", project="proj-ha", timeout="1")
    await zun.wait_for(c["uuid"], "Stopped", project="proj-ha", timeout=30)
    # Concurrent starts on both replicas: exactly one is accepted.
    results: list[Any] = await asyncio.gather(
        zun.call("POST", f"/v1/containers/{c['uuid']}/start", project="proj-ha"),
        second.call("POST", f"/v1/containers/{c['uuid']}/start", project="proj-ha"),
    )
    assert sorted(r.status for r in results) == [202, 409]
    await zun.wait_for(c["uuid"], "Running", project="proj-ha")
    r = await second.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"}, project="proj-ha")
    assert r.status == 204
    await zun.wait_gone(c["uuid"], project="proj-ha")
