"""Typed application and request keys, shared by the HTTP handlers and the websocket endpoint
(neither imports the other), and the URLs clients are given back."""

from __future__ import annotations

from aiohttp import web

from zunk8s.identity.base import Authenticator
from zunk8s.microversions import APIVersion
from zunk8s.policy.enforcer import PolicyEnforcer
from zunk8s.records import Record
from zunk8s.service.context import Caller
from zunk8s.service.services import Services
from zunk8s.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
POLICY = web.AppKey("policy", PolicyEnforcer)

# Request-scoped values, set by middlewares.
REQUEST_ID = web.RequestKey("request_id", str)
VERSION = web.RequestKey("api_version", APIVersion)
CALLER = web.RequestKey("caller", Caller)

# Where the websocket endpoint behind attach and interactive exec URLs is served.
WS_PATH = "/websocket/"


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def authorize(request: web.Request, rule: str, owner: Record | None = None, *, project_id: str | None = None) -> None:
    """Zun's policy check of ``rule`` for the caller, on the container whose record is
    ``owner`` (its project and user are the target), on ``project_id`` (a project's quotas), or
    on the caller's own project."""
    target = None if owner is None else {"project_id": owner.project_id, "user_id": owner.user_id}
    if project_id is not None:
        target = {"project_id": project_id}
    request.app[POLICY].enforce(rule, request[CALLER], target)


def version_of(request: web.Request) -> APIVersion:
    return request[VERSION]


def caller_of(request: web.Request) -> Caller:
    return request[CALLER]


def base_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured or f"{request.scheme}://{request.host}"


def ws_base_url(request: web.Request) -> str:
    """The websocket base URL clients get in attach / exec answers."""
    return base_url(request).replace("https://", "wss://", 1).replace("http://", "ws://", 1) + WS_PATH
