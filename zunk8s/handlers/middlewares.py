"""Request id, Zun's error envelope, microversion negotiation and the caller's identity."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from zunk8s import microversions as mv
from zunk8s.appkeys import AUTHENTICATOR, CALLER, POLICY, REQUEST_ID, VERSION
from zunk8s.envelope import error_response, neutron_error, neutron_error_response, zun_error_response
from zunk8s.errors import NotAcceptable, ZunError
from zunk8s.identity.base import Unauthenticated
from zunk8s.service.context import Caller
from zunk8s.service.faults import public_error

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = {"/", "/v1", "/v1/"}


# The version-less paths routed like /v1 ones that serve something (routes.py): identity,
# microversion and the error envelope apply to them as to /v1.
_VERSIONLESS_API = ("/containers", "/hosts", "/services")


def _is_api_path(path: str) -> bool:
    return path.startswith("/v1") or path.startswith(_VERSIONLESS_API)


def _is_network_path(path: str) -> bool:
    """The Neutron-compatible API (handlers/neutron.py): Neutron's envelope, no microversions."""
    return path == "/network" or path.startswith("/network/")


def _envelope(request: web.Request, e: ZunError) -> web.Response:
    return neutron_error_response(e) if _is_network_path(request.path) else zun_error_response(e)


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
        if _is_network_path(request.path):
            response = neutron_error(status=e.status, kind=type(e).__name__, message=e.reason)
        else:
            response = error_response(status=e.status, code="", title=e.reason, detail="")
        if "Allow" in e.headers:
            response.headers["Allow"] = e.headers["Allow"]
        return response
    except Exception as e:
        public = _public_response(request, e)
        if public is not None:
            return public
        correlation = uuid.uuid4()
        log.exception("unhandled_error", path=request.path, correlation_id=str(correlation))
        detail = (
            f"Your request could not be handled because of a problem in the server. "
            f"Error Correlation id is: {correlation}"
        )
        if _is_network_path(request.path):
            return neutron_error(status=500, kind="HTTPInternalServerError", message=detail)
        return error_response(status=500, code="", title="Internal Server Error", detail=detail)


def _public_response(request: web.Request, e: Exception) -> web.Response | None:
    """Zun's answer to a Zun error, or to a Kubernetes failure as the service maps it
    (service/faults.py); None for anything else (a bug: 500)."""
    public = public_error(e)
    if public is None:
        return None
    if public.status >= 500:
        log.warning("request_failed", error=repr(e), path=request.path)
    return _envelope(request, public)


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
        public = _public_response(request, e)
        if public is None:
            raise
        response = public
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
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is calling (identity/): a Keystone or static token, or the noauth headers. Version
    discovery (``/``, ``/v1``) is open, as in Zun; so are the health probes, /metrics and the
    websocket endpoint (its single-use token is its credential)."""
    if _needs_identity(request.path):
        try:
            identity = await request.app[AUTHENTICATOR].authenticate(request.headers)
        except Unauthenticated as e:
            response = _envelope(request, e)
            if e.www_authenticate:
                response.headers["WWW-Authenticate"] = e.www_authenticate
            return response
        caller = Caller(
            project_id=identity.project_id,
            user_id=identity.user_id,
            roles=identity.roles,
            request_id=request[REQUEST_ID],
            is_admin=request.app[POLICY].is_admin(identity),
        )
        request[CALLER] = caller
        structlog.contextvars.bind_contextvars(project_id=caller.project_id)
    return await handler(request)


def _needs_identity(path: str) -> bool:
    return path not in PUBLIC_PATHS and (
        _is_api_path(path) or path.startswith("/zunk8s/") or path.startswith("/network/v2.0")
    )
