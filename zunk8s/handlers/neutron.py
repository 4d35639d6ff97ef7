"""The Neutron-compatible subset zunk8s serves under /network (register it as the ``network``
service in Keystone's catalog, URL ``…/network``; openstacksdk appends ``/v2.0`` itself):
security groups and their rules, in the caller's project, and networks (the project's and the
shared ones; bodies checked in handlers/networkbody.py), and the containers' ports (read-only);
members (and admins) write, readers
read, as Neutron's default policy says. Neutron's paths, bodies, status
codes and error envelope (``{"NeutronError": {...}}``, rendered by the middlewares)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from aiohttp import web

from zunk8s.appkeys import CALLER, base_url, services_of
from zunk8s.errors import NeutronBadRequest
from zunk8s.errors import NeutronPolicyNotAuthorized as PolicyNotAuthorized
from zunk8s.handlers import networkbody
from zunk8s.handlers.params import json_body
from zunk8s.service.context import Caller

PREFIX = "/network"
API = f"{PREFIX}/v2.0"
# Query parameters that shape a list rather than filter it (Neutron's, and what openstacksdk sends).
_NOT_FILTERS = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"}
_GROUP_FIELDS = {"name", "description", "stateful", "project_id", "tenant_id"}
_RULE_FIELDS = {
    "security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
    "remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description", "project_id", "tenant_id",
}


def _may_write(request: web.Request, action: str) -> Caller:
    """Neutron's default policy for writes (2023.2 on): an admin, or a member of the project; a
    reader reads only."""
    caller = _caller(request)
    if not (caller.is_admin or "member" in caller.roles):
        raise PolicyNotAuthorized(action)
    return caller


def _caller(request: web.Request) -> Caller:
    caller: Caller = request[CALLER]
    return caller


def _filters(request: web.Request) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for key, value in request.query.items():
        if key not in _NOT_FILTERS:
            filters.setdefault(key, []).append(value)
    return filters


async def _resource(request: web.Request, key: str, allowed: AbstractSet[str]) -> dict[str, Any]:
    body = await json_body(request, required=True)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise NeutronBadRequest(f"Failed to parse request. Resource body required: an object under '{key}'.")
    fields: dict[str, Any] = body[key]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise NeutronBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    caller = _caller(request)
    for owner_key in ("project_id", "tenant_id"):
        if fields.get(owner_key) not in (None, caller.project_id):
            raise NeutronBadRequest(f"zunk8s makes {key.replace('_', ' ')}s in the caller's project only, not in {fields[owner_key]}.")
    return fields


def _text(fields: dict[str, Any], key: str, default: str) -> str:
    value = fields.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > 255:
        raise NeutronBadRequest(f"Invalid input for {key}. Reason: '{value}' is not a valid string of at most 255 characters.")
    return value


async def versions(request: web.Request) -> web.Response:
    """Neutron's version document (openstacksdk does not ask for it; other clients may)."""
    href = f"{base_url(request)}{API}/"
    return web.json_response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})


async def list_groups(request: web.Request) -> web.Response:
    groups = await services_of(request).secgroups.list_groups(_caller(request), filters=_filters(request))
    return web.json_response({"security_groups": groups})


async def create_group(request: web.Request) -> web.Response:
    fields = await _resource(request, "security_group", _GROUP_FIELDS)
    if fields.get("stateful") is False:
        raise NeutronBadRequest("zunk8s security groups are stateful (NetworkPolicies are): stateful=false is not supported.")
    name = _text(fields, "name", "")
    group = await services_of(request).secgroups.create_group(
        _may_write(request, "create_security_group"), name=name, description=_text(fields, "description", "")
    )
    return web.json_response({"security_group": group}, status=201)


async def show_group(request: web.Request) -> web.Response:
    group = await services_of(request).secgroups.show_group(_caller(request), request.match_info["ident"])
    return web.json_response({"security_group": group})


