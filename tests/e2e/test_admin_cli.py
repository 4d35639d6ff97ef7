"""The admin commands of the unmodified `openstack appcontainer` CLI: host list / show, service
list, and run --host, against a zunk8s whose noauth callers are admins."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.e2e.test_openstack_cli import osc, wait_status
from tests.serverproc import Server, start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin_server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    prefix = f"za{secrets.token_hex(3)}-"
    srv = start_server(
        cluster,
        project="e2e-admin",
        prefix=prefix,
        log=tmp_path_factory.mktemp("zunk8s-admin") / "server.log",
        extra_env={"ZUNK8S_AUTH__DEFAULT_ROLES": '["admin"]'},
    )
    yield srv
    stop_server(srv, cluster, prefix)


def _json(server: Server, *args: str) -> Any:
    return json.loads(osc(server, "appcontainer", *args, "-f", "json").stdout)


def test_hosts_services_and_a_requested_host(admin_server: Server, cluster: Cluster) -> None:
    hosts = _json(admin_server, "host", "list")
    assert [h["hostname"] for h in hosts] == ["zun-real-0"]  # the kwok nodes' taint is not tolerated
    assert hosts[0]["cpus"] == 2 and hosts[0]["mem_total"] > 0
    shown = _json(admin_server, "host", "show", "zun-real-0")
    assert shown["uuid"] == hosts[0]["uuid"] and shown["os_type"] == "linux"

    services = _json(admin_server, "service", "list")
    assert [(s["Binary"], s["State"]) for s in services] == [("zun-api", "up"), ("zun-compute", "up")]

    osc(admin_server, "appcontainer", "run", "--host", "zun-real-0", "--name", "pinned", "--cpu", "0.1",
        "--memory", "32", cluster.image, "sleep", "3600")
    assert wait_status(admin_server, "pinned", "Running")["host"] == "zun-real-0"
    assert _json(admin_server, "host", "show", "zun-real-0")["total_containers"] == 1

    missing = osc(admin_server, "appcontainer", "run", "--host", "kwok-node-0", cluster.image, check=False)
    assert missing.returncode != 0 and "Requested host kwok-node-0 could not be found. (HTTP 404)" in missing.stderr
    osc(admin_server, "appcontainer", "delete", "--stop", "pinned")
