"""Zun's error envelope, as every error answer carries it (HTTP handlers and the websocket
endpoint alike)."""

from __future__ import annotations

from aiohttp import web

from zunk8s.errors import ZunError


def error_response(*, status: int, code: str, title: str, detail: str) -> web.Response:
    body = {
        "errors": [
            {
                # Zun's ParsableErrorMiddleware always leaves request_id empty; the real id is
                # in the x-openstack-request-id header.
                "request_id": "",
                "code": f"container.{code}",
                "status": status,
                "title": title,
                "detail": detail,
                "links": [],
            }
        ]
    }
    return web.json_response(body, status=status)


def zun_error_response(e: ZunError) -> web.Response:
    return error_response(status=e.status, code=e.code, title=e.title or e.detail, detail=e.detail)


def neutron_error_response(e: ZunError) -> web.Response:
    """Neutron's envelope (its api_common.get_exception_data), for the /network API: clients
    (openstacksdk) show ``message``; ``type`` is the exception's class name, as in Neutron."""
    return neutron_error(status=e.status, kind=e.neutron_type or type(e).__name__, message=e.detail)


def neutron_error(*, status: int, kind: str, message: str) -> web.Response:
    body = {"NeutronError": {"type": kind, "message": message, "detail": ""}}
    return web.json_response(body, status=status)
