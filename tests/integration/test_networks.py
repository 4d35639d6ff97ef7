"""The Neutron-compatible network API (/network/v2.0/networks) on the real cluster: a project's
default network on first use, create/list/show/update/delete in Neutron's bodies and envelope,
sharing by admins only and seen by every project, another project's network hidden, a network a
container record names kept (409), name lookups for containers (``resolve``, ``default_for``).

Its own zunk8s and namespace prefix: shared networks are seen by every project of an
installation, so other modules' projects must not see these."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI, neutron_call, neutron_error
from tests.serverproc import delete_namespaces
from zunk8s.app import create_app
from zunk8s.appkeys import SERVICES
from zunk8s.errors import Conflict, NetworkNotFound
from zunk8s.service.context import Caller
from zunk8s.service.networks import Networks
from zunk8s.translate import labels as L
from zunk8s.translate.names import namespace_for, project_hash
from zunk8s.translate.networkviews import default_network_id


@pytest.fixture(scope="module")
def net_prefix(cluster: Cluster) -> Iterator[str]:
    prefix = f"zn{secrets.token_hex(3)}-"
    yield prefix
    delete_namespaces(cluster, prefix)


@pytest.fixture(scope="module")
async def net(cluster: Cluster, net_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, net_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def project() -> str:
    return f"net-{secrets.token_hex(3)}"


def networks_of(net: ZunAPI) -> Networks:
    networks: Networks = net.client.app[SERVICES].networks
    return networks


def caller(p: str, *roles: str) -> Caller:
    return Caller(project_id=p, user_id="user-1", roles=frozenset(roles or ("member",)), request_id="req-test",
                  is_admin="admin" in roles)


async def call(net: ZunAPI, method: str, path: str, *, project: str, json: Any = None,
               params: dict[str, str] | None = None, roles: str | None = None) -> Response:
    return await neutron_call(net, method, path, project=project, json=json, params=params, roles=roles)


async def make(net: ZunAPI, p: str, name: str, *, roles: str | None = None, **fields: Any) -> dict[str, Any]:
    r = await call(net, "POST", "/networks", project=p, roles=roles, json={"network": {"name": name, **fields}})
    assert r.status == 201, r.body
    network: dict[str, Any] = r.body["network"]
    return network


async def listed(net: ZunAPI, p: str, **params: str) -> list[dict[str, Any]]:
    r = await call(net, "GET", "/networks", project=p, params=params or None)
    assert r.status == 200, r.body
    networks: list[dict[str, Any]] = r.body["networks"]
    return networks


async def test_default_network_appears_on_first_use(net: ZunAPI, net_prefix: str) -> None:
    p = project()
    (default,) = await listed(net, p)
    instance = L.instance_for(net_prefix)
    assert default["id"] == default_network_id(instance, p)
    assert {k: default[k] for k in ("name", "project_id", "tenant_id", "shared", "status", "admin_state_up",
                                    "subnets", "mtu", "router:external", "port_security_enabled")} == {
        "name": "default", "project_id": p, "tenant_id": p, "shared": False, "status": "ACTIVE",
        "admin_state_up": True, "subnets": [], "mtu": 1500, "router:external": False, "port_security_enabled": True}
    assert [n["id"] for n in await listed(net, p)] == [default["id"]]
    # The first use may be a show, or a container needing one.
    q = project()
    assert await networks_of(net).default_for(caller(q)) == default_network_id(instance, q)
    shown = await call(net, "GET", f"/networks/{default_network_id(instance, q)}", project=q)
    assert shown.body["network"]["name"] == "default"


async def test_create_list_show_update_delete(net: ZunAPI) -> None:
    p = project()
    web = await make(net, p, "web", description="web tier", admin_state_up=True)
    assert (web["name"], web["description"], web["shared"], web["project_id"]) == ("web", "web tier", False, p)
    assert [n["name"] for n in await listed(net, p)] == ["default", "web"]
    assert [n["id"] for n in await listed(net, p, name="web")] == [web["id"]]
    # By name openstacksdk first GETs /networks/<name>: Neutron's 404, then lists with ?name=.
    assert neutron_error(await call(net, "GET", "/networks/web", project=p), 404, "NetworkNotFound") == (
        "Network web could not be found.")
    shown = await call(net, "GET", f"/networks/{web['id']}", project=p)
    assert shown.body["network"] == web

    r = await call(net, "PUT", f"/networks/{web['id']}", project=p, json={"network": {"name": "www", "description": ""}})
    assert r.status == 200, r.body
    assert (r.body["network"]["name"], r.body["network"]["description"]) == ("www", "")
    assert r.body["network"]["revision_number"] > web["revision_number"]
    assert r.body["network"]["created_at"] == web["created_at"]

    assert (await call(net, "DELETE", f"/networks/{web['id']}", project=p)).status == 204
    neutron_error(await call(net, "GET", f"/networks/{web['id']}", project=p), 404, "NetworkNotFound")
    neutron_error(await call(net, "DELETE", f"/networks/{web['id']}", project=p), 404, "NetworkNotFound")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"network": {"name": "x", "provider:network_type": "vxlan"}},
         "zunk8s networks are Kubernetes isolation domains: provider:network_type is not supported"),
        ({"network": {"name": "x", "router:external": True}}, "router:external=true is not supported"),
        ({"network": {"name": "x", "admin_state_up": False}}, "admin_state_up=false is not supported"),
        ({"network": {"name": "x", "colour": "red"}}, "Unrecognized attribute(s) 'colour'"),
        ({"network": {"name": "x", "project_id": "someone-else"}}, "caller's project only"),
        ({"network": "x"}, "Resource body required"),
    ],
)
async def test_bodies_neutron_or_kubernetes_cannot_take(net: ZunAPI, body: Any, says: str) -> None:
    p = project()
    assert says in neutron_error(await call(net, "POST", "/networks", project=p, json=body), 400, "NeutronBadRequest")


async def test_shared_by_admins_only_and_seen_by_every_project(net: ZunAPI) -> None:
    owner, other = project(), project()
    refused = await call(net, "POST", "/networks", project=owner, json={"network": {"name": "pub", "shared": True}})
    assert neutron_error(refused, 403, "PolicyNotAuthorized") == "(rule:create_network:shared) is disallowed by policy"
    pub = await make(net, owner, "pub", roles="admin", shared=True)
    assert pub["shared"] is True
    seen = await listed(net, other)
    assert pub["id"] in {n["id"] for n in seen}
    assert [n["id"] for n in await listed(net, other, shared="true")] == [pub["id"]]  # the only one shared here
    assert (await call(net, "GET", f"/networks/{pub['id']}", project=other)).body["network"]["project_id"] == owner
    # Seen, not changed, by another project's member; sharing is changed by admins only.
    neutron_error(await call(net, "PUT", f"/networks/{pub['id']}", project=other, json={"network": {"name": "mine"}}),
                  403, "PolicyNotAuthorized")
    neutron_error(await call(net, "DELETE", f"/networks/{pub['id']}", project=other), 403, "PolicyNotAuthorized")
    message = neutron_error(await call(net, "PUT", f"/networks/{pub['id']}", project=owner,
                                       json={"network": {"shared": False}}), 403, "PolicyNotAuthorized")
    assert message == "(rule:update_network:shared) is disallowed by policy"
    r = await call(net, "PUT", f"/networks/{pub['id']}", project=owner, roles="admin", json={"network": {"shared": False}})
    assert r.status == 200 and r.body["network"]["shared"] is False, r.body
    assert pub["id"] not in {n["id"] for n in await listed(net, other)}
    neutron_error(await call(net, "GET", f"/networks/{pub['id']}", project=other), 404, "NetworkNotFound")


async def test_another_projects_network_is_not_found(net: ZunAPI) -> None:
    a, b = project(), project()
    secret = await make(net, a, "a-only")
    assert secret["id"] not in {n["id"] for n in await listed(net, b)}
    for method, body in (("GET", None), ("PUT", {"network": {"name": "x"}}), ("DELETE", None)):
        neutron_error(await call(net, method, f"/networks/{secret['id']}", project=b, json=body), 404, "NetworkNotFound")
    # An admin reaches any project's network by id.
    shown = await call(net, "GET", f"/networks/{secret['id']}", project=b, roles="admin")
    assert shown.status == 200 and shown.body["network"]["project_id"] == a


async def test_a_reader_reads_and_does_not_write(net: ZunAPI) -> None:
    p = project()
    mine = await make(net, p, "seen")
    assert mine["id"] in {n["id"] for n in (await call(net, "GET", "/networks", project=p, roles="reader")).body["networks"]}
    for method, path, body in (("POST", "/networks", {"network": {"name": "nope"}}),
                               ("PUT", f"/networks/{mine['id']}", {"network": {"name": "nope"}}),
                               ("DELETE", f"/networks/{mine['id']}", None)):
        neutron_error(await call(net, method, path, project=p, roles="reader", json=body), 403, "PolicyNotAuthorized")


async def test_resolve_names_for_containers(net: ZunAPI) -> None:
    p = project()
    networks = networks_of(net)
    one = await make(net, p, "dup")
    await make(net, p, "dup")
    solo = await make(net, p, "solo")
    assert await networks.resolve(caller(p), "solo") == solo["id"]
    assert await networks.resolve(caller(p), one["id"]) == one["id"]
    with pytest.raises(Conflict) as many:
        await networks.resolve(caller(p), "dup")
    assert many.value.detail == "Multiple network matches found for name 'dup', use an ID to be more specific."
    with pytest.raises(NetworkNotFound):
        await networks.resolve(caller(p), "nowhere")
    with pytest.raises(NetworkNotFound):
        await networks.resolve(caller(project()), solo["id"])  # another project's
    assert (await networks.show(caller(p), solo["id"]))["name"] == "solo"
    # Zun's default: the project's oldest network that is not shared.
    assert await networks.default_for(caller(p)) == (await listed(net, p, name="default"))[0]["id"]


def kubectl(cluster: Cluster, *args: str, body: Any = None) -> None:
    subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args],
                   input=None if body is None else json.dumps(body), text=True, check=True, capture_output=True)


async def test_a_network_a_container_is_on_is_kept(net: ZunAPI, cluster: Cluster, net_prefix: str) -> None:
    """A container record naming the network (written directly, as a container create would):
    Neutron's 409 until the record is gone."""
    p = project()
    busy = await make(net, p, "busy")
    uuid = f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
    namespace = namespace_for(p, net_prefix)
    record = {
        "apiVersion": "zunk8s.openstack.org/v1alpha1", "kind": "ZunContainer",
        "metadata": {"name": uuid, "namespace": namespace,
                     "labels": L.owner_labels(uuid=uuid, project_hash=project_hash(p), instance=L.instance_for(net_prefix))},
        "spec": {"uuid": uuid, "name": "on-busy", "project_id": p, "user_id": "user-1", "image": cluster.image,
                 "cpu": 0.1, "memory": "64", "created_at": "2026-01-01 00:00:00", "networks": [busy["id"]]},
    }
    kubectl(cluster, "create", "-f", "-", body=record)
    try:
        r = await _eventually(net, "DELETE", f"/networks/{busy['id']}", p, 409)
        assert neutron_error(r, 409, "NetworkInUse") == (
            f"Unable to complete operation on network {busy['id']}. "
            "There are one or more ports still in use on the network.")
    finally:
        kubectl(cluster, "delete", "zuncontainers.zunk8s.openstack.org", uuid, "-n", namespace, "--wait=true")
    assert (await _eventually(net, "DELETE", f"/networks/{busy['id']}", p, 204)).status == 204


async def _eventually(net: ZunAPI, method: str, path: str, p: str, status: int) -> Response:
    """The answer once the records cache has seen the change (a watch event away)."""
    for _ in range(100):
        r = await call(net, method, path, project=p)
        if r.status == status:
            return r
        await asyncio.sleep(0.1)
    return r


async def test_a_network_made_with_kubectl_is_listed_and_not_written(net: ZunAPI, cluster: Cluster, net_prefix: str) -> None:
    p = project()
    await listed(net, p)  # the project's namespace and default network
    namespace = namespace_for(p, net_prefix)
    kubectl(cluster, "apply", "-f", "-", body={
        "apiVersion": "zunk8s.openstack.org/v1alpha1", "kind": "Network",
        "metadata": {"name": "team-made", "namespace": namespace},
        "spec": {"name": "team", "description": "by kubectl", "project_id": p},
    })
    assert "team" in {n["name"] for n in await listed(net, p)}
    message = neutron_error(await call(net, "PUT", "/networks/team-made", project=p, json={"network": {"name": "x"}}),
                            409, "Conflict")
    assert "not made by this zunk8s" in message
    neutron_error(await call(net, "DELETE", "/networks/team-made", project=p), 409, "Conflict")
