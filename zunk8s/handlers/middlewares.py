"""Request id, Zun's error envelope, microversion negotiation and noauth identity."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from zunk8s import microversions as mv
from zunk8s.appkeys import CALLER, REQUEST_ID, SETTINGS, VERSION
from zunk8s.envelope import error_response, zun_error_response
from zunk8s.errors import NotAcceptable
from zunk8s.service.context import Caller
from zunk8s.service.faults import public_error

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = {"/", "/v1", "/v1/"}


def _is_api_path(path: str) -> bool:
    return path.startswith("/v1") or path.startswith("/containers")


def _route(request: web.Request) -> str:
    """The matched route's template: no query string (websocket tokens travel there)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, and one log line per request (also for a failed or abandoned one), so a hung
    or failed request leaves a trace with its id, route, status and duration."""
    request_id = f"req-{uuid.uuid4()}"
    request[REQUEST_ID] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.monotonic()
    status: int | str = "cancelled"
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as e:
        status = e.status
        e.headers["x-openstack-request-id"] = request_id
        raise
    except BaseException as e:
        status = f"error:{type(e).__name__}"
        raise
    finally:
        log.info(
            "request",
            request_id=request_id,
            method=request.method,
            route=_route(request),
            path=request.path,
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        structlog.contextvars.unbind_contextvars("request_id", "project_id")
    if not response.prepared:
        response.headers["x-openstack-request-id"] = request_id
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        response = error_response(status=e.status, code="", title=e.reason, detail="")
        if "Allow" in e.headers:
            response.headers["Allow"] = e.headers["Allow"]
        return response
    except Exception as e:
        # Zun errors, and Kubernetes failures as the service maps them (service/faults.py).
        public = public_error(e)
        if public is not None:
            if public.status >= 500:
                log.warning("request_failed", error=repr(e), path=request.path)
            return zun_error_response(public)
        correlation = uuid.uuid4()
        log.exception("unhandled_error", path=request.path, correlation_id=str(correlation))
        return error_response(
            status=500,
            code="",
            title="Internal Server Error",
            detail=f"Your request could not be handled because of a problem in the server. "
            f"Error Correlation id is: {correlation}",
        )


@web.middleware
async def version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_api_path(request.path):
        return await handler(request)
    raw = request.headers.get(mv.HEADER)
    request[VERSION] = mv.parse_header(raw)  # NotAcceptable -> 406 without version headers
    try:
        response = await handler(request)
    except NotAcceptable:
        raise  # Zun's webob 406s lose the version headers
    except Exception as e:
        public = public_error(e)
        if public is None:
            raise
        if public.status >= 500:
            log.warning("request_failed", error=repr(e), path=request.path)
        response = zun_error_response(public)
    _add_version_headers(response, raw)
    return response


def _add_version_headers(response: web.StreamResponse, raw: str | None) -> None:
    if response.prepared:
        return
    response.headers["OpenStack-API-Minimum-Version"] = f"{mv.SERVICE} {mv.MIN_VERSION}"
    response.headers["OpenStack-API-Maximum-Version"] = f"{mv.SERVICE} {mv.MAX_VERSION}"
    response.headers["OpenStack-API-Version"] = f"{mv.SERVICE} {mv.raw_requested(raw)}"
    response.headers["Vary"] = mv.HEADER


@web.middleware
async def noauth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Zun's noauth pipeline: identity from X-Project-Id / X-User-Id / X-Roles headers."""
    if request.path not in PUBLIC_PATHS:
        auth = request.app[SETTINGS].auth
        roles_header = request.headers.get("X-Roles")
        roles = [r.strip() for r in roles_header.split(",")] if roles_header else list(auth.default_roles)
        caller = Caller(
            project_id=request.headers.get("X-Project-Id") or auth.default_project,
            user_id=request.headers.get("X-User-Id") or auth.default_user,
            roles=frozenset(r for r in roles if r),
            request_id=request[REQUEST_ID],
        )
        request[CALLER] = caller
        structlog.contextvars.bind_contextvars(project_id=caller.project_id)
    return await handler(request)
