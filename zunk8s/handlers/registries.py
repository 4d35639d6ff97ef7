"""/v1/registries as Zun serves them (no microversion gate on the routes in Zun; 1.31 gates only
create's ``registry`` field)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from zunk8s.appkeys import authorize, base_url, caller_of, services_of
from zunk8s.errors import SchemaValidationError
from zunk8s.handlers.params import json_body, next_link, query_dict
from zunk8s.schemas.params import parse_bool, reject_unknown_list_params
from zunk8s.schemas.queries import parse_limit, parse_sort_dir
from zunk8s.translate import pullsecrets as P


def _fields(body: Any, *, create: bool) -> dict[str, str]:
    try:
        return P.check_body(body, create=create)
    except P.BadRegistry as e:
        raise SchemaValidationError(str(e)) from None


def _one(request: web.Request, found: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response({"registry": P.view(found, base_url(request))}, status=status)


async def list_registries(request: web.Request) -> web.Response:
    params = query_dict(request)
    reject_unknown_list_params(params, {"all_projects", "limit", "marker", "sort_key", "sort_dir", *P.FILTERS})
    authorize(request, "registry:get_all")
    all_projects = parse_bool("all_projects", params.get("all_projects"), extended=True, default=False)
    if all_projects:
        authorize(request, "registry:get_all_all_projects")
    limit, sort_dir = parse_limit(params), parse_sort_dir(params)
    sort_key = params.get("sort_key") or "id"
    found = await services_of(request).registries.page(
        caller_of(request), all_projects=all_projects, filters={k: params[k] for k in P.FILTERS if k in params},
        sort_key=sort_key, sort_dir=sort_dir, marker=params.get("marker") or None, limit=limit)
    base = base_url(request)
    views = [P.view(o, base) for o in found]
    next_url = next_link(request, "registries", sort_key=sort_key, sort_dir=sort_dir, limit=limit, count=len(views),
                         last=views[-1]["uuid"] if views else None)
    return web.json_response({"registries": views, "next": next_url})


async def show_registry(request: web.Request) -> web.Response:
    found = await services_of(request).registries.get(caller_of(request), request.match_info["ident"])
    authorize(request, "registry:get_one", project_id=str(P.row(found)["project_id"]))
    return _one(request, found)


async def create_registry(request: web.Request) -> web.Response:
    fields = _fields(await json_body(request, required=True), create=True)
    authorize(request, "registry:create")
    made = await services_of(request).registries.create(caller_of(request), fields)
    uuid = P.row(made)["uuid"]
    response = _one(request, made, status=201)
    response.headers["Location"] = f"{base_url(request)}/v1/registries/{uuid}"
    return response


async def update_registry(request: web.Request) -> web.Response:
    changes = _fields(await json_body(request, required=True), create=False)
    registries = services_of(request).registries
    found = await registries.get(caller_of(request), request.match_info["ident"])
    authorize(request, "registry:update", project_id=str(P.row(found)["project_id"]))
    return _one(request, await registries.update(found, changes))


async def delete_registry(request: web.Request) -> web.Response:
    registries = services_of(request).registries
    found = await registries.get(caller_of(request), request.match_info["ident"])
    authorize(request, "registry:delete", project_id=str(P.row(found)["project_id"]))
    await registries.delete(found)
    return web.Response(status=204)


def add_routes(app: web.Application, prefix: str) -> None:
    for collection in (f"{prefix}/registries", f"{prefix}/registries/"):
        app.router.add_get(collection, list_registries)
        app.router.add_post(collection, create_registry)
    for item in (f"{prefix}/registries/{{ident}}", f"{prefix}/registries/{{ident}}/"):
        app.router.add_get(item, show_registry)
        app.router.add_patch(item, update_registry)
        app.router.add_delete(item, delete_registry)
