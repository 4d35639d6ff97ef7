"""A real ``zunk8s serve`` process on a free port, for the real clients to talk to."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import Cluster
from tests.serverproc import Server, start_server, stop_server


@pytest.fixture(scope="session")
def server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    prefix = f"ze{secrets.token_hex(3)}-"
    srv = start_server(
        cluster, project="e2e", prefix=prefix, log=tmp_path_factory.mktemp("zunk8s") / "server.log"
    )
    yield srv
    stop_server(srv, cluster, prefix)
