"""Application factory: wires settings, the Kubernetes gateway, the state store, the
container service, background loops, middlewares and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from zunk8s.appkeys import AUTHENTICATOR, POLICY, SERVICES, SETTINGS, services_of
from zunk8s.errors import BackendUnavailable
from zunk8s.handlers import middlewares as mw
from zunk8s.handlers.params import archive_body_limit
from zunk8s.handlers.routes import add_routes
from zunk8s.identity.modes import make_authenticator
from zunk8s.kube.gateway import KubeGateway
from zunk8s.metrics import (
    METRICS_KEY,
    REGISTRY_KEY,
    KubeRequests,
    Metrics,
    RuntimeSources,
    RuntimeState,
    metrics_handler,
    metrics_middleware,
)
from zunk8s.policy.enforcer import PolicyEnforcer
from zunk8s.service.services import Services, build_services
from zunk8s.service.tasks import TaskRunner
from zunk8s.settings import Settings
from zunk8s.state.protocol import StateStore
from zunk8s.state.store import make_store
from zunk8s.wsproxy import bridge

log = structlog.get_logger(__name__)


async def _backend(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    gateway = await KubeGateway.connect(settings.kube)
    store = make_store(settings.redis_url)
    tasks = TaskRunner()
    authenticator = make_authenticator(settings.auth)
    app[AUTHENTICATOR] = authenticator
    if authenticator.mode == "noauth":
        log.warning(
            "noauth_mode",
            detail="identity comes from X-Project-Id / X-User-Id / X-Roles headers: development only",
            host=settings.host,
        )
    loops: list[asyncio.Task[None]] = []
    services: Services | None = None
    try:
        await _wait_for_store(store)
        capabilities = await gateway.discover()
        await gateway.ensure_crd(create=settings.kube.manage_crd)
        app[REGISTRY_KEY].register(KubeRequests(gateway.request_counts, gateway.request_seconds))
        services = build_services(gateway=gateway, store=store, settings=settings, tasks=tasks)
        reconciler = services.reconciler
        app[REGISTRY_KEY].register(
            RuntimeState(
                RuntimeSources(
                    tasks_in_flight=lambda: tasks.active,
                    websocket_sessions=lambda: len(app[bridge.STREAMS]),
                    leader=lambda: reconciler.leader,
                    watches=gateway.watch_stats,
                )
            )
        )
        loops = [asyncio.create_task(_run(coro), name=name) for name, coro in gateway.informer_loops().items()]
        loops.append(asyncio.create_task(_run(services.reconcile_forever()), name="reconciler"))
        # Serve only once the caches hold the cluster's truth.
        await asyncio.wait_for(gateway.wait_synced(), 60)
        # Listed among the services from the moment it serves.
        await services.replicas.beat()
        loops.append(asyncio.create_task(_run(services.replicas.beat_forever()), name="heartbeat"))
        app[SERVICES] = services
        log.info("zunk8s_ready", kubernetes=capabilities.kubernetes_version, store=services.health.capabilities()["state_store"])
        yield
    finally:
        if services is not None:
            services.closing()
        await tasks.drain(timeout=5)
        await tasks.close()
        for loop in loops:
            loop.cancel()
        if loops:
            # Bounded: a loop stuck in a client library must not hold shutdown forever.
            _, stuck = await asyncio.wait(loops, timeout=5)
            for loop in stuck:
                log.warning("background_loop_did_not_stop", task=loop.get_name())
        if services is not None:
            # After the heartbeat stopped, so none is written after this.
            await services.replicas.leave()
        await store.close()
        await gateway.close()
        await authenticator.close()


# Redis may start after zunk8s (a Helm install starts both at once): wait for it this long,
# rather than exit and be restarted with a growing back-off.
STORE_START_WAIT = 60.0


async def _wait_for_store(store: StateStore) -> None:
    deadline = asyncio.get_running_loop().time() + STORE_START_WAIT
    while True:
        try:
            await store.ping()
            return
        except BackendUnavailable as e:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("waiting_for_state_store", detail=e.detail)
            await asyncio.sleep(1.0)


async def _run(awaitable: Awaitable[None]) -> None:
    await awaitable


async def capabilities(request: web.Request) -> web.Response:
    return web.json_response(services_of(request).health.capabilities())


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 while the process serves; the body says how the dependencies are."""
    checks = await services_of(request).health.dependencies()
    return web.json_response({"status": "ok", "checks": checks})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 503 naming what is down while Redis or the Kubernetes API is unreachable."""
    checks = await services_of(request).health.dependencies()
    down = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if down else "ok", "down": down, "checks": checks}
    return web.json_response(body, status=503 if down else 200)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[
            mw.request_id_middleware,
            metrics_middleware,
            mw.error_middleware,
            # Before microversions, as keystonemiddleware runs before Zun's app: a request
            # without a valid token is a 401 whatever version it asks for.
            mw.auth_middleware,
            mw.version_middleware,
        ],
        # A backstop only: handlers read bodies through handlers.params.read_body, capped per
        # endpoint; nothing may read more than put_archive's cap.
        client_max_size=archive_body_limit(settings.max_archive_bytes),
    )
    app[SETTINGS] = settings
    # A bad policy file stops zunk8s here, before it serves anything.
    app[POLICY] = PolicyEnforcer(settings.policy_file)
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
