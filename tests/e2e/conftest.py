"""The zunk8s the real clients talk to: a ``zunk8s serve`` process on a free port (noauth), or,
with ZUNK8S_E2E_TARGET=helm, zunk8s installed in the cluster with the Helm chart (2 replicas and
Redis behind a Service, static tokens), as deploy/run-tests runs the client suites a second time."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import Cluster
from tests.serverproc import Endpoint, forget_agent, start_agent, start_server, stop_process, stop_server

TARGET = os.environ.get("ZUNK8S_E2E_TARGET", "process")
if TARGET not in ("process", "helm"):
    pytest.fail(f"ZUNK8S_E2E_TARGET must be process or helm, not {TARGET!r}", pytrace=False)


@pytest.fixture(scope="session")
def server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    if TARGET == "helm":
        from tests import helmrelease

        release = helmrelease.install(cluster, project="e2e", workdir=tmp_path_factory.mktemp("helm"))
        try:
            yield release.endpoint
        finally:
            helmrelease.uninstall(cluster, release)
        return
    prefix = f"ze{secrets.token_hex(3)}-"
    logs = tmp_path_factory.mktemp("zunk8s")
    srv = start_server(cluster, project="e2e", prefix=prefix, log=logs / "server.log")
    # The node agent for the real node, as the chart's DaemonSet runs one there.
    agent = start_agent(cluster, prefix=prefix, log=logs / "agent.log")
    try:
        yield srv
    finally:
        stop_process(agent)
        stop_server(srv, cluster, prefix)
        forget_agent(cluster, prefix)  # its Lease, else it outlives the session
