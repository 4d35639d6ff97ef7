"""Hosts over a stand-in gateway and registry: which Nodes, what they hold, lookups and 404s."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from tests.unit.translate.test_hosts import KWOK_NODE, KWOK_TOLERATION, REAL_NODE
from zunk8s.errors import ComputeNodeNotFound, RequestedHostNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record, RecordStatus
from zunk8s.schemas.queries import parse_host_query
from zunk8s.service.hosts import Hosts
from zunk8s.service.registry import Entry, Registry


class StubGateway:
    def __init__(self, nodes: list[dict[str, Any]], pods: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.nodes = nodes
        self.pods = pods
        self.asked: list[str] = []

    async def list_nodes(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.nodes)

    async def get_node(self, name: str) -> dict[str, Any] | None:
        self.asked.append(name)
        return next((copy.deepcopy(n) for n in self.nodes if n["metadata"]["name"] == name), None)

    def cached_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.pods.get((namespace, name))


class StubRegistry:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    def all_entries(self) -> list[Entry]:
        return self.entries


def _entry(uuid: str, pod: str | None, cpu: float) -> Entry:
    record = Record(uuid=uuid, name=uuid, project_id="p", user_id="u", image="i", cpu=cpu, memory="256", created_at="t")
    return Entry(record=record, status=RecordStatus(pod=pod), namespace="ns", uid="x", resource_version="1", has_status=True)


def _hosts(tolerations: list[dict[str, str]] | None = None) -> tuple[Hosts, StubGateway]:
    pods = {("ns", "p1"): {"spec": {"nodeName": "zun-real-0"}, "status": {"phase": "Running"}}}
    gw = StubGateway([REAL_NODE, KWOK_NODE], pods)
    registry = StubRegistry([_entry("c1", "p1", 0.5), _entry("c2", None, 1.0)])
    hosts = Hosts(
        gateway=cast(KubeGateway, gw), registry=cast(Registry, registry), node_selector={}, tolerations=tolerations or []
    )
    return hosts, gw


async def test_the_list_holds_the_nodes_containers_may_go_to() -> None:
    hosts, _ = _hosts()
    page = await hosts.page(parse_host_query({}))
    assert [(h["hostname"], h["total_containers"], h["cpu_used"], h["mem_used"]) for h in page] == [("zun-real-0", 1, 0.5, 256)]
    hosts, _ = _hosts([KWOK_TOLERATION])
    assert [h["hostname"] for h in await hosts.page(parse_host_query({}))] == ["kwok-node-0", "zun-real-0"]


async def test_show_by_name_or_uuid_and_zuns_404() -> None:
    hosts, gw = _hosts()
    assert (await hosts.get("zun-real-0"))["uuid"] == REAL_NODE["metadata"]["uid"]
    by_uuid = await hosts.get(REAL_NODE["metadata"]["uid"].upper().replace("-", ""))  # as Zun's is_uuid_like takes it
    assert by_uuid["hostname"] == "zun-real-0" and by_uuid["total_containers"] == 1
    for ident in ("kwok-node-0", "no-such-node", KWOK_NODE["metadata"]["uid"], "..", "Zun Real"):
        with pytest.raises(ComputeNodeNotFound) as err:
            await hosts.get(ident)
        assert err.value.detail == f"Compute node {ident} could not be found."
    assert ".." not in gw.asked and "Zun Real" not in gw.asked  # no Node can have such a name


async def test_a_requested_host_must_be_a_host() -> None:
    hosts, _ = _hosts()
    await hosts.require("zun-real-0")
    for name in ("kwok-node-0", "nope"):
        with pytest.raises(RequestedHostNotFound) as err:
            await hosts.require(name)
        assert (err.value.status, err.value.code, err.value.detail) == (
            404, "requested-host-not-found", f"Requested host {name} could not be found."
        )
