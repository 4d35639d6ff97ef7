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
from zunk8s.handlers.routes import add_routes
from zunk8s.kube.gateway import KubeGateway
from zunk8s.metrics import (
    METRICS_KEY,
    REGISTRY_KEY,
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


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[
            mw.request_id_middleware,
            metrics_middleware,
            mw.error_middleware,
            mw.version_middleware,
            mw.noauth_middleware,
        ],
        client_max_size=settings.max_archive_bytes * 2,
    )
    app[SETTINGS] = settings
    registry = CollectorRegistry()
    app[REGISTRY_KEY] = registry
    app[METRICS_KEY] = Metrics(registry)
    app.cleanup_ctx.append(_backend)
    add_routes(app)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/zunk8s/capabilities", capabilities)
    bridge.setup(app)
    return app
