"""URL table. Version-less paths are routed like /v1 ones, as Zun's RootController does."""

from __future__ import annotations

from aiohttp import web

from zunk8s.handlers import actions, containers, versions


def add_routes(app: web.Application) -> None:
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
