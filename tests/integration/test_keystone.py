"""Keystone mode against the test bed's real Keystone (deploy/keystone): who a token makes the
caller, which tokens are refused (missing, garbage, unscoped, revoked once the cache lets go,
expired), and Keystone going away and coming back."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import token_call as call
from tests.keystone import Keystone, keystone_command, start_keystone
from tests.serverproc import delete_namespaces, free_port
from zunk8s.app import create_app
from zunk8s.clock import keystone_time
from zunk8s.settings import AuthSettings, KeystoneSettings


def keystone_app(cluster: Cluster, prefix: str, settings: KeystoneSettings) -> Any:
    base = make_settings(cluster, prefix)
    return create_app(base.model_copy(update={"auth": AuthSettings(mode="keystone", keystone=settings)}))


@pytest.fixture
async def ks_client(cluster: Cluster, keystone: Keystone) -> AsyncIterator[TestClient[Any, Any]]:
    prefix = f"zk{secrets.token_hex(3)}-"
    # A short cache, so revocation is seen within the test.
    app = keystone_app(cluster, prefix, keystone.service_settings(cache_ttl=2.0, negative_cache_ttl=0.5))
    try:
        async with TestClient(TestServer(app)) as c:
            yield c
    finally:
        delete_namespaces(cluster, prefix)


async def test_tokens_decide_who_calls(ks_client: TestClient[Any, Any], keystone: Keystone, cluster: Cluster) -> None:
    alice, alice_body = await keystone.token("alice")
    bob, _ = await keystone.token("bob")

    status, made, _ = await call(
        ks_client,
        "POST",
        "/v1/containers",
        alice,
        json={"image": cluster.image, "command": ["true"]},
        headers={"X-Project-Id": "beta", "X-Roles": "admin"},  # not trusted in keystone mode
    )
    assert status == 202, made
    assert made["project_id"] == alice_body["project"]["id"] and made["user_id"] == alice_body["user"]["id"]
    assert "host" not in made  # a member does not see admin-only fields
    status, _, _ = await call(ks_client, "GET", f"/v1/containers/{made['uuid']}", bob)
    assert status == 404
    status, body, _ = await call(ks_client, "GET", "/v1/containers", bob)
    assert status == 200 and body["containers"] == []

    admin, _ = await keystone.token("admin")
    status, body, _ = await call(ks_client, "GET", "/v1/containers?all_projects=1", admin)
    assert status == 200 and made["uuid"] in {c["uuid"] for c in body["containers"]}
    assert all("host" in c for c in body["containers"])
    status, body, _ = await call(ks_client, "GET", "/v1/containers?all_projects=1", alice)
    assert status == 403 and body["errors"][0]["detail"] == (
        "Policy doesn't allow container:get_all_all_projects to be performed."
    )

    # Refused: missing, garbage, unscoped. Zun's envelope, and where to log in.
    unscoped, unscoped_body = await keystone.token("alice", scoped=False)
    assert "project" not in unscoped_body
    for token in (None, "", "garbage", alice[:-2], unscoped):
        status, body, headers = await call(ks_client, "GET", "/v1/containers", token)
        assert status == 401, token
        assert body["errors"][0]["status"] == 401
        assert headers["WWW-Authenticate"] == f'Keystone uri="{keystone.url}"'
    for path in ("/", "/v1", "/healthz"):
        status, _, _ = await call(ks_client, "GET", path, None)
        assert status == 200, path

    # Revoked: accepted while cached (the documented trade-off, cache_ttl=2 here), then refused.
    status, _, _ = await call(ks_client, "GET", "/v1/containers", alice)
    assert status == 200
    await keystone.revoke(alice)
    revoked_at = time.monotonic()
    status, _, _ = await call(ks_client, "GET", "/v1/containers", alice)
    assert status == 200 or time.monotonic() - revoked_at > 2.0
    await asyncio.sleep(2.2)
    status, _, _ = await call(ks_client, "GET", "/v1/containers", alice)
    assert status == 401

    status, _, _ = await call(ks_client, "DELETE", f"/v1/containers/{made['uuid']}?force=true", admin)
    assert status == 204


@pytest.fixture
def private_keystone(tmp_path: Path) -> Any:
    """A Keystone of this test's own (its own state and port, tokens valid 8 s), so stopping it
    and expiring tokens disturb no one else."""
    env = {
        "ZUNK8S_KEYSTONE_HOME": str(tmp_path / "keystone"),
        "ZUNK8S_KEYSTONE_PORT": str(free_port()),
        "ZUNK8S_KEYSTONE_TOKEN_EXPIRATION": "8",
    }
    keystone = start_keystone(env)
    try:
        yield keystone, env
    finally:
        keystone_command("down", "--purge", env=env)


async def test_expiry_and_outage(cluster: Cluster, private_keystone: tuple[Keystone, dict[str, str]]) -> None:
    keystone, env = private_keystone
    prefix = f"zx{secrets.token_hex(3)}-"
    app = keystone_app(cluster, prefix, keystone.service_settings(cache_ttl=300.0, negative_cache_ttl=0.5, timeout=2.0))
    try:
        async with TestClient(TestServer(app)) as client:
            token, body = await keystone.token("alice")
            status, _, _ = await call(client, "GET", "/v1/containers", token)
            assert status == 200
            # Cached, but never past the token's own expiry (8 s here, despite cache_ttl 300).
            await asyncio.sleep(max(0.0, expires_in(body) + 0.5))
            status, _, _ = await call(client, "GET", "/v1/containers", token)
            assert status == 401

            # Keystone down: a token zunk8s has not seen is neither let through nor a 500.
            fresh, _ = await keystone.token("bob")
            keystone_command("down", env=env)
            status, body2, _ = await call(client, "GET", "/v1/containers", fresh)
            assert status == 503, body2
            assert body2["errors"][0]["code"] == "container.backend-unavailable"
            assert "Keystone" in body2["errors"][0]["detail"]

            # Back: works again, no restart of zunk8s.
            keystone_command("up", env=env)
            again, _ = await keystone.token("bob")
            status, _, _ = await call(client, "GET", "/v1/containers", again)
            assert status == 200
    finally:
        delete_namespaces(cluster, prefix)


def expires_in(token_body: dict[str, Any]) -> float:
    return keystone_time(str(token_body["expires_at"])) - time.time()


# Every container endpoint: (method, path after /v1/containers/<id>, query or body); archives,
# websocket tokens (attach, interactive exec) and logs included.
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "", {}),
    ("PATCH", "", {"json": {"name": "renamed"}}),
    ("DELETE", "", {}),
    ("DELETE", "", {"params": {"force": "true"}}),
    ("DELETE", "", {"params": {"stop": "true"}}),
    *[("POST", f"/{a}", {}) for a in ("start", "stop", "reboot", "kill", "pause", "unpause", "rebuild")],
    ("POST", "/rename", {"params": {"name": "x"}, "headers": {"OpenStack-API-Version": "container 1.12"}}),
    ("GET", "/logs", {}),
    ("POST", "/execute", {"params": {"command": "true", "run": "true"}}),
    ("POST", "/execute", {"params": {"command": "sh", "run": "false", "interactive": "true"}}),
    ("POST", "/execute_resize", {"params": {"exec_id": "a" * 64, "w": "80", "h": "24"}}),
    ("GET", "/attach", {}),
    ("POST", "/resize", {"params": {"w": "80", "h": "24"}}),
    ("GET", "/top", {}),
    ("GET", "/stats", {}),
    ("GET", "/get_archive", {"params": {"path": "/etc/hostname"}}),
    ("POST", "/put_archive", {"params": {"path": "/tmp"}, "json": {"data": ""}}),
    ("POST", "/commit", {"params": {"repository": "r"}}),
    ("POST", "/add_security_group", {"params": {"name": "g"}, "headers": {"OpenStack-API-Version": "container 1.14"}}),
    ("POST", "/network_detach", {"params": {"network": "n"}}),
    ("GET", "/network_list", {}),
    ("POST", "/resize_container", {"json": {"cpu": 0.5}}),
    ("GET", "/container_actions", {}),
    ("GET", "/container_actions/req-1", {}),
]


async def test_no_project_sees_another(ks_client: TestClient[Any, Any], keystone: Keystone, cluster: Cluster) -> None:
    """Two projects, member / reader / admin, every endpoint: another project's container is a
    404 for every non-admin, whatever the endpoint; reads work for its own project's member and
    reader (Zun's defaults give readers the owner's rights: admin_or_owner) and for an admin."""
    tokens = {user: (await keystone.token(user))[0] for user in ("alice", "rita", "bob", "admin")}
    status, made, _ = await call(
        ks_client,
        "POST",
        "/v1/containers?run=true",
        tokens["alice"],
        json={"image": cluster.image, "command": ["sleep", "3600"], "interactive": True, "tty": True},
    )
    assert status == 202, made
    uuid = made["uuid"]
    for _ in range(300):
        status, shown, _ = await call(ks_client, "GET", f"/v1/containers/{uuid}", tokens["alice"])
        if shown["status"] == "Running" and shown["task_state"] is None:
            break
        await asyncio.sleep(0.1)
    assert shown["status"] == "Running", shown

    # And the other way: beta's container, alpha's member and reader.
    status, theirs, _ = await call(
        ks_client, "POST", "/v1/containers", tokens["bob"], json={"image": cluster.image, "command": ["true"]}
    )
    assert status == 202, theirs
    leaks = []
    for target, outsiders in ((uuid, ("bob",)), (theirs["uuid"], ("alice", "rita"))):
        for who in outsiders:
            for method, tail, kw in ENDPOINTS:
                path = f"/v1/containers/{target}{tail}"
                status, body, _ = await call(ks_client, method, path, tokens[who], **dict(kw))
                if status != 404:
                    leaks.append((who, method, tail, status, body))
    assert leaks == [], leaks
    for who in ("bob",):
        status, body, _ = await call(ks_client, "GET", "/v1/containers", tokens[who])
        assert uuid not in {c["uuid"] for c in body["containers"]}
        status, body, _ = await call(ks_client, "GET", f"/v1/containers/{made['name']}", tokens[who])
        assert status == 404

    reads = [("GET", "", {}), ("GET", "/logs", {}), ("GET", "/top", {}), ("GET", "/attach", {}),
             ("GET", "/get_archive", {"params": {"path": "/etc/hostname"}}), ("GET", "/container_actions", {})]
    for who in ("alice", "rita", "admin"):
        for method, tail, kw in reads:
            status, body, _ = await call(ks_client, method, f"/v1/containers/{uuid}{tail}", tokens[who], **dict(kw))
            assert status == 200, (who, tail, status, body)
    status, shown, _ = await call(ks_client, "GET", f"/v1/containers/{uuid}", tokens["rita"])
    assert "host" not in shown
    status, shown, _ = await call(ks_client, "GET", f"/v1/containers/{uuid}", tokens["admin"])
    assert shown["host"]  # an admin sees where it runs

    # delete --force is for admins: a member of the project gets Zun's 403.
    status, body, _ = await call(ks_client, "DELETE", f"/v1/containers/{uuid}?force=true", tokens["alice"])
    assert status == 403 and body["errors"][0]["detail"] == "Policy doesn't allow container:delete_force to be performed."
    status, _, _ = await call(ks_client, "DELETE", f"/v1/containers/{uuid}?force=true", tokens["admin"])
    assert status == 204
