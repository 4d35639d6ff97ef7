"""/healthz (liveness) and /readyz (readiness) over stub dependencies: which one is down."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.exceptions import ConnectionError as RedisConnectionError

from zunk8s.app import healthz, readyz
from zunk8s.handlers.keys import SERVICE, SETTINGS
from zunk8s.kube.errors import KubeUnavailable
from zunk8s.settings import Settings


class Store:
    def __init__(self, up: bool) -> None:
        self.up = up

    async def ping(self) -> None:
        if not self.up:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


class Kube:
    """KubeHTTP's reachability surface."""

    def __init__(self, reachable: bool) -> None:
        self.reachable = reachable

    def unavailable_error(self) -> KubeUnavailable:
        return KubeUnavailable("The Kubernetes API is unreachable since 2026-12-02 02:46:59 UTC (GET /readyz).")


def _app(*, redis_url: str | None, redis_up: bool, http: Any) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(redis_url=redis_url)
    app[SERVICE] = SimpleNamespace(store=Store(redis_up), gw=SimpleNamespace(http=http))  # type: ignore[assignment]
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


@pytest.mark.parametrize(
    ("redis_up", "kube", "down"),
    [
        (True, Kube(True), []),
        (False, Kube(True), ["redis"]),
        (True, Kube(False), ["kubernetes"]),
        (False, Kube(False), ["redis", "kubernetes"]),
    ],
)
async def test_probes_name_what_is_down(redis_up: bool, kube: Any, down: list[str]) -> None:
    app = _app(redis_url="redis://127.0.0.1:6390/0", redis_up=redis_up, http=kube)
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        body = await r.json()
        assert (r.status, body["down"]) == (503 if down else 200, down)
        if not redis_up:
            assert "Connection refused" in body["checks"]["redis"]["detail"]
        if not kube.reachable:
            assert "unreachable since" in body["checks"]["kubernetes"]["detail"]
        live = await client.get("/healthz")
        assert live.status == 200
        checks = (await live.json())["checks"]
        assert [name for name, check in checks.items() if not check["ok"]] == down


async def test_without_redis_only_kubernetes_is_checked() -> None:
    app = _app(redis_url=None, redis_up=False, http=Kube(True))
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        assert r.status == 200
        assert list((await r.json())["checks"]) == ["kubernetes"]
