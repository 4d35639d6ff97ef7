"""Typed application and request keys shared by the handlers."""

from __future__ import annotations

from aiohttp import web

from zunk8s.microversions import APIVersion
from zunk8s.service.context import Caller
from zunk8s.service.lifecycle import ContainerService
from zunk8s.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", ContainerService)

# Request-scoped values, set by middlewares.
REQUEST_ID = web.RequestKey("request_id", str)
VERSION = web.RequestKey("api_version", APIVersion)
CALLER = web.RequestKey("caller", Caller)


def version_of(request: web.Request) -> APIVersion:
    return request[VERSION]


def caller_of(request: web.Request) -> Caller:
    return request[CALLER]


def base_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured or f"{request.scheme}://{request.host}"
