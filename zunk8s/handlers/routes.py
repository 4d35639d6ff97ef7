"""URL table. Version-less paths are routed like /v1 ones, as Zun's RootController does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from zunk8s.errors import NotImplementedOnKubernetes
from zunk8s.handlers import (
    actions,
    capsules,
    container_actions,
    containers,
    hosts,
    images,
    neutron,
    quotas,
    registries,
    versions,
    zun_services,
)

# Zun v1 resources zunk8s does not serve yet, and why; each answers a Zun-shaped 501 (every
# method, every sub-path) rather than a bare "Not Found".
NOT_YET: dict[str, str] = {
    "networks": "zunk8s does not manage networks yet.",
}
_SEE_README = " See the README's mapping table."
# Zun's service actions (delete, enable, disable, force_down) change rows of its services
# table; zunk8s's services are its replicas, which come and go with their Pods.
_SERVICE_ACTIONS = (
    "zunk8s does not delete, enable, disable or force down services: they are its replicas, "
    "listed while they run; scale the zunk8s Deployment instead."
)


def _not_yet(why: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise NotImplementedOnKubernetes(why + _SEE_README)

    return handler


def add_routes(app: web.Application) -> None:
    neutron.add_routes(app)
    app.router.add_get("/", versions.root)
    app.router.add_get("/v1", versions.v1)
    app.router.add_get("/v1/", versions.v1)
    for prefix in ("/v1", ""):
        for collection in (f"{prefix}/containers", f"{prefix}/containers/"):
            app.router.add_get(collection, containers.list_containers)
            app.router.add_post(collection, containers.create)
        item = f"{prefix}/containers/{{ident}}"
        app.router.add_get(item, containers.show)
        app.router.add_delete(item, containers.delete)
        app.router.add_patch(item, containers.update)
        app.router.add_route("*", f"{item}/{{action}}", actions.dispatch)
        app.router.add_route("*", f"{item}/container_actions/{{request_id}}", container_actions.show_action)
        for collection in (f"{prefix}/hosts", f"{prefix}/hosts/"):
            app.router.add_get(collection, hosts.list_hosts)
        app.router.add_get(f"{prefix}/hosts/{{ident}}", hosts.show_host)
        service_actions = _not_yet(_SERVICE_ACTIONS)
        for collection in (f"{prefix}/services", f"{prefix}/services/"):
            app.router.add_get(collection, zun_services.list_services)
        app.router.add_route("*", f"{prefix}/services", service_actions)
        app.router.add_route("*", f"{prefix}/services/{{rest:.*}}", service_actions)
        quotas.add_routes(app, prefix)
        images.add_routes(app, prefix)
        registries.add_routes(app, prefix)
        capsules.add_routes(app, prefix)
        for resource, why in NOT_YET.items():
            handler = _not_yet(why)
            app.router.add_route("*", f"{prefix}/{resource}", handler)
            app.router.add_route("*", f"{prefix}/{resource}/{{rest:.*}}", handler)
