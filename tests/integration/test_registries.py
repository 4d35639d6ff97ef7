"""/v1/registries and create's ``registry`` for real: the local cluster's private registry asks
for a password (distribution's registry with htpasswd); a container names a registry holding
the credentials and the kubelet pulls with them; without them the pull is refused and the
container says why. The password never comes back."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI
from tests.registryimages import domain_of, fresh_private_image
from zunk8s.app import create_app
from zunk8s.translate.names import namespace_for

P = "proj-registries"
OTHER = "proj-registries-b"
VIEW_KEYS = ["uuid", "links", "user_id", "project_id", "name", "domain", "username", "password"]


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


async def make(zun: ZunAPI, project: str = P, **fields: Any) -> dict[str, Any]:
    r = await zun.call("POST", "/v1/registries", json={"registry": fields}, project=project)
    assert r.status == 201, r.body
    return dict(r.body["registry"])


def no_password(r: Response, password: str) -> None:
    assert password not in json.dumps(r.body) and password not in json.dumps(r.headers), r.body


async def test_create_show_list_update_delete(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    password = f"pw-{secrets.token_hex(6)}"
    r = await zun.call("POST", "/v1/registries", project=P, json={"registry": {
        "name": "reg-crud", "domain": "registry.example.com:5000", "username": "alice", "password": password}})
    assert r.status == 201, r.body
    no_password(r, password)
    reg = r.body["registry"]
    assert list(reg) == VIEW_KEYS
    assert (reg["name"], reg["domain"], reg["username"], reg["password"], reg["project_id"]) == (
        "reg-crud", "registry.example.com:5000", "alice", "***", P)
    assert r.headers["Location"].endswith(f"/v1/registries/{reg['uuid']}")
    # A pull Secret in the project's namespace, the credentials keyed by the domain.
    out = subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "-n", namespace_for(P, ns_prefix),
                          "get", "secret", f"zun-registry-{reg['uuid']}", "-o", "json"],
                         check=True, capture_output=True, text=True).stdout
    secret = json.loads(out)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example.com:5000"]["password"] == password

    for ident in (reg["uuid"], "reg-crud"):
        shown = await zun.call("GET", f"/v1/registries/{ident}", project=P)
        assert shown.status == 200 and shown.body["registry"] == reg, shown.body
    listed = await zun.call("GET", "/v1/registries", project=P, params={"username": "alice"})
    assert [x["uuid"] for x in listed.body["registries"]] == [reg["uuid"]] and listed.body["next"] is None
    assert (await zun.call("GET", "/v1/registries", project=P, params={"username": "bob"})).body["registries"] == []
    # Another project sees nothing of it; an admin does.
    assert (await zun.call("GET", f"/v1/registries/{reg['uuid']}", project=OTHER)).status == 404
    assert (await zun.call("GET", "/v1/registries", project=OTHER)).body["registries"] == []
    everyone = await zun.call("GET", "/v1/registries", project=OTHER, roles="admin", params={"all_projects": "1"})
    assert everyone.status == 200, everyone.body
    assert reg["uuid"] in [x["uuid"] for x in everyone.body["registries"]]
    denied = await zun.call("GET", "/v1/registries", project=OTHER, params={"all_projects": "1"})
    assert denied.status == 403, denied.body

    # The password changes; the username stays, and so does the password when only the name changes.
    new_password = f"pw2-{secrets.token_hex(6)}"
    updated = await zun.call("PATCH", f"/v1/registries/{reg['uuid']}", project=P,
                             json={"registry": {"password": new_password}})
    assert updated.status == 200 and updated.body["registry"]["username"] == "alice", updated.body
    no_password(updated, new_password)
    renamed = await zun.call("PATCH", "/v1/registries/reg-crud", project=P, json={"registry": {"name": "reg-crud2"}})
    assert renamed.status == 200 and renamed.body["registry"]["name"] == "reg-crud2", renamed.body
    secret = json.loads(subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "-n",
                                        namespace_for(P, ns_prefix), "get", "secret", f"zun-registry-{reg['uuid']}",
                                        "-o", "json"], check=True, capture_output=True, text=True).stdout)
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]["registry.example.com:5000"][
        "password"] == new_password

    # zunk8s never reads the password back: moving the credentials needs it again.
    moved = await zun.call("PATCH", f"/v1/registries/{reg['uuid']}", project=P, json={"registry": {"username": "bob"}})
    assert moved.status == 400 and "Give the password again" in moved.body["errors"][0]["detail"], moved.body
    r = await zun.call("POST", "/v1/registries", project=P, json={"registry": {"domain": "a.io", "password": "x1"}})
    assert r.status == 400 and "needs a username" in r.body["errors"][0]["detail"], r.body

    gone = await zun.call("DELETE", f"/v1/registries/{reg['uuid']}", project=P)
    assert gone.status == 204 and gone.body is None
    assert (await zun.call("GET", f"/v1/registries/{reg['uuid']}", project=P)).status == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "'registry' is a required property"),
        ({"registry": {"name": "x1"}}, "'domain' is a required property"),
        ({"registry": {"domain": "a.io", "email": "e"}}, "'email' was unexpected"),
        ({"registry": {"domain": ""}}, "field 'domain'"),
        ({"registry": {"domain": "https://a.io"}}, "without a scheme"),
        ({"registry": {"domain": "a.io", "name": "-bad"}}, "field 'name'"),
        ({"registry": {"domain": "a.io", "password": ""}}, "field 'password'"),
        ({"registry": {"domain": "a.io", "username": 5}}, "field 'username'"),
        ({"registry": "a.io"}, "field 'registry'"),
    ],
)
async def test_bad_bodies_are_zuns_400(zun: ZunAPI, body: dict[str, Any], words: str) -> None:
    r = await zun.call("POST", "/v1/registries", json=body, project=P)
    assert r.status == 400 and r.body["errors"][0]["code"] == "container.schema-validation-error", r.body
    assert words in r.body["errors"][0]["detail"], r.body


async def test_a_password_zun_refuses_is_never_echoed(zun: ZunAPI) -> None:
    secret = "x" * 256 + secrets.token_hex(8)
    r = await zun.call("POST", "/v1/registries", json={"registry": {"domain": "a.io", "password": secret}}, project=P)
    assert r.status == 400, r.body
    no_password(r, secret[-16:])


async def test_names_are_zuns_lookups(zun: ZunAPI) -> None:
    a = await make(zun, name="twin", domain="a.io")
    b = await make(zun, name="twin", domain="b.io")  # Zun's names are not unique
    r = await zun.call("GET", "/v1/registries/twin", project=P)
    assert r.status == 409 and "Please use the registry uuid instead" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("GET", "/v1/registries/nothing-here", project=P)
    assert r.status == 404 and r.body["errors"][0]["detail"] == "Registry nothing-here could not be found.", r.body
    assert r.body["errors"][0]["code"] == "container.registry-not-found"
    for reg in (a, b):
        assert (await zun.call("DELETE", f"/v1/registries/{reg['uuid']}", project=P)).status == 204


async def test_a_private_image_runs_with_the_registry_and_not_without(zun: ZunAPI, cluster: Cluster) -> None:
    image = fresh_private_image(cluster)
    # Without credentials the kubelet's pull is refused, and the container says so.
    bare = await zun.create(run=True, project=P, image=image)
    failed = await zun.wait_for(bare["uuid"], "Error", project=P, timeout=90)
    assert "401" in failed["status_reason"] or "authoriz" in failed["status_reason"].lower(), failed["status_reason"]

    reg = await make(zun, name="private", domain=domain_of(cluster), username=cluster.private_user,
                     password=cluster.private_password)
    # The image without the registry host: looked for on the registry's domain, as Zun does.
    repo_tag = image.partition("/")[2]
    c = await zun.create(run=True, project=P, image=repo_tag, registry="private")
    assert c["registry_id"] == reg["uuid"] and c["image"] == repo_tag, c
    running = await zun.wait_for(c["uuid"], "Running", project=P, timeout=90)
    assert running["registry_id"] == reg["uuid"]
    # A registry a container uses cannot go (Zun's 409), nor be named from another registry host.
    r = await zun.call("DELETE", f"/v1/registries/{reg['uuid']}", project=P)
    assert r.status == 409 and r.body["errors"][0]["detail"] == f"Failed to delete registry {reg['uuid']} since it is in use.", r.body
    r = await zun.call("PATCH", f"/v1/registries/{reg['uuid']}", project=P,
                       json={"registry": {"domain": "other.example.com", "password": "pw"}})
    assert r.status == 409 and "since it is in use" in r.body["errors"][0]["detail"], r.body
    r = await zun.call("POST", "/v1/containers", project=P,
                       json={"image": "other.example.com/x:1", "registry": reg["uuid"], "command": ["true"]})
    assert r.status == 400 and "its credentials are given only to that registry" in r.body["errors"][0]["detail"], r.body
    # Below 1.31 the field is Zun's 400; an unknown registry its 404; another project's is not found.
    r = await zun.call("POST", "/v1/containers", project=P, version="1.30",
                       json={"image": repo_tag, "registry": "private"})
    assert r.status == 400 and r.body["errors"][0]["code"] == "container.invalid-param-in-version", r.body
    r = await zun.call("POST", "/v1/containers", project=P, json={"image": repo_tag, "registry": "nope"})
    assert r.status == 404 and r.body["errors"][0]["detail"] == "Registry nope could not be found.", r.body
    r = await zun.call("POST", "/v1/containers", project=OTHER, json={"image": repo_tag, "registry": reg["uuid"]})
    assert r.status == 404, r.body

    for uuid in (bare["uuid"], c["uuid"]):
        gone = await zun.call("DELETE", f"/v1/containers/{uuid}", project=P, params={"stop": "true"})
        assert gone.status == 204, gone.body
        await zun.wait_gone(uuid, project=P)
    assert (await zun.call("DELETE", f"/v1/registries/{reg['uuid']}", project=P)).status == 204


async def test_a_wrong_password_fails_the_pull_and_an_update_fixes_it(zun: ZunAPI, cluster: Cluster) -> None:
    image = fresh_private_image(cluster)
    reg = await make(zun, domain=domain_of(cluster), username=cluster.private_user, password="wrong")
    c = await zun.create(run=True, project=P, image=image, registry=reg["uuid"])
    failed = await zun.wait_for(c["uuid"], "Error", project=P, timeout=90)
    assert "401" in failed["status_reason"] or "authoriz" in failed["status_reason"].lower(), failed["status_reason"]
    fixed = await zun.call("PATCH", f"/v1/registries/{reg['uuid']}", project=P,
                           json={"registry": {"password": cluster.private_password}})
    assert fixed.status == 200, fixed.body
    # The next Pod of the container pulls with the new credentials.
    await zun.action(c["uuid"], "start", project=P)
    await zun.wait_for(c["uuid"], "Running", project=P, timeout=90)
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", project=P, params={"stop": "true"})
    await zun.wait_gone(c["uuid"], project=P)
    assert (await zun.call("DELETE", f"/v1/registries/{reg['uuid']}", project=P)).status == 204
