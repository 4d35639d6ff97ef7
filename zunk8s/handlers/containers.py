"""/v1/containers: create, list, show, update, delete."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from zunk8s.appkeys import POLICY, authorize, base_url, caller_of, services_of, version_of
from zunk8s.clock import now_utc
from zunk8s.errors import InvalidParamInVersion, PolicyNotAuthorized
from zunk8s.handlers.params import json_body, next_link, query_dict
from zunk8s.microversions import at_least
from zunk8s.schemas.containers import validate_create, validate_update
from zunk8s.schemas.params import parse_bool, reject_unknown, reject_unknown_list_params
from zunk8s.schemas.queries import FILTERS, parse_list_query
from zunk8s.schemas.views import VIEW_KEYS, container_view
from zunk8s.service.creating import create_sub_policies
from zunk8s.service.listing import page
from zunk8s.service.registry import Entry


def hidden_keys(request: web.Request) -> frozenset[str]:
    """The view keys policy hides from this caller (Zun checks ``container:get_one:<key>``
    against the caller's own project, so the answer holds for the whole request)."""
    policy, caller = request.app[POLICY], caller_of(request)
    return frozenset(
        k for k in VIEW_KEYS if not policy.allowed(f"container:get_one:{k}", caller, might_not_exist=True)
    )


def entry_view(request: web.Request, entry: Entry, *, links: bool) -> dict[str, Any]:
    return container_view(
        entry.record,
        entry.status,
        now=now_utc(),
        base_url=base_url(request) if links else None,
        hidden=hidden_keys(request),
    )


async def create(request: web.Request) -> web.Response:
    params = query_dict(request)
    reject_unknown(params, {"run"})
    spec = validate_create(await json_body(request, required=True), version_of(request))
    authorize(request, "container:create")
    for rule in create_sub_policies(spec):
        authorize(request, rule)
    run = parse_bool("run", params.get("run"), extended=True, default=False)
    entry = await services_of(request).creation.create(caller_of(request), spec, run=run)
    view = entry_view(request, entry, links=True)
    return web.json_response(view, status=202, headers={"Location": f"{base_url(request)}/v1/containers/{entry.uuid}"})


async def list_containers(request: web.Request) -> web.Response:
    params = query_dict(request)
    allowed = {"limit", "marker", "sort_key", "sort_dir", "all_projects", *FILTERS}
    reject_unknown_list_params(params, allowed)
    caller = caller_of(request)
    authorize(request, "container:get_all")
    all_projects = parse_bool("all_projects", params.get("all_projects"), extended=True, default=False)
    if all_projects:
        authorize(request, "container:get_all_all_projects")
    query = parse_list_query(params)
    hidden = hidden_keys(request)
    # Zun: filtering by a key needs the right to see it (host: admins only by default).
    for key in query.filters:
        if key in hidden:
            raise PolicyNotAuthorized(f"container:get_one:{key}")
    selected = page(services_of(request).registry.visible(caller, all_projects=all_projects), query)
    now = now_utc()
    views = [container_view(e.record, e.status, now=now, base_url=None, hidden=hidden) for e in selected]
    next_url = next_link(request, "containers", sort_key=query.sort_key, sort_dir=query.sort_dir, limit=query.limit,
                         count=len(selected), last=selected[-1].uuid if selected else None)
    return web.json_response({"containers": views, "next": next_url})


async def show(request: web.Request) -> web.Response:
    params = query_dict(request)
    all_projects = parse_bool("all_projects", params.get("all_projects"), extended=True, default=False)
    if all_projects:
        authorize(request, "container:get_one_all_projects")
    registry = services_of(request).registry
    entry = await registry.find(caller_of(request), request.match_info["ident"])
    authorize(request, "container:get_one", entry.record)
    return web.json_response(entry_view(request, entry, links=True))


async def delete(request: web.Request) -> web.Response:
    params = query_dict(request)
    reject_unknown(params, {"force", "stop", "all_projects"})
    version = version_of(request)
    for name, since in (("force", (1, 7)), ("stop", (1, 12))):
        if name in params and not at_least(version, since):
            raise InvalidParamInVersion(
                f"Invalid param {name} because current request version is {version}. "
                f"{name} is only supported from version {since[0]}.{since[1]}"
            )
    force = parse_bool("force", params.get("force"), extended=True, default=False)
    stop = parse_bool("stop", params.get("stop"), extended=True, default=False)
    all_projects = parse_bool("all_projects", params.get("all_projects"), extended=True, default=False)
    caller = caller_of(request)
    if all_projects:
        authorize(request, "container:delete_all_projects")
    services = services_of(request)
    entry = await services.registry.find(caller, request.match_info["ident"])
    authorize(request, "container:delete", entry.record)
    if stop:
        authorize(request, "container:stop", entry.record)  # Zun: delete --stop stops it first
    elif force:
        authorize(request, "container:delete_force", entry.record)
    await services.deletion.delete(caller, entry, force=force, stop=stop)
    return web.Response(status=204)


async def update(request: web.Request) -> web.Response:
    changes = validate_update(await json_body(request, required=True))
    services = services_of(request)
    caller = caller_of(request)
    entry = await services.registry.find(caller, request.match_info["ident"])
    authorize(request, "container:update", entry.record)
    entry = await services.updates.update(caller, entry, changes)
    return web.json_response(entry_view(request, entry, links=True))
