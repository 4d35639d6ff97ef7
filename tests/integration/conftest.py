"""The zunk8s app under test, against the real cluster and the real Redis."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.zunapi import ZunAPI
from tests.serverproc import delete_namespaces, forget_agent, start_agent, stop_process
from zunk8s.app import create_app
from zunk8s.settings import ImageSettings, KubeSettings, NetworkSettings, Settings


def make_settings(cluster: Cluster, prefix: str, images: dict[str, str] | None = None, **kube: Any) -> Settings:
    images = dict(images or {})
    return Settings(
        redis_url=cluster.redis_url,
        kube=KubeSettings(
            kubeconfig=kube.pop("kubeconfig", cluster.kubeconfig),
            namespace_prefix=prefix,
            # The test node has 2 CPUs; Zun's default of 1 CPU per container would fit two.
            request_ratio=0.01,
            stop_timeout=kube.pop("stop_timeout", 5),
            **kube,
        ),
        ws_token_ttl=5,
        max_archive_bytes=8 * 1024 * 1024,
        network=NetworkSettings(pod_cidrs=json.loads(cluster.pod_cidrs)),
        images=ImageSettings(commit_registry=images.pop("commit_registry", cluster.commit_registry),
                             helper_image=images.pop("helper_image", cluster.helper_image), **images),
    )


@pytest.fixture(scope="session")
def ns_prefix(cluster: Cluster) -> Any:
    prefix = f"zt{secrets.token_hex(3)}-"
    yield prefix
    delete_namespaces(cluster, prefix)


@pytest.fixture(scope="session")
async def client(cluster: Cluster, ns_prefix: str) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(make_settings(cluster, ns_prefix))
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture(scope="session")
def zun(client: TestClient[Any, Any], cluster: Cluster) -> ZunAPI:
    return ZunAPI(client, image=cluster.image)


@pytest.fixture(scope="module")
def agent(cluster: Cluster, ns_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The node agent for the real node, serving this session's installation (as the chart's
    DaemonSet runs one there), for one module; its Lease is removed after, since later modules
    of the session expect no agent."""
    proc = start_agent(cluster, prefix=ns_prefix, log=tmp_path_factory.mktemp("agent") / "agent.log")
    try:
        yield
    finally:
        stop_process(proc)
        forget_agent(cluster, ns_prefix)
