"""/healthz (liveness) and /readyz (readiness): which dependency is down, with the real
state stores (a Redis store pointed where nothing listens is a Redis that is down) and a
stub of the gateway's reachability flag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from zunk8s.app import healthz, readyz
from zunk8s.appkeys import SERVICES, SETTINGS
from zunk8s.kube.errors import KubeUnavailable
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.health import Health
from zunk8s.service.services import Services
from zunk8s.settings import Settings
from zunk8s.state.memory import MemoryStore
from zunk8s.state.protocol import StateStore
from zunk8s.state.redis import RedisStore

# Nothing listens on port 1: the real Redis store's ping fails at once, as a Redis that is down.
DOWN_REDIS = "redis://127.0.0.1:1/0"


class Kube:
    """The gateway's reachability surface (what Health reads of it)."""

    def __init__(self, reachable: bool, synced: bool = True) -> None:
        self.reachable = reachable
        self.synced = synced

    def unavailable_error(self) -> KubeUnavailable:
        return KubeUnavailable("The Kubernetes API is unreachable since 2026-12-02 02:46:59 UTC (GET /readyz).")


@pytest.fixture
async def stores() -> AsyncIterator[dict[bool, StateStore]]:
    """The real stores, by whether Redis is up: the in-process one never fails its ping."""
    down = RedisStore(DOWN_REDIS)
    try:
        yield {True: MemoryStore(), False: down}
    finally:
        await down.close()


def _app(*, redis_url: str | None, store: StateStore, http: Kube) -> web.Application:
    app = web.Application()
    settings = Settings(redis_url=redis_url)
    app[SETTINGS] = settings
    # Only what the probes read: the real Health over the store and the gateway's reachability,
    # built as build_services builds it.
    health = Health(gateway=cast(KubeGateway, http), store=store, redis=bool(settings.redis_url))
    app[SERVICES] = cast(Services, SimpleNamespace(health=health))
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
        (True, Kube(True, synced=False), ["caches"]),
    ],
)
async def test_probes_name_what_is_down(
    redis_up: bool, kube: Kube, down: list[str], stores: dict[bool, StateStore]
) -> None:
    app = _app(redis_url=DOWN_REDIS, store=stores[redis_up], http=kube)
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        body = await r.json()
        assert (r.status, body["down"]) == (503 if down else 200, down)
        if not redis_up:
            detail = body["checks"]["redis"]["detail"]
            assert "Redis unavailable" in detail and "127.0.0.1:1" in detail  # what failed, and where
        if not kube.reachable:
            assert "unreachable since" in body["checks"]["kubernetes"]["detail"]
        live = await client.get("/healthz")
        assert live.status == 200
        checks = (await live.json())["checks"]
        assert [name for name, check in checks.items() if not check["ok"]] == down


async def test_without_redis_only_kubernetes_is_checked(stores: dict[bool, StateStore]) -> None:
    app = _app(redis_url=None, store=stores[False], http=Kube(True))
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        assert r.status == 200
        assert list((await r.json())["checks"]) == ["kubernetes", "caches"]
