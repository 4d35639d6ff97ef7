"""GET /v1/containers/{ident}/container_actions[/{request_id}]: Zun's action log of a container
(what is recorded, and where: translate/actionlog.py, service/actionlog.py).

As Zun's ContainersActionsController: ``container:actions`` is checked on the caller's own
project before the container is looked up (the list goes through the ACTIONS table, with
``rule_first``), tracebacks show only where ``container:action:events`` passes, and a request
id the container never saw is a 404 "The Action resource <id> could not be found."
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from zunk8s.appkeys import POLICY, authorize, caller_of, services_of
from zunk8s.service.registry import Entry

RULE = "container:actions"
EVENTS_RULE = "container:action:events"


async def list_actions(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    # Zun's get_all takes (and ignores) any query parameters.
    return web.json_response({"containerActions": services_of(request).actions.list(entry)})


async def show_action(request: web.Request) -> web.Response:
    if request.method != "GET":
        raise web.HTTPMethodNotAllowed(request.method, ["GET"])
    authorize(request, RULE)
    services, caller = services_of(request), caller_of(request)
    entry = await services.registry.find(caller, request.match_info["ident"])
    show_traceback = request.app[POLICY].allowed(EVENTS_RULE, caller)
    action = await services.actions.show(entry, request.match_info["request_id"], show_traceback=show_traceback)
    return web.json_response(action)
