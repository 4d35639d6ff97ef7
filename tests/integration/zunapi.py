"""A small Zun API driver for integration tests: requests with identity headers, waits."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


class ZunAPI:
    def __init__(self, client: TestClient[Any, Any], *, image: str) -> None:
        self.client = client
        self.image = image

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        version: str | None = "1.40",
        project: str = "proj-a",
        roles: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        hdrs = {"X-Project-Id": project, "X-User-Id": "user-1", "Accept": "application/json"}
        if version is not None:
            hdrs["OpenStack-API-Version"] = f"container {version}"
        if roles is not None:
            hdrs["X-Roles"] = roles
        hdrs.update(headers or {})
        async with self.client.request(method, path, json=json, params=params, headers=hdrs) as resp:
            raw = await resp.read()
            body: Any = None
            if raw and resp.content_type == "application/json":
                body = await resp.json()
            elif raw:
                body = raw
            return Response(resp.status, body, dict(resp.headers))

    async def create(self, *, run: bool = False, project: str = "proj-a", **fields: Any) -> dict[str, Any]:
        body = {"image": self.image, "command": ["sleep", "3600"], **fields}
        r = await self.call("POST", "/v1/containers", json=body, params={"run": str(run)}, project=project)
        assert r.status == 202, r.body
        assert isinstance(r.body, dict)
        return r.body

    async def show(self, ident: str, *, project: str = "proj-a") -> dict[str, Any]:
        r = await self.call("GET", f"/v1/containers/{ident}", project=project)
        assert r.status == 200, r.body
        assert isinstance(r.body, dict)
        return r.body

    async def action(self, ident: str, action: str, *, project: str = "proj-a", expect: int = 202, **params: str) -> Response:
        method = "GET" if action in ("logs", "attach", "top", "stats", "get_archive", "network_list") else "POST"
        r = await self.call(method, f"/v1/containers/{ident}/{action}", params=params or None, project=project)
        assert r.status == expect, (r.status, r.body)
        return r

    async def wait_for(
        self, ident: str, *statuses: str, timeout: float = 60, project: str = "proj-a", idle: bool = True
    ) -> dict[str, Any]:
        """Wait until the container's status is one of ``statuses`` (and task_state is null)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = await self.show(ident, project=project)
            if last["status"] in statuses and (not idle or last["task_state"] is None):
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"{ident} never reached {statuses}: {last.get('status')} {last.get('status_reason')} task={last.get('task_state')}")

    async def wait_gone(self, ident: str, *, timeout: float = 60, project: str = "proj-a") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = await self.call("GET", f"/v1/containers/{ident}", project=project)
            if r.status == 404:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{ident} was not deleted")


async def token_call(
    client: TestClient[Any, Any], method: str, path: str, token: str | None, **kw: Any
) -> tuple[int, Any, Any]:
    """A request with a token (keystone or static mode) instead of noauth's identity headers:
    status, body (JSON or text) and headers."""
    headers = {"OpenStack-API-Version": "container 1.40", **({"X-Auth-Token": token} if token is not None else {})}
    headers.update(kw.pop("headers", {}))
    async with client.request(method, path, headers=headers, **kw) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, body, r.headers


# --- the /network API (Neutron's paths and envelope) ----------------------------------------

NEUTRON_API = "/network/v2.0"


async def neutron_call(api: ZunAPI, method: str, path: str, *, project: str, json: Any = None,
                       params: dict[str, str] | None = None, roles: str | None = None) -> Response:
    return await api.call(method, NEUTRON_API + path, json=json, params=params, project=project, version=None, roles=roles)


def neutron_error(r: Response, status: int, kind: str) -> str:
    """The message of a Neutron error of ``kind`` (asserting its status and envelope)."""
    assert r.status == status, (r.status, r.body)
    err = r.body["NeutronError"]
    assert err["type"] == kind, r.body
    assert err["detail"] == ""
    message: str = err["message"]
    return message
