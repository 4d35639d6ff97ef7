"""The admin endpoints: GET /v1/hosts (the cluster's Nodes as Zun hosts), GET /v1/services
(the replicas as zun-api / zun-compute), and create's requested host (1.39) on the real
cluster: the Pod really lands on that Node, through the scheduler."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI
from zunk8s.app import create_app
from zunk8s.state.keys import replicas_group
from zunk8s.state.redis import RedisStore
from zunk8s.translate import labels as L
from zunk8s.translate.hosts import HOST_KEYS
from zunk8s.translate.replicas import Heartbeat

pytestmark = pytest.mark.asyncio(loop_scope="session")

REAL = "zun-real-0"
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}


def kubectl_json(cluster: Cluster, *args: str) -> Any:
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args, "-o", "json"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def _error(r: Response, status: int, code: str) -> str:
    assert r.status == status, (r.status, r.body)
    err = r.body["errors"][0]
    assert err["code"] == code, err
    return str(err["detail"])


async def _admin(zun: ZunAPI, method: str, path: str, **kw: Any) -> Response:
    return await zun.call(method, path, roles="admin", **kw)


# --- hosts ------------------------------------------------------------------------------------


async def test_hosts_are_the_nodes_containers_may_go_to(zun: ZunAPI, cluster: Cluster) -> None:
    r = await _admin(zun, "GET", "/v1/hosts")
    assert r.status == 200, r.body
    assert set(r.body) == {"hosts", "next"} and r.body["next"] is None
    node = kubectl_json(cluster, "get", "node", REAL)
    hosts = {h["hostname"]: h for h in r.body["hosts"]}
    # The kwok nodes are tainted NoSchedule and this zunk8s tolerates nothing: no hosts of its.
    assert set(hosts) == {REAL}
    host = hosts[REAL]
    assert list(host) == list(HOST_KEYS)
    assert host["uuid"] == node["metadata"]["uid"]
    base = str(zun.client.make_url("")).rstrip("/")
    assert host["links"] == [
        {"href": f"{base}/v1/hosts/{host['uuid']}", "rel": "self"},
        {"href": f"{base}/hosts/{host['uuid']}", "rel": "bookmark"},
    ]
    assert host["cpus"] == int(node["status"]["capacity"]["cpu"])
    assert host["mem_total"] == int(node["status"]["capacity"]["memory"].removesuffix("Ki")) // 1024
    assert host["labels"] == node["metadata"]["labels"]
    assert (host["os_type"], host["architecture"]) == ("linux", "x86_64")
    assert host["os"] == node["status"]["nodeInfo"]["osImage"]
    assert host["kernel_version"] == node["status"]["nodeInfo"]["kernelVersion"]
    # zunclient's `host list` asks /v1/hosts/ with a slash; the version-less path is routed too.
    for path in ("/v1/hosts/", "/hosts"):
        again = await _admin(zun, "GET", path)
        assert again.status == 200 and [h["uuid"] for h in again.body["hosts"]] == [host["uuid"]]


async def test_show_a_host_by_name_or_uuid(zun: ZunAPI) -> None:
    by_name = await _admin(zun, "GET", f"/v1/hosts/{REAL}")
    assert by_name.status == 200, by_name.body
    by_uuid = await _admin(zun, "GET", f"/v1/hosts/{by_name.body['uuid']}")
    assert by_uuid.status == 200
    assert by_uuid.body["hostname"] == REAL and by_uuid.body["links"] == by_name.body["links"]
    for ident in ("no-such-node", "kwok-node-0", "00000000-0000-0000-0000-000000000000"):
        detail = _error(await _admin(zun, "GET", f"/v1/hosts/{ident}"), 404, "container.compute-node-not-found")
        assert detail == f"Compute node {ident} could not be found."


async def test_hosts_are_admin_only_from_1_4(zun: ZunAPI) -> None:
    # The version-less paths too: identity and policy apply to them as to /v1.
    for path, rule in (
        ("/v1/hosts", "host:get_all"), (f"/v1/hosts/{REAL}", "host:get"), ("/hosts", "host:get_all"),
        (f"/hosts/{REAL}", "host:get"),
    ):
        detail = _error(await zun.call("GET", path), 403, "container.policy-not-authorized")
        assert detail == f"Policy doesn't allow {rule} to be performed."
        r = await _admin(zun, "GET", path, version="1.3")
        assert r.status == 406, r.body


async def test_host_paging_and_sorting_as_zun(zun: ZunAPI) -> None:
    r = await _admin(zun, "GET", "/v1/hosts", params={"limit": "1"})
    assert len(r.body["hosts"]) == 1
    uuid = r.body["hosts"][0]["uuid"]
    assert r.body["next"].endswith(f"/v1/hosts?sort_key=hostname&sort_dir=asc&limit=1&marker={uuid}")
    nxt = await _admin(zun, "GET", "/v1/hosts", params={"limit": "1", "marker": uuid})
    assert nxt.body == {"hosts": [], "next": None}
    _error(await _admin(zun, "GET", "/v1/hosts", params={"marker": "nope"}), 404, "container.compute-node-not-found")
    detail = _error(await _admin(zun, "GET", "/v1/hosts", params={"sort_key": "nope"}), 400, "container.invalid-parameter-value")
    assert detail == 'The sort_key value "nope" is an invalid field for sorting'
    _error(await _admin(zun, "GET", "/v1/hosts", params={"limit": "0"}), 400, "container.invalid-value")
    r = await _admin(zun, "GET", "/v1/hosts", params={"sort_key": "cpus", "sort_dir": "desc"})
    assert r.status == 200


# --- create's requested host -----------------------------------------------------------------


async def _create(zun: ZunAPI, *, run: bool, **fields: Any) -> Response:
    body = {"image": zun.image, "command": ["sleep", "3600"], **fields}
    return await _admin(zun, "POST", "/v1/containers", json=body, params={"run": str(run)}, project="proj-hosts")


async def _pods(cluster: Cluster, uuid: str) -> list[dict[str, Any]]:
    return list(kubectl_json(cluster, "get", "pods", "-A", "-l", f"{L.UUID}={uuid}")["items"])


async def test_a_requested_host_places_the_container_there_for_good(zun: ZunAPI, cluster: Cluster) -> None:
    before = (await _admin(zun, "GET", f"/v1/hosts/{REAL}")).body
    r = await _create(zun, run=True, host=REAL, cpu=0.5, memory="64")
    assert r.status == 202, r.body
    uuid = r.body["uuid"]
    running = await zun.wait_for(uuid, "Running", project="proj-hosts")
    shown = (await _admin(zun, "GET", f"/v1/containers/{uuid}", project="proj-hosts")).body
    assert shown["host"] == REAL and "host" not in running  # admin-only key
    (pod,) = await _pods(cluster, uuid)
    assert pod["spec"]["nodeName"] == REAL
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [REAL]}]}]
    after = (await _admin(zun, "GET", f"/v1/hosts/{REAL}")).body
    assert after["total_containers"] >= before["total_containers"] + 1
    assert after["cpu_used"] >= before["cpu_used"] + 0.5 and after["mem_used"] >= before["mem_used"] + 64
    # A new Pod (stop, start) is made from the record: it goes to the same Node.
    await zun.action(uuid, "stop", project="proj-hosts", timeout="1")
    await zun.wait_for(uuid, "Stopped", project="proj-hosts")
    await zun.action(uuid, "start", project="proj-hosts")
    await zun.wait_for(uuid, "Running", project="proj-hosts")
    newest = max(await _pods(cluster, uuid), key=lambda p: int(p["metadata"]["labels"][L.GENERATION]))
    assert newest["metadata"]["labels"][L.GENERATION] == "2"
    assert newest["spec"]["affinity"] == pod["spec"]["affinity"] and newest["spec"]["nodeName"] == REAL
    r = await _admin(zun, "DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project="proj-hosts")
    assert r.status == 204
    await zun.wait_gone(uuid, project="proj-hosts")


async def test_an_unknown_host_is_zuns_404_and_nothing_is_made(zun: ZunAPI) -> None:
    for host in ("no-such-node", "kwok-node-0"):  # kwok-node-0: a Node, but no host of this zunk8s
        r = await _create(zun, run=True, host=host, name=f"nohost-{host}")
        detail = _error(r, 404, "container.requested-host-not-found")
        assert detail == f"Requested host {host} could not be found."
        listed = await _admin(zun, "GET", "/v1/containers", params={"name": f"nohost-{host}"}, project="proj-hosts")
        assert listed.body["containers"] == []
    # Zun's policy: admins only; and the field exists from 1.39.
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "host": REAL}, project="proj-hosts")
    _error(r, 403, "container.policy-not-authorized")
    r = await _admin(zun, "POST", "/v1/containers", json={"image": zun.image, "host": REAL}, version="1.38")
    assert r.status == 400, r.body


@pytest.fixture
async def tolerant(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    """A replica that tolerates the kwok taint: the kwok nodes are hosts for it."""
    app = create_app(make_settings(cluster, ns_prefix, tolerations=[KWOK_TOLERATION]))
    async with TestClient(TestServer(app)) as c:
        yield ZunAPI(c, image=cluster.image)


async def test_tolerated_nodes_are_hosts_and_a_container_goes_where_asked(tolerant: ZunAPI, cluster: Cluster) -> None:
    r = await _admin(tolerant, "GET", "/v1/hosts")
    names = [h["hostname"] for h in r.body["hosts"]]
    assert names == sorted(names) and {REAL, "kwok-node-0", "kwok-node-1", "kwok-node-2"} <= set(names)
    kwok = next(h for h in r.body["hosts"] if h["hostname"] == "kwok-node-1")
    assert kwok["cpus"] == 1000 and kwok["os"] is None
    r = await _create(tolerant, run=True, host="kwok-node-1")
    assert r.status == 202, r.body
    uuid = r.body["uuid"]
    await tolerant.wait_for(uuid, "Running", project="proj-hosts")
    (pod,) = await _pods(cluster, uuid)
    assert pod["spec"]["nodeName"] == "kwok-node-1"  # of four schedulable Nodes, the one asked for
    r = await _admin(tolerant, "DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project="proj-hosts")
    assert r.status == 204
    await tolerant.wait_gone(uuid, project="proj-hosts")


# --- services ---------------------------------------------------------------------------------


async def _services(zun: ZunAPI) -> list[dict[str, Any]]:
    r = await _admin(zun, "GET", "/v1/services")
    assert r.status == 200, r.body
    assert list(r.body) == ["services"]  # Zun's service list has no "next"
    return list(r.body["services"])


async def test_each_replica_is_a_zun_api_and_a_zun_compute(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    services = await _services(zun)
    assert services and len(services) % 2 == 0
    assert [s["id"] for s in services] == list(range(1, len(services) + 1))
    assert [s["binary"] for s in services] == ["zun-api", "zun-compute"] * (len(services) // 2)
    for s in services:
        assert set(s) == {
            "availability_zone", "binary", "created_at", "disabled", "disabled_reason", "forced_down", "host", "id",
            "last_seen_up", "report_count", "state", "updated_at",
        }
        assert (s["state"], s["disabled"], s["forced_down"], s["availability_zone"]) == ("up", False, False, "nova")
        assert time.strptime(s["updated_at"], "%Y-%m-%dT%H:%M:%S.%f")
    for path in ("/v1/services", "/services"):
        detail = _error(await zun.call("GET", path), 403, "container.policy-not-authorized")
        assert detail == "Policy doesn't allow zun-service:get_all to be performed."
    r = await _admin(zun, "GET", "/services", version=None)  # no version header: 1.1, still served
    assert r.status == 200 and len(r.body["services"]) == len(services)

    # Another replica joins (shared Redis) and is listed at once; it leaves when it stops.
    app = create_app(make_settings(cluster, ns_prefix))
    async with TestClient(TestServer(app)) as c:
        other = ZunAPI(c, image=cluster.image)
        joined = await _services(other)
        assert len(joined) == len(services) + 2
        # Both replicas answer from the same heartbeats.
        seen_by_first = await _services(zun)
        assert [(s["id"], s["binary"], s["created_at"]) for s in seen_by_first] == [
            (s["id"], s["binary"], s["created_at"]) for s in joined
        ]
    assert len(await _services(zun)) == len(services)

    # A replica that died without leaving is listed "down" (its heartbeat is old), as Zun lists
    # a compute that stopped reporting.
    store = RedisStore(cluster.redis_url)
    group = replicas_group(L.instance_for(ns_prefix))
    now = time.time()
    dead = Heartbeat(host="zunk8s-dead", started_at=now - 600, seen_at=now - 120, report_count=7, compute_seen_at=now - 120)
    try:
        await store.put_member(group, "dead-replica", dead.model_dump(), ttl=600)
        rows = [s for s in await _services(zun) if s["host"] == "zunk8s-dead"]
        assert [(s["binary"], s["state"], s["report_count"]) for s in rows] == [
            ("zun-api", "down", 7), ("zun-compute", "down", 7),
        ]
        assert rows[0]["id"] == 1  # the oldest replica first
    finally:
        await store.drop_members(group, "dead-replica")
        await store.close()
