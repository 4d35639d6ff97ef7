"""/v1/quotas/{project_id}[/defaults], /v1/quota_classes/{name} and /v1/availability_zones, as
Zun serves them (no microversion gate in Zun for any of them)."""

from __future__ import annotations

from aiohttp import web

from zunk8s.appkeys import authorize, services_of
from zunk8s.handlers.params import json_body, query_dict
from zunk8s.schemas.params import reject_unknown


def _project(request: web.Request) -> str:
    return request.match_info["project_id"]


async def get_quota(request: web.Request) -> web.Response:
    params = query_dict(request)
    project_id = _project(request)
    authorize(request, "quota:get", project_id=project_id)
    # Zun reads ``usages`` as a string: any non-empty value asks for them ("false" too).
    usages = bool(params.get("usages"))
    return web.json_response(await services_of(request).quotas.get(project_id, usages=usages))


async def get_defaults(request: web.Request) -> web.Response:
    authorize(request, "quota:get_default", project_id=_project(request))
    return web.json_response(await services_of(request).quotas.defaults())


async def update_quota(request: web.Request) -> web.Response:
    project_id = _project(request)
    body = await json_body(request, required=True)
    reject_unknown(query_dict(request), set())
    authorize(request, "quota:update", project_id=project_id)
    return web.json_response(await services_of(request).quotas.update(project_id, body))


async def delete_quota(request: web.Request) -> web.Response:
    project_id = _project(request)
    authorize(request, "quota:delete", project_id=project_id)
    await services_of(request).quotas.delete(project_id)
    return web.json_response(None)  # Zun's handler returns nothing: pecan answers 200 null


async def get_class(request: web.Request) -> web.Response:
    authorize(request, "quota_class:get")
    return web.json_response(await services_of(request).quotas.get_class(request.match_info["name"]))


async def update_class(request: web.Request) -> web.Response:
    body = await json_body(request, required=True)
    reject_unknown(query_dict(request), set())
    authorize(request, "quota_class:update")
    return web.json_response(await services_of(request).quotas.update_class(request.match_info["name"], body))


async def list_zones(request: web.Request) -> web.Response:
    authorize(request, "availability_zones:get_all")
    zones = await services_of(request).hosts.zones()
    return web.json_response({"availability_zones": [{"availability_zone": z} for z in zones], "next": None})


def add_routes(app: web.Application, prefix: str) -> None:
    for base in (f"{prefix}/quotas/{{project_id}}", f"{prefix}/quotas/{{project_id}}/"):
        app.router.add_get(base, get_quota)
        app.router.add_put(base, update_quota)
        app.router.add_delete(base, delete_quota)
    app.router.add_get(f"{prefix}/quotas/{{project_id}}/defaults", get_defaults)
    for base in (f"{prefix}/quota_classes/{{name}}", f"{prefix}/quota_classes/{{name}}/"):
        app.router.add_get(base, get_class)
        app.router.add_put(base, update_class)
    for base in (f"{prefix}/availability_zones", f"{prefix}/availability_zones/"):
        app.router.add_get(base, list_zones)
