"""/v1/capsules as Zun serves them: 1.32+ views with ``name``, ``labels`` and a restart policy
object, older ones with Zun's legacy fields; create 202, delete 204, no other verb."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from zunk8s.appkeys import POLICY, authorize, base_url, caller_of, services_of, version_of
from zunk8s.clock import now_utc
from zunk8s.handlers.containers import hidden_keys
from zunk8s.handlers.params import json_body, next_link, query_dict
from zunk8s.microversions import APIVersion
from zunk8s.schemas.capsules import check_body
from zunk8s.schemas.params import parse_bool
from zunk8s.schemas.queries import parse_limit, parse_sort_dir
from zunk8s.schemas.views import container_view
from zunk8s.translate import capsules as C

Obj = dict[str, Any]


def capsule_views(request: web.Request, found: list[tuple[Obj, C.CapsuleRecord]]) -> list[Obj]:
    """Zun's views of capsules; what the caller may see is decided once for all of them."""
    now, hidden, base = now_utc(), hidden_keys(request), base_url(request)
    legacy = version_of(request) < APIVersion(1, 32)
    show_host = request.app[POLICY].allowed("capsule:get:host", caller_of(request), might_not_exist=True)

    def view(pod: Obj, record: C.CapsuleRecord) -> Obj:
        def one(container: Any, init: bool) -> Obj:
            status = C.container_status(pod, record.kube_names[container.uuid], init=init)
            return container_view(container, status, now=now, base_url=None, hidden=hidden)

        return C.view(pod, record, base_url=base, legacy=legacy, show_host=show_host,
                      containers=[one(c, False) for c in record.containers],
                      init_containers=[one(c, True) for c in record.init_containers])

    return [view(pod, record) for pod, record in found]


async def list_capsules(request: web.Request) -> web.Response:
    params = query_dict(request)  # other parameters are ignored, as in Zun
    authorize(request, "capsule:get_all")
    # Zun defines capsule:get_all_all_projects but never checks it: all_projects is an admin's.
    all_projects = parse_bool("all_projects", params.get("all_projects"), extended=True, default=False)
    limit, sort_dir = parse_limit(params), parse_sort_dir(params)
    sort_key = params.get("sort_key") or "id"
    found = await services_of(request).capsules.page(caller_of(request), all_projects=all_projects, sort_key=sort_key,
                                                     sort_dir=sort_dir, marker=params.get("marker") or None,
                                                     limit=limit)
    views = capsule_views(request, found)
    next_url = next_link(request, "capsules", sort_key=sort_key, sort_dir=sort_dir, limit=limit, count=len(views),
                         last=views[-1]["uuid"] if views else None)
    return web.json_response({"capsules": views, "next": next_url})


async def show_capsule(request: web.Request) -> web.Response:
    pod, record = await services_of(request).capsules.get(caller_of(request), request.match_info["ident"])
    authorize(request, "capsule:get", project_id=record.project_id)
    return web.json_response(capsule_views(request, [(pod, record)])[0])


async def create_capsule(request: web.Request) -> web.Response:
    template = check_body(await json_body(request, required=True))
    authorize(request, "capsule:create")
    if any(c.image_pull_policy for c in (*template.containers, *template.init_containers)):
        # Zun drops the field silently for callers this rule refuses; zunk8s says so.
        authorize(request, "container:create:image_pull_policy")
    pod, record = await services_of(request).capsules.create(caller_of(request), template)
    (view,) = capsule_views(request, [(pod, record)])
    return web.json_response(view, status=202, headers={"Location": f"{base_url(request)}/v1/capsules/{record.uuid}"})


async def delete_capsule(request: web.Request) -> web.Response:
    params = query_dict(request)
    if parse_bool("all_projects", params.get("all_projects"), extended=True, default=False):
        authorize(request, "capsule:delete_all_projects")
    capsules = services_of(request).capsules
    pod, record = await capsules.get(caller_of(request), request.match_info["ident"])
    authorize(request, "capsule:delete", project_id=record.project_id)
    await capsules.delete(pod)
    return web.Response(status=204)


def add_routes(app: web.Application, prefix: str) -> None:
    for collection in (f"{prefix}/capsules", f"{prefix}/capsules/"):
        app.router.add_get(collection, list_capsules)
        app.router.add_post(collection, create_capsule)
    for item in (f"{prefix}/capsules/{{ident}}", f"{prefix}/capsules/{{ident}}/"):
        app.router.add_get(item, show_capsule)
        app.router.add_delete(item, delete_capsule)
