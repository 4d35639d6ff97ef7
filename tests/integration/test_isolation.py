"""Security groups and networks isolate containers for real: busybox servers and clients on the
local cluster, packets enforced by kube-router from the NetworkPolicies zunk8s writes.

Every server listens on ports 80 and 81 (busybox httpd answering "ok"), so a refused port is
refused by policy, not for want of a listener. A probe is one HTTP request from a client container
(``nc`` through zunk8s's execute), with a 2 s timeout.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI, neutron_call
from zunk8s.app import create_app
from zunk8s.translate.names import namespace_for

SERVE = ["sh", "-c", "echo ok > /tmp/index.html && httpd -p 80 -h /tmp && httpd -p 81 -h /tmp && exec sleep 3600"]
# Within this long a change must show in packets (the bound).
TAKES_EFFECT = 10.0


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


@pytest.fixture(scope="module")
async def zun2(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    """A second replica of the same installation."""
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def project() -> str:
    return f"iso-{secrets.token_hex(3)}"


async def neutron(zun: ZunAPI, method: str, path: str, *, project: str, body: Any = None) -> Response:
    return await neutron_call(zun, method, path, project=project, json=body, roles="member")


async def group(zun: ZunAPI, p: str, name: str) -> str:
    r = await neutron(zun, "POST", "/security-groups", project=p, body={"security_group": {"name": name}})
    assert r.status == 201, r.body
    return str(r.body["security_group"]["id"])


async def rule(zun: ZunAPI, p: str, group_id: str, **fields: Any) -> str:
    body = {"security_group_rule": {"security_group_id": group_id, "direction": "ingress", **fields}}
    r = await neutron(zun, "POST", "/security-group-rules", project=p, body=body)
    assert r.status == 201, r.body
    return str(r.body["security_group_rule"]["id"])


async def running(zun: ZunAPI, p: str, *, serve: bool = False, **fields: Any) -> dict[str, Any]:
    c = await zun.create(run=True, project=p, **({"command": SERVE} if serve else {}), **fields)
    shown = await zun.wait_for(c["uuid"], "Running", project=p)
    assert shown["addresses"], shown
    return shown


def address(c: dict[str, Any]) -> str:
    (first,) = {a["addr"] for entries in c["addresses"].values() for a in entries}
    return str(first)


async def reaches(zun: ZunAPI, client: dict[str, Any], server: dict[str, Any], port: int) -> bool:
    # (busybox's wget -T crashes in Debian's busybox 1.35: an HTTP request through nc instead.)
    probe = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {address(server)} {port}"
    r = await zun.action(client["uuid"], "execute", project=client["project_id"], expect=200,
                         command=f'sh -c "{probe}"', run="true")
    return bool(r.body["exit_code"] == 0 and r.body["output"].rstrip().endswith("\nok"))


async def until(zun: ZunAPI, client: dict[str, Any], server: dict[str, Any], port: int, *, allowed: bool) -> float:
    """Seconds until a probe gives ``allowed`` (fails after TAKES_EFFECT)."""
    start = time.monotonic()
    while time.monotonic() - start < TAKES_EFFECT:
        if await reaches(zun, client, server, port) == allowed:
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError(f"{client['name']} -> {server['name']}:{port} not {'allowed' if allowed else 'refused'} in {TAKES_EFFECT} s")


async def test_default_group_members_reach_each_other_and_other_projects_do_not(zun: ZunAPI) -> None:
    a, b = project(), project()
    server, client = await running(zun, a, serve=True), await running(zun, a)
    stranger = await running(zun, b)
    assert await reaches(zun, client, server, 80)
    assert await reaches(zun, client, server, 81)  # the default group: every port from its members
    assert not await reaches(zun, stranger, server, 80)
    assert server["security_groups"] is None  # as Zun shows a container created without groups


async def test_a_group_allowing_port_80_from_web_only(zun: ZunAPI) -> None:
    p = project()
    web, srv = await group(zun, p, "web"), await group(zun, p, "srv")
    await rule(zun, p, srv, protocol="tcp", port_range_min=80, port_range_max=80, remote_group_id=web)
    server = await running(zun, p, serve=True, security_groups=["srv"])
    member = await running(zun, p, security_groups=["web"])
    outsider = await running(zun, p)  # in default only
    assert server["security_groups"] == [srv] and member["security_groups"] == [web]
    assert await reaches(zun, member, server, 80)
    assert not await reaches(zun, member, server, 81)
    assert not await reaches(zun, outsider, server, 80)
    # A rule added later reaches the members' policies.
    added = await rule(zun, p, srv, protocol="tcp", port_range_min=81, port_range_max=81, remote_group_id=web)
    await until(zun, member, server, 81, allowed=True)
    r = await neutron(zun, "DELETE", f"/security-group-rules/{added}", project=p)
    assert r.status == 204, r.body
    await until(zun, member, server, 81, allowed=False)
    # A group in use cannot be deleted (Neutron's 409).
    r = await neutron(zun, "DELETE", f"/security-groups/{srv}", project=p)
    assert r.status == 409 and r.body["NeutronError"]["type"] == "SecurityGroupInUse", r.body


async def test_add_and_remove_security_group_on_a_running_container(zun: ZunAPI) -> None:
    p = project()
    web, srv = await group(zun, p, "web"), await group(zun, p, "srv")
    await rule(zun, p, srv, protocol="tcp", port_range_min=80, port_range_max=80, remote_group_id=web)
    server = await running(zun, p, serve=True, security_groups=[srv])
    client = await running(zun, p)
    assert not await reaches(zun, client, server, 80)

    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/add_security_group", params={"name": "web"},
                       project=p, version="1.14")
    assert r.status == 202, r.body
    allowed_after = await until(zun, client, server, 80, allowed=True)
    shown = await zun.wait_for(client["uuid"], "Running", project=p)
    assert set(shown["security_groups"]) == {web, await _default_group(zun, p)}
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/add_security_group", params={"name": "web"},
                       project=p, version="1.14")
    assert r.status == 400 and "has been added" in r.body["errors"][0]["detail"], r.body

    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/remove_security_group", params={"name": web},
                       project=p, version="1.14")
    assert r.status == 202, r.body
    refused_after = await until(zun, client, server, 80, allowed=False)
    after = await zun.wait_for(client["uuid"], "Running", project=p)
    # The same Pod all along: a relabel and a policy change, no restart.
    assert after["status_detail"] is not None
    assert _pod_of(after) == _pod_of(client)
    print(f"add_security_group took effect in {allowed_after:.2f} s, remove in {refused_after:.2f} s")
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/add_security_group", params={"name": "web"},
                       project=p, version="1.15")
    assert r.status == 406, r.body


async def _default_group(zun: ZunAPI, p: str) -> str:
    r = await neutron(zun, "GET", "/security-groups", project=p)
    return str(next(g["id"] for g in r.body["security_groups"] if g["name"] == "default"))


def _pod_of(c: dict[str, Any]) -> Any:
    # A new Pod would have a new address (host-local gives the next free one).
    return address(c)


async def test_network_detach_cuts_traffic_and_attach_restores_it(zun: ZunAPI) -> None:
    p = project()
    server = await running(zun, p, serve=True)
    client = await running(zun, p)
    (default_net,) = server["addresses"].keys()
    assert list(client["addresses"]) == [default_net]
    r = await neutron(zun, "POST", "/networks", project=p, body={"network": {"name": "side"}})
    assert r.status == 201, r.body
    side = r.body["network"]["id"]
    assert await reaches(zun, client, server, 80)

    # Attach a second network, then detach the shared one: no common network, no traffic.
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/network_attach", params={"network": "side"}, project=p)
    assert r.status == 200, r.body
    await zun.wait_for(client["uuid"], "Running", project=p)
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/network_attach", params={"network": side}, project=p)
    assert r.status == 400 and "already connected" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/network_detach", params={"network": default_net}, project=p)
    assert r.status == 202, r.body
    await until(zun, client, server, 80, allowed=False)
    listed = await zun.call("GET", f"/v1/containers/{client['uuid']}/network_list", project=p)
    assert [n["net_id"] for n in listed.body["networks"]] == [side]
    assert listed.body["networks"][0]["fixed_ips"][0]["ip_address"] == address(client)
    legacy = await zun.call("GET", f"/v1/containers/{client['uuid']}/network_list", project=p, version="1.17")
    assert legacy.body["networks"] == [{"net_id": side, "port_id": listed.body["networks"][0]["port_id"],
                                        "subnet_id": None, "version": 4, "ip_address": address(client)}]
    # Its port, read-only through the /network API (and another project sees none of them).
    ports = await neutron(zun, "GET", f"/ports?device_id={client['uuid']}", project=p)
    assert [(x["id"], x["network_id"]) for x in ports.body["ports"]] == [(listed.body["networks"][0]["port_id"], side)]
    assert (await neutron(zun, "GET", f"/ports?device_id={client['uuid']}", project=project())).body["ports"] == []

    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/network_attach", params={"network": default_net}, project=p)
    assert r.status == 200, r.body
    await until(zun, client, server, 80, allowed=True)
    shown = await zun.wait_for(client["uuid"], "Running", project=p)
    assert set(shown["addresses"]) == {default_net, side}
    # The network is in use: Neutron's 409.
    r = await neutron(zun, "DELETE", f"/networks/{side}", project=p)
    assert r.status == 409, r.body
    # Detach by port (network_list's port_id): the network is free again.
    side_port = next(n["port_id"] for n in (await zun.call(
        "GET", f"/v1/containers/{client['uuid']}/network_list", project=p)).body["networks"] if n["net_id"] == side)
    r = await zun.call("POST", f"/v1/containers/{client['uuid']}/network_detach", params={"port": side_port}, project=p)
    assert r.status == 202, r.body
    assert list((await zun.wait_for(client["uuid"], "Running", project=p))["addresses"]) == [default_net]
    r = await neutron(zun, "DELETE", f"/networks/{side}", project=p)
    assert r.status == 204, r.body


async def test_create_on_a_network_by_name_and_bad_nets(zun: ZunAPI) -> None:
    p = project()
    r = await neutron(zun, "POST", "/networks", project=p, body={"network": {"name": "blue"}})
    blue = r.body["network"]["id"]
    c = await zun.create(project=p, nets=[{"network": "blue"}])
    assert list((await zun.wait_for(c["uuid"], "Created", project=p))["addresses"]) == []
    shown = await zun.call("GET", f"/v1/containers/{c['uuid']}/network_list", project=p)
    assert shown.body == {"networks": []}  # Zun lists addresses: none before the Pod has one
    for nets, status, says in (
        ([{"network": "no-such-net"}], 404, "Neutron network no-such-net could not be found."),
        ([{"port": "p1"}], 400, "no Neutron ports"),
        ([{"network": "blue", "v4-fixed-ip": "10.88.200.1"}], 400, "cannot be honoured"),
    ):
        r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "nets": nets}, project=p)
        assert r.status == status and says in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "security_groups": ["nope"]}, project=p)
    assert r.status == 400 and r.body["errors"][0]["detail"] == "Security group nope not found.", r.body
    assert blue


async def test_exposed_ports_open_to_other_projects_and_nothing_else(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    a, b = project(), project()
    server = await running(zun, a, serve=True, exposed_ports={"80/tcp": {}})
    stranger = await running(zun, b)
    assert server["ports"] == [80]
    assert await reaches(zun, stranger, server, 80)
    assert not await reaches(zun, stranger, server, 81)
    # Zun's zun-<uuid> group, with its rule, and a Service reaching the port.
    groups = (await neutron(zun, "GET", "/security-groups", project=a)).body["security_groups"]
    (exposed,) = [g for g in groups if g["name"] == f"zun-{server['uuid']}"]
    assert server["security_groups"] == [exposed["id"]]
    namespace = namespace_for(a, ns_prefix)
    assert _kubectl(cluster, "get", "service", f"zun-{server['uuid']}", "-n", namespace, "-o",
                    "jsonpath={.spec.ports[0].port}") == "80"

    # Deleting the container leaves nothing behind: policy, Service, group (and no Pod to label).
    r = await zun.call("DELETE", f"/v1/containers/{server['uuid']}", params={"stop": "true"}, project=a)
    assert r.status == 204, r.body
    await zun.wait_gone(server["uuid"], project=a)
    deadline = time.monotonic() + 30
    left = "?"
    while time.monotonic() < deadline:
        left = _kubectl(cluster, "get", "networkpolicy,service,securitygroups.zunk8s.openstack.org", "-n", namespace,
                        "-o", "name")
        if f"zun-{server['uuid']}" not in left and exposed["id"] not in left:
            break
        await asyncio.sleep(0.5)
    assert f"zun-{server['uuid']}" not in left and exposed["id"] not in left, left


def _kubectl(cluster: Cluster, *args: str) -> str:
    out = subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args], capture_output=True, text=True, check=True)
    return out.stdout.strip()


async def test_rule_changes_through_two_replicas_all_reach_the_policy(
    zun: ZunAPI, zun2: ZunAPI, cluster: Cluster, ns_prefix: str
) -> None:
    """Concurrent rule writes on two replicas: the member's policy ends with every rule (the last
    policy write is made from the newest group, whatever order the writers finish in)."""
    p = project()
    srv = await group(zun, p, "srv")
    member = await zun.create(project=p, security_groups=[srv])
    await zun.wait_for(member["uuid"], "Created", project=p)
    ports = list(range(8000, 8012))
    await asyncio.gather(*(rule(zun if i % 2 else zun2, p, srv, protocol="tcp", port_range_min=port, port_range_max=port)
                           for i, port in enumerate(ports)))
    policy = json.loads(_kubectl(cluster, "get", "networkpolicy", f"zun-{member['uuid']}", "-n", namespace_for(p, ns_prefix),
                                 "-o", "json"))
    opened = sorted(x["port"] for entry in policy["spec"]["ingress"] for x in entry.get("ports", []))
    assert opened == ports


async def test_a_capsule_is_isolated_as_a_container_in_its_default_group(zun: ZunAPI, cluster: Cluster) -> None:
    """A capsule serving on 80 (a declared port: exposed, as Zun makes it) and 81: its project's
    containers reach both (the default group), another project's only 80; a change to the default
    group's rules reaches the capsule's policy too."""
    a, b = project(), project()
    serve = "echo ok > /tmp/index.html && httpd -p 80 -h /tmp && httpd -p 81 -h /tmp && exec sleep 3600"
    template = {"kind": "capsule", "metadata": {"name": "iso"}, "spec": {"containers": [
        {"image": cluster.image, "command": ["sh", "-c", serve], "ports": [{"containerPort": 80}]}]}}
    r = await zun.call("POST", "/v1/capsules", json={"template": template}, project=a)
    assert r.status == 202, r.body
    deadline = time.monotonic() + 60
    while (capsule := (await zun.call("GET", f"/v1/capsules/{r.body['uuid']}", project=a)).body)["status"] != "Running":
        assert time.monotonic() < deadline, capsule
        await asyncio.sleep(0.3)
    member, stranger = await running(zun, a), await running(zun, b)
    assert await reaches(zun, member, capsule, 80) and await reaches(zun, member, capsule, 81)
    assert await reaches(zun, stranger, capsule, 80)
    assert not await reaches(zun, stranger, capsule, 81)

    default = await _default_group(zun, a)
    rules = (await neutron(zun, "GET", f"/security-group-rules?security_group_id={default}", project=a)).body
    for rid in [x["id"] for x in rules["security_group_rules"] if x["direction"] == "ingress"]:
        assert (await neutron(zun, "DELETE", f"/security-group-rules/{rid}", project=a)).status == 204
    await until(zun, member, capsule, 81, allowed=False)
    assert await reaches(zun, member, capsule, 80)  # still exposed
    assert (await zun.call("DELETE", f"/v1/capsules/{capsule['uuid']}", project=a)).status == 204
