"""Static-token mode through the whole app: the token decides the project (identity headers
are ignored), a missing or unknown token is Zun's 401, version discovery and the probes stay
open, and a token removed from the file stops working without a restart."""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import token_call
from tests.serverproc import delete_namespaces
from zunk8s.app import create_app
from zunk8s.identity.statictokens import new_entry
from zunk8s.settings import AuthSettings


class Tokens:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.alpha, alpha = new_entry(project_id="alpha", user_id="ci-a", roles=["member"])
        self.beta, beta = new_entry(project_id="beta", user_id="ci-b", roles=["member"])
        self.entries = [alpha, beta]
        self.write()

    def write(self) -> None:
        self.path.write_text(json.dumps({"tokens": self.entries}))


@pytest.fixture
async def static_client(cluster: Cluster, tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Tokens]]:
    prefix = f"zs{secrets.token_hex(3)}-"
    tokens = Tokens(tmp_path / "tokens.json")
    settings = make_settings(cluster, prefix).model_copy(
        update={"auth": AuthSettings(mode="static", tokens_file=str(tokens.path))}
    )
    try:
        async with TestClient(TestServer(create_app(settings))) as c:
            yield c, tokens
    finally:
        delete_namespaces(cluster, prefix)


async def test_static_tokens(static_client: tuple[TestClient[Any, Any], Tokens], cluster: Cluster) -> None:
    client, tokens = static_client

    call = functools.partial(token_call, client)

    # Open without a token, as in Zun: version discovery; and the probes.
    for path in ("/", "/v1", "/healthz"):
        status, _, _ = await call("GET", path, None)
        assert status == 200, path
    for token in (None, "", "not-a-token", tokens.alpha[:-1]):
        status, body, _ = await call("GET", "/v1/containers", token)
        assert status == 401, token
        assert body["errors"][0]["status"] == 401 and body["errors"][0]["title"] == "Unauthorized"

    # The token decides the project; identity headers are not trusted.
    spoof = {"X-Project-Id": "beta", "X-Roles": "admin"}
    status, made, _ = await call(
        "POST", "/v1/containers", tokens.alpha, json={"image": cluster.image, "command": ["true"]}, headers=spoof
    )
    assert status == 202, made
    assert made["project_id"] == "alpha" and made["user_id"] == "ci-a"
    status, body, _ = await call("GET", f"/v1/containers/{made['uuid']}", tokens.beta)
    assert status == 404
    status, body, _ = await call("GET", "/v1/containers", tokens.beta)
    assert status == 200 and body["containers"] == []
    status, body, _ = await call("GET", "/v1/containers?all_projects=1", tokens.alpha, headers=spoof)
    assert status == 403  # X-Roles: admin is ignored

    # Revoked by removing it from the file: refused within a second or two, no restart.
    tokens.entries = tokens.entries[1:]
    tokens.write()
    for _ in range(40):
        status, _, _ = await call("GET", "/v1/containers", tokens.alpha)
        if status == 401:
            break
        await asyncio.sleep(0.1)
    assert status == 401
    status, _, _ = await call("GET", "/v1/containers", tokens.beta)
    assert status == 200
