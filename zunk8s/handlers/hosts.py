"""/v1/hosts (1.4, admin): the Kubernetes Nodes zunk8s places containers on, as Zun's hosts."""

from __future__ import annotations

from aiohttp import web

from zunk8s.appkeys import authorize, base_url, services_of, version_of
from zunk8s.handlers.params import next_link, query_dict
from zunk8s.microversions import APIVersion, not_in_version
from zunk8s.schemas.queries import parse_host_query
from zunk8s.translate.hosts import with_links

# Zun's HostController: @api_version("1.4"), checked before the policy.
SINCE = APIVersion(1, 4)


def _check_version(request: web.Request) -> None:
    if version_of(request) < SINCE:
        raise not_in_version(version_of(request))


async def list_hosts(request: web.Request) -> web.Response:
    _check_version(request)
    authorize(request, "host:get_all")
    query = parse_host_query(query_dict(request))
    selected = await services_of(request).hosts.page(query)
    base = base_url(request)
    next_url = next_link(request, "hosts", sort_key=query.sort_key, sort_dir=query.sort_dir, limit=query.limit,
                         count=len(selected), last=selected[-1]["uuid"] if selected else None)
    return web.json_response({"hosts": [with_links(h, base) for h in selected], "next": next_url})


async def show_host(request: web.Request) -> web.Response:
    _check_version(request)
    authorize(request, "host:get")
    host = await services_of(request).hosts.get(request.match_info["ident"])
    return web.json_response(with_links(host, base_url(request)))
