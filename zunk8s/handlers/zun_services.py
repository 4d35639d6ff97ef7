"""GET /v1/services (admin): this installation's replicas as Zun's zun-api and zun-compute
services (service/replicas.py)."""

from __future__ import annotations

from aiohttp import web

from zunk8s.appkeys import authorize, services_of


async def list_services(request: web.Request) -> web.Response:
    # Zun's ZunServiceController.get_all takes no paging and ignores its query; no "next".
    authorize(request, "zun-service:get_all")
    return web.json_response({"services": await services_of(request).replicas.views()})
