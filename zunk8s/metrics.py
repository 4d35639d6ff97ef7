"""Prometheus metrics, served at /metrics: HTTP requests by route, status and microversion with
latency; Kubernetes requests by verb and resource with the time they took; the watch caches'
restarts and lag; background tasks in flight; open websocket sessions; whether this replica
leads the reconciler."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from zunk8s.appkeys import VERSION

REGISTRY_KEY = web.AppKey("metrics_registry", CollectorRegistry)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "zunk8s_http_requests", "HTTP requests", ["method", "route", "status", "version"], registry=registry
        )
        self.latency = Histogram(
            "zunk8s_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )


METRICS_KEY = web.AppKey("metrics", Metrics)


class KubeRequests(Collector):
    """zunk8s_kube_requests_total{verb, resource}: the requests zunk8s sent to the Kubernetes
    API, and zunk8s_kube_request_seconds_total: the time they took (divide for the mean), read
    from the gateway's own tallies at scrape time."""

    def __init__(
        self,
        counts: Callable[[], Mapping[tuple[str, str], int]],
        seconds: Callable[[], Mapping[tuple[str, str], float]],
    ) -> None:
        self._counts = counts
        self._seconds = seconds

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "zunk8s_kube_requests", "Requests sent to the Kubernetes API", labels=["verb", "resource"]
        )
        for (verb, resource), n in sorted(self._counts().items()):
            family.add_metric([verb, resource], n)
        yield family
        spent = CounterMetricFamily(
            "zunk8s_kube_request_seconds", "Seconds spent in Kubernetes API requests", labels=["verb", "resource"]
        )
        for (verb, resource), s in sorted(self._seconds().items()):
            spent.add_metric([verb, resource], s)
        yield spent


@dataclass(frozen=True)
class RuntimeSources:
    """Where the runtime gauges read from, at scrape time."""

    tasks_in_flight: Callable[[], int]
    websocket_sessions: Callable[[], int]
    leader: Callable[[], bool]
    watches: Callable[[], Mapping[str, tuple[int, float | None]]]


class RuntimeState(Collector):
    def __init__(self, sources: RuntimeSources) -> None:
        self._s = sources

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield GaugeMetricFamily(
            "zunk8s_tasks_in_flight", "Background tasks running (actions' work, reconciles)",
            value=self._s.tasks_in_flight(),
        )
        yield GaugeMetricFamily(
            "zunk8s_websocket_sessions", "Open attach / exec websocket sessions", value=self._s.websocket_sessions()
        )
        yield GaugeMetricFamily(
            "zunk8s_reconciler_leader", "1 while this replica leads the reconciler", value=int(self._s.leader())
        )
        restarts = CounterMetricFamily("zunk8s_watch_restarts", "Watch restarts per cache", labels=["cache"])
        lag = GaugeMetricFamily(
            "zunk8s_watch_seconds_since_event", "Seconds since the watch's last event or bookmark", labels=["cache"]
        )
        for name, (n, since) in sorted(self._s.watches().items()):
            restarts.add_metric([name], n)
            if since is not None:
                lag.add_metric([name], since)
        yield restarts
        yield lag


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
        version = request.get(VERSION)
        m.requests.labels(request.method, route, str(status), str(version) if version else "").inc()
        m.latency.labels(request.method, route).observe(time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
