"""Application factory: wires settings, the Kubernetes gateway, the state store, the
container service, background loops, middlewares and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from zunk8s.handlers import middlewares as mw
from zunk8s.handlers.keys import SERVICE, SETTINGS
from zunk8s.handlers.params import archive_body_limit
from zunk8s.handlers.routes import add_routes
from zunk8s.kube.gateway import KubeGateway
from zunk8s.metrics import (
    METRICS_KEY,
    REGISTRY_KEY,
    KubeRequests,
    Metrics,
    metrics_handler,
    metrics_middleware,
)
from zunk8s.service.lifecycle import ContainerService
from zunk8s.service.reconciler import Reconciler
from zunk8s.service.tasks import TaskRunner
from zunk8s.settings import Settings
from zunk8s.state.store import make_store
from zunk8s.wsproxy import bridge

log = structlog.get_logger(__name__)

CAPABILITIES = web.AppKey("capabilities", dict[str, Any])
RECONCILER = web.AppKey("reconciler", Reconciler)
# A dependency check must answer a probe quickly, even when Redis drops packets.
PROBE_TIMEOUT = 2.0


async def _backend(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    gateway = await KubeGateway.connect(settings.kube)
    store = make_store(settings.redis_url)
    tasks = TaskRunner()
    loops: list[asyncio.Task[None]] = []
    try:
        await store.ping()
        version = await gateway.discover()
        await gateway.ensure_crd()
        app[REGISTRY_KEY].register(KubeRequests(gateway.request_counts))
        service = ContainerService(gateway=gateway, store=store, settings=settings, tasks=tasks)
        reconciler = Reconciler(service)
        loops = [
            asyncio.create_task(gateway.records.run(), name="informer:records"),
            asyncio.create_task(gateway.pods.run(), name="informer:pods"),
            asyncio.create_task(reconciler.run(), name="reconciler"),
        ]
        # Serve only once the caches hold the cluster's truth.
        await asyncio.wait_for(asyncio.gather(gateway.records.synced.wait(), gateway.pods.synced.wait()), 60)
        app[SERVICE] = service
        app[RECONCILER] = reconciler
        app[CAPABILITIES] = {
            "kubernetes_version": version.get("gitVersion"),
            "state_store": "redis" if settings.redis_url else "memory",
            "exec_protocols": ["v5.channel.k8s.io", "v4.channel.k8s.io"],
        }
        log.info("zunk8s_ready", kubernetes=version.get("gitVersion"), store=app[CAPABILITIES]["state_store"])
        yield
    finally:
        await tasks.drain(timeout=5)
        await tasks.close()
        for loop in loops:
            loop.cancel()
        if loops:
            # Bounded: a loop stuck in a client library must not hold shutdown forever.
            _, stuck = await asyncio.wait(loops, timeout=5)
            for loop in stuck:
                log.warning("background_loop_did_not_stop", task=loop.get_name())
        await store.close()
        await gateway.close()


async def capabilities(request: web.Request) -> web.Response:
    detected = request.app[CAPABILITIES]
    found = dict(detected)
    # Learned on first use: whether pods/log can return stdout or stderr alone.
    found["log_streams"] = request.app[SERVICE].gw.log_streams
    return web.json_response(found)


async def _dependencies(app: web.Application) -> dict[str, dict[str, Any]]:
    """Each dependency: reachable or not (and why). Redis is pinged (bounded); Kubernetes is
    judged by its client's own reachability flag (kube/http.py), so a probe never waits on it."""
    service = app[SERVICE]
    checks: dict[str, dict[str, Any]] = {}
    if app[SETTINGS].redis_url:
        try:
            await asyncio.wait_for(service.store.ping(), PROBE_TIMEOUT)
            checks["redis"] = {"ok": True}
        except Exception as e:  # any failure means "down"; the probe itself must not fail
            checks["redis"] = {"ok": False, "detail": f"{type(e).__name__}: {e}"}
    http = service.gw.http
    checks["kubernetes"] = {"ok": True} if http.reachable else {"ok": False, "detail": http.unavailable_error().detail}
    return checks


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 while the process serves; the body says how the dependencies are."""
    checks = await _dependencies(request.app)
    return web.json_response({"status": "ok", "checks": checks})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 503 naming what is down while Redis or the Kubernetes API is unreachable."""
    checks = await _dependencies(request.app)
    down = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if down else "ok", "down": down, "checks": checks}
    return web.json_response(body, status=503 if down else 200)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[
            mw.request_id_middleware,
            metrics_middleware,
            mw.error_middleware,
            mw.version_middleware,
            mw.noauth_middleware,
        ],
        # A backstop only: handlers read bodies through handlers.params.read_body, capped per
        # endpoint; nothing may read more than put_archive's cap.
        client_max_size=archive_body_limit(settings.max_archive_bytes),
    )
    app[SETTINGS] = settings
    registry = CollectorRegistry()
    app[REGISTRY_KEY] = registry
    app[METRICS_KEY] = Metrics(registry)
    app.cleanup_ctx.append(_backend)
    add_routes(app)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/zunk8s/capabilities", capabilities)
    bridge.setup(app)
    return app
