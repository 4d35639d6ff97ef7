"""The Neutron-compatible security-group API (/network/v2.0) on the real cluster: Neutron's
default group and default rules, its validation and 409s in its envelope, rules NetworkPolicy
cannot enforce refused, concurrent rule writes none lost, project isolation."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI, neutron_call, neutron_error
from zunk8s.app import create_app
from zunk8s.translate.names import namespace_for


def _settings(cluster: Cluster, ns_prefix: str) -> Any:
    return make_settings(cluster, ns_prefix)


@pytest.fixture(scope="module")
async def net(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


@pytest.fixture(scope="module")
async def other_replica(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


def project() -> str:
    return f"sg-{secrets.token_hex(3)}"


async def call(net: ZunAPI, method: str, path: str, *, project: str, json: Any = None,
               params: dict[str, str] | None = None, roles: str | None = None) -> Response:
    return await neutron_call(net, method, path, project=project, json=json, params=params, roles=roles)


async def make_group(net: ZunAPI, p: str, name: str) -> dict[str, Any]:
    r = await call(net, "POST", "/security-groups", project=p, json={"security_group": {"name": name, "description": name}})
    assert r.status == 201, r.body
    group: dict[str, Any] = r.body["security_group"]
    return group


async def add_rule(net: ZunAPI, p: str, **fields: Any) -> Response:
    return await call(net, "POST", "/security-group-rules", project=p, json={"security_group_rule": fields})


async def test_default_group_appears_on_first_list_with_neutrons_rules(net: ZunAPI) -> None:
    p = project()
    first = await call(net, "GET", "/security-groups", project=p)
    assert first.status == 200, first.body
    (default,) = first.body["security_groups"]
    assert (default["name"], default["description"], default["project_id"]) == ("default", "Default security group", p)
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"], r["remote_ip_prefix"], r["protocol"])
             for r in default["security_group_rules"]}
    assert rules == {
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", default["id"], None, None), ("ingress", "IPv6", default["id"], None, None),
    }
    again = await call(net, "GET", "/security-groups", project=p)
    assert [g["id"] for g in again.body["security_groups"]] == [default["id"]]


async def test_groups_and_rules_as_neutron_answers(net: ZunAPI) -> None:
    p = project()
    web = await make_group(net, p, "web")
    db = await make_group(net, p, "db")
    assert {(r["direction"], r["ethertype"]) for r in web["security_group_rules"]} == {("egress", "IPv4"), ("egress", "IPv6")}
    neutron_error(await call(net, "POST", "/security-groups", project=p, json={"security_group": {"name": "Default"}}),
                  409, "SecurityGroupDefaultAlreadyExists")
    # By name the SDK first GETs /security-groups/<name>: a 404, then lists with ?name=.
    neutron_error(await call(net, "GET", "/security-groups/web", project=p), 404, "SecurityGroupNotFound")
    named = await call(net, "GET", "/security-groups", project=p, params={"name": "web"})
    assert [g["id"] for g in named.body["security_groups"]] == [web["id"]]

    r = await add_rule(net, p, security_group_id=db["id"], direction="ingress", protocol="tcp",
                       port_range_min=5432, port_range_max=5432, remote_group_id=web["id"], ethertype="IPv4")
    assert r.status == 201, r.body
    rule = r.body["security_group_rule"]
    assert (rule["protocol"], rule["port_range_min"], rule["remote_group_id"], rule["security_group_id"]) == (
        "tcp", 5432, web["id"], db["id"])
    same = await add_rule(net, p, security_group_id=db["id"], direction="ingress", protocol="6",
                          port_range_min=5432, port_range_max=5432, remote_group_id=web["id"])
    assert rule["id"] in neutron_error(same, 409, "SecurityGroupRuleExists")
    # The egress-anywhere rule every group has: "0.0.0.0/0" is the same as none.
    neutron_error(await add_rule(net, p, security_group_id=web["id"], direction="egress", remote_ip_prefix="0.0.0.0/0"),
                  409, "SecurityGroupRuleExists")
    listed = await call(net, "GET", "/security-group-rules", project=p, params={"security_group_id": db["id"]})
    assert rule["id"] in {x["id"] for x in listed.body["security_group_rules"]}
    shown = await call(net, "GET", f"/security-group-rules/{rule['id']}", project=p)
    assert shown.body["security_group_rule"] == rule

    # Deleting web takes db's rule that named it (Neutron's cascade); the rule is then gone.
    assert (await call(net, "DELETE", f"/security-groups/{web['id']}", project=p)).status == 204
    neutron_error(await call(net, "GET", f"/security-group-rules/{rule['id']}", project=p), 404, "SecurityGroupRuleNotFound")
    neutron_error(await call(net, "GET", f"/security-groups/{web['id']}", project=p), 404, "SecurityGroupNotFound")
    egress = next(x for x in db["security_group_rules"] if x["ethertype"] == "IPv6")
    assert (await call(net, "DELETE", f"/security-group-rules/{egress['id']}", project=p)).status == 204
    after = (await call(net, "GET", f"/security-groups/{db['id']}", project=p)).body["security_group"]
    assert egress["id"] not in {x["id"] for x in after["security_group_rules"]}


@pytest.mark.parametrize(
    ("fields", "status", "kind", "says"),
    [
        ({"direction": "ingress", "port_range_min": 80}, 400, "SecurityGroupRuleInvalid", "Must also specify protocol"),
        ({"direction": "up"}, 400, "SecurityGroupRuleInvalid", "Invalid input for direction"),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 9, "port_range_max": 1}, 400,
         "SecurityGroupRuleInvalid", "port_range_min must be <= port_range_max"),
        ({"direction": "ingress", "protocol": "icmp"}, 400, "NotExpressible", "matches only TCP, UDP and SCTP"),
        ({"direction": "ingress", "remote_ip_prefix": "10.88.130.0/24"}, 400, "NotExpressible", "covers only part"),
        ({"direction": "ingress", "colour": "red"}, 400, "NeutronBadRequest", "Unrecognized attribute(s) 'colour'"),
        ({"direction": "ingress", "remote_group_id": "no-such-group"}, 404, "SecurityGroupNotFound", "no-such-group"),
    ],
)
async def test_rules_neutron_or_networkpolicy_cannot_take(
    net: ZunAPI, fields: dict[str, Any], status: int, kind: str, says: str
) -> None:
    p = project()
    group = await make_group(net, p, "g")
    message = neutron_error(await add_rule(net, p, security_group_id=group["id"], **fields), status, kind)
    assert says in message


async def test_bad_bodies_are_neutron_400s(net: ZunAPI) -> None:
    p = project()
    for body in ({"security_group": "web"}, {"name": "web"}, [1]):
        neutron_error(await call(net, "POST", "/security-groups", project=p, json=body), 400, "NeutronBadRequest")
    neutron_error(await call(net, "POST", "/security-groups", project=p,
                             json={"security_group": {"name": "x", "project_id": "someone-else"}}), 400, "NeutronBadRequest")
    # A name with a slash, as openstacksdk looks names up (raw in the path): a 404 it understands.
    neutron_error(await call(net, "GET", "/security-groups/a/b", project=p), 404, "HTTPNotFound")
    neutron_error(await call(net, "PUT", "/security-groups", project=p, json={}), 405, "HTTPMethodNotAllowed")


async def test_default_group_is_kept_from_members_not_from_admins(net: ZunAPI) -> None:
    p = project()
    (default,) = (await call(net, "GET", "/security-groups", project=p)).body["security_groups"]
    neutron_error(await call(net, "DELETE", f"/security-groups/{default['id']}", project=p), 409,
                  "SecurityGroupCannotRemoveDefault")
    assert (await call(net, "DELETE", f"/security-groups/{default['id']}", project=p, roles="admin")).status == 204
    (again,) = (await call(net, "GET", "/security-groups", project=p)).body["security_groups"]
    assert again["name"] == "default"  # made again on next use, as Neutron does


async def test_concurrent_rule_writes_on_two_replicas_are_all_kept(net: ZunAPI, other_replica: ZunAPI) -> None:
    p = project()
    group = await make_group(net, p, "busy")
    answers = await asyncio.gather(*(
        add_rule((net, other_replica)[i % 2], p, security_group_id=group["id"], direction="ingress", protocol="tcp",
                 port_range_min=8000 + i, port_range_max=8000 + i)
        for i in range(20)
    ))
    assert [a.status for a in answers] == [201] * 20, [a.body for a in answers]
    shown = (await call(net, "GET", f"/security-groups/{group['id']}", project=p)).body["security_group"]
    assert {r["port_range_min"] for r in shown["security_group_rules"] if r["direction"] == "ingress"} == set(range(8000, 8020))


async def test_a_project_sees_only_its_own_groups(net: ZunAPI) -> None:
    a, b = project(), project()
    secret = await make_group(net, a, "a-only")
    listed = (await call(net, "GET", "/security-groups", project=b)).body["security_groups"]
    assert secret["id"] not in {g["id"] for g in listed}
    neutron_error(await call(net, "GET", f"/security-groups/{secret['id']}", project=b), 404, "SecurityGroupNotFound")
    neutron_error(await call(net, "DELETE", f"/security-groups/{secret['id']}", project=b), 404, "SecurityGroupNotFound")
    neutron_error(await add_rule(net, b, security_group_id=secret["id"], direction="ingress"), 404, "SecurityGroupNotFound")


async def test_a_reader_reads_and_does_not_write(net: ZunAPI) -> None:
    p = project()
    group = await make_group(net, p, "seen")
    listed = await call(net, "GET", "/security-groups", project=p, roles="reader")
    assert group["id"] in {g["id"] for g in listed.body["security_groups"]}
    neutron_error(await call(net, "POST", "/security-groups", project=p, roles="reader",
                             json={"security_group": {"name": "nope"}}), 403, "PolicyNotAuthorized")
    rule = {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}}
    neutron_error(await call(net, "POST", "/security-group-rules", project=p, roles="reader", json=rule),
                  403, "PolicyNotAuthorized")
    neutron_error(await call(net, "DELETE", f"/security-groups/{group['id']}", project=p, roles="reader"),
                  403, "PolicyNotAuthorized")


async def test_a_group_made_with_kubectl_is_listed_and_not_written(net: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    """A platform team's group (kubectl, without zunk8s's labels): shown with its valid rules,
    a rule Neutron would refuse left out; zunk8s refuses to change it (409 with the reason)."""
    p = project()
    await call(net, "GET", "/security-groups", project=p)  # the project's namespace and default group
    namespace = namespace_for(p, ns_prefix)
    manifest = {
        "apiVersion": "zunk8s.openstack.org/v1alpha1", "kind": "SecurityGroup",
        "metadata": {"name": "team-made", "namespace": namespace},
        "spec": {"name": "team", "description": "by kubectl", "project_id": p, "rules": [
            {"id": "r-ok", "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
            {"id": "r-bad", "direction": "sideways"},
        ]},
    }
    subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "apply", "-f", "-"],
                   input=json.dumps(manifest), text=True, check=True, capture_output=True)
    shown = (await call(net, "GET", "/security-groups/team-made", project=p)).body["security_group"]
    assert [r["id"] for r in shown["security_group_rules"]] == ["r-ok"]
    message = neutron_error(await add_rule(net, p, security_group_id="team-made", direction="egress", protocol="udp"),
                            409, "Conflict")
    assert "not made by this zunk8s" in message
    neutron_error(await call(net, "DELETE", "/security-groups/team-made", project=p), 409, "Conflict")
