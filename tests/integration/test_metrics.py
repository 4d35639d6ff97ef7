"""/metrics is scraped after a request and shows it, and the runtime gauges are there."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.zunapi import ZunAPI


async def scrape(zun: ZunAPI) -> dict[str, list[tuple[dict[str, str], float]]]:
    async with zun.client.get("/metrics") as r:
        assert r.status == 200
        text = await r.text()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lab, v in samples.get(name, []) if all(lab.get(k) == w for k, w in labels.items()))


async def test_metrics_show_the_request_just_made(zun: ZunAPI) -> None:
    route = {"method": "GET", "route": "/v1/containers", "status": "200", "version": "1.40"}
    before = value(await scrape(zun), "zunk8s_http_requests_total", **route)
    r = await zun.call("GET", "/v1/containers", project="proj-metrics")
    assert r.status == 200
    after = await scrape(zun)
    assert value(after, "zunk8s_http_requests_total", **route) == before + 1
    assert value(after, "zunk8s_http_request_seconds_count", method="GET", route="/v1/containers") >= 1
    # Kubernetes calls by verb and resource, with the time they took.
    assert value(after, "zunk8s_kube_requests_total", verb="GET", resource="version") >= 1
    assert value(after, "zunk8s_kube_request_seconds_total", verb="GET", resource="version") > 0
    # Runtime state: watch caches, tasks, websocket sessions, leadership.
    assert {lab["cache"] for lab, _ in after["zunk8s_watch_restarts_total"]} == {"records", "pods"}
    for name in ("zunk8s_tasks_in_flight", "zunk8s_websocket_sessions", "zunk8s_reconciler_leader"):
        assert name in after, name
    assert value(after, "zunk8s_reconciler_leader") in (0.0, 1.0)
