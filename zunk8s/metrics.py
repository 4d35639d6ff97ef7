"""Prometheus metrics: request counts and latency by route, served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

REGISTRY_KEY = web.AppKey("metrics_registry", CollectorRegistry)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "zunk8s_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "zunk8s_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )


METRICS_KEY = web.AppKey("metrics", Metrics)


class KubeRequests(Collector):
    """zunk8s_kube_requests_total{verb, resource}: the requests zunk8s sent to the Kubernetes
    API, read from the gateway's own tally at scrape time."""

    def __init__(self, counts: Callable[[], Mapping[tuple[str, str], int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "zunk8s_kube_requests", "Requests sent to the Kubernetes API", labels=["verb", "resource"]
        )
        for (verb, resource), n in sorted(self._counts().items()):
            family.add_metric([verb, resource], n)
        yield family


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as e:
        status = e.status
        raise
    finally:
        m = request.app[METRICS_KEY]
        route = _route(request)
        m.requests.labels(request.method, route, str(status)).inc()
        m.latency.labels(request.method, route).observe(time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
