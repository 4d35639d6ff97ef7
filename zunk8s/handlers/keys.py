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
REQUEST_ID = "zunk8s.request_id"
VERSION = "zunk8s.version"
CALLER = "zunk8s.caller"


def version_of(request: web.Request) -> APIVersion:
    version: APIVersion = request[VERSION]
    return version


def caller_of(request: web.Request) -> Caller:
    caller: Caller = request[CALLER]
    return caller


def base_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured or f"{request.scheme}://{request.host}"
