"""GET / and GET /v1: Zun's version discovery documents."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from zunk8s import microversions as mv
from zunk8s.appkeys import base_url

V1_RESOURCES = (
    "services", "containers", "images", "networks", "hosts", "capsules",
    "availability_zones", "quotas", "quota_classes", "registries",
)


def _version_entry(base: str) -> dict[str, Any]:
    return {
        "id": "v1",
        "links": [{"href": f"{base}/v1/", "rel": "self"}],
        "status": "CURRENT",
        "max_version": str(mv.MAX_VERSION),
        "min_version": str(mv.MIN_VERSION),
    }


async def root(request: web.Request) -> web.Response:
    base = base_url(request)
    return web.json_response(
        {
            "name": "OpenStack Zun API",
            "description": "Zun is an OpenStack project which aims to provide containers service.",
            "versions": [_version_entry(base)],
            "default_version": _version_entry(base),
        }
    )


async def v1(request: web.Request) -> web.Response:
    base = base_url(request)
    doc: dict[str, Any] = {
        "id": "v1",
        "media_types": [{"base": "application/json", "type": "application/vnd.openstack.zun.v1+json"}],
        "links": [
            {"href": f"{base}/v1/", "rel": "self"},
            {
                "href": "https://docs.openstack.org/developer/zun/dev/api-spec-v1.html",
                "rel": "describedby",
                "type": "text/html",
            },
        ],
    }
    for res in V1_RESOURCES:
        doc[res] = [{"href": f"{base}/v1/{res}/", "rel": "self"}, {"href": f"{base}/{res}/", "rel": "bookmark"}]
    return web.json_response(doc)