async def delete_group(request: web.Request) -> web.Response:
    await services_of(request).secgroups.delete_group(_may_write(request, "delete_security_group"), request.match_info["ident"])
    return web.Response(status=204)


async def list_rules(request: web.Request) -> web.Response:
    rules = await services_of(request).secgroups.list_rules(_caller(request), filters=_filters(request))
    return web.json_response({"security_group_rules": rules})


async def create_rule(request: web.Request) -> web.Response:
    fields = await _resource(request, "security_group_rule", _RULE_FIELDS)
    if not fields.get("security_group_id"):
        raise NeutronBadRequest("Failed to parse request. Required attribute 'security_group_id' not specified")
    if "direction" not in fields:
        raise NeutronBadRequest("Failed to parse request. Required attribute 'direction' not specified")
    rule = await services_of(request).secgroups.create_rule(_may_write(request, "create_security_group_rule"), fields)
    return web.json_response({"security_group_rule": rule}, status=201)


async def show_rule(request: web.Request) -> web.Response:
    rule = await services_of(request).secgroups.show_rule(_caller(request), request.match_info["ident"])
    return web.json_response({"security_group_rule": rule})


async def delete_rule(request: web.Request) -> web.Response:
    await services_of(request).secgroups.delete_rule(_may_write(request, "delete_security_group_rule"), request.match_info["ident"])
    return web.Response(status=204)


async def list_networks(request: web.Request) -> web.Response:
    networks = await services_of(request).networks.list_networks(_caller(request), filters=_filters(request))
    return web.json_response({"networks": networks})


async def create_network(request: web.Request) -> web.Response:
    new = networkbody.new_network(await _resource(request, "network", networkbody.KNOWN))
    network = await services_of(request).networks.create_network(
        _may_write(request, "create_network"), name=new.name, description=new.description, shared=new.shared
    )
    return web.json_response({"network": network}, status=201)


async def show_network(request: web.Request) -> web.Response:
    network = await services_of(request).networks.show_network(_caller(request), request.match_info["ident"])
    return web.json_response({"network": network})


async def update_network(request: web.Request) -> web.Response:
    changes = networkbody.network_changes(await _resource(request, "network", networkbody.KNOWN))
    network = await services_of(request).networks.update_network(
        _may_write(request, "update_network"), request.match_info["ident"], changes
    )
    return web.json_response({"network": network})


async def delete_network(request: web.Request) -> web.Response:
    await services_of(request).networks.delete_network(_may_write(request, "delete_network"), request.match_info["ident"])
    return web.Response(status=204)


async def list_ports(request: web.Request) -> web.Response:
    ports = services_of(request).attachments.list_ports(_caller(request), filters=_filters(request))
    return web.json_response({"ports": ports})


async def show_port(request: web.Request) -> web.Response:
    port = services_of(request).attachments.show_port(_caller(request), request.match_info["ident"])
    return web.json_response({"port": port})


def add_routes(app: web.Application) -> None:
    for root in (PREFIX, f"{PREFIX}/"):
        app.router.add_get(root, versions)
    for name, lister, creator, shower, deleter in (
        ("security-groups", list_groups, create_group, show_group, delete_group),
        ("security-group-rules", list_rules, create_rule, show_rule, delete_rule),
        ("networks", list_networks, create_network, show_network, delete_network),
    ):
        app.router.add_get(f"{API}/{name}", lister)
        app.router.add_post(f"{API}/{name}", creator)
        app.router.add_get(f"{API}/{name}/{{ident}}", shower)
        app.router.add_delete(f"{API}/{name}/{{ident}}", deleter)
    app.router.add_put(f"{API}/networks/{{ident}}", update_network)
    # Ports are the containers' own (one per container and network): read-only.
    app.router.add_get(f"{API}/ports", list_ports)
    app.router.add_get(f"{API}/ports/{{ident}}", show_port)
