"""POST/GET /v1/containers/{ident}/{action}: the container actions.

Each handler resolves the container, validates Zun's query schema and calls one service
method. Which actions exist at which microversion is the ACTIONS table at the bottom.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload

from zunk8s.appkeys import SETTINGS, authorize, caller_of, services_of, version_of, ws_base_url
from zunk8s.clock import now_utc
from zunk8s.errors import InvalidValue, SchemaValidationError
from zunk8s.handlers import container_actions
from zunk8s.handlers.archivebody import archive_body, read_upload, uses_base64
from zunk8s.handlers.containers import entry_view
from zunk8s.handlers.params import action_params, archive_body_limit, query_dict, read_body
from zunk8s.microversions import APIVersion, not_in_version
from zunk8s.schemas.containers import validate_rebuild, validate_update
from zunk8s.schemas.params import (
    TERMINATING_SIGNALS,
    ascii_int,
    parse_bool,
    parse_non_negative_int,
    parse_signal,
    reject_unknown,
    unset,
)
from zunk8s.schemas.queries import check_exec_id, parse_size, since_seconds
from zunk8s.service.registry import Entry
from zunk8s.translate.logtext import LogsQuery, LogStream
from zunk8s.translate.netports import network_list as network_entries

ActionHandler = Callable[[web.Request, Entry, dict[str, Any]], Awaitable[web.Response]]


def _null(status: int) -> web.Response:
    # pecan serialises None: Zun answers actions with a JSON null body.
    return web.json_response(None, status=status)


async def start(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    await services_of(request).power.start(caller_of(request), entry)
    return _null(202)


def _timeout(params: dict[str, Any]) -> int | None:
    reject_unknown(params, {"timeout"})
    return parse_non_negative_int("timeout", params.get("timeout"))


async def stop(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    await services_of(request).power.stop(caller_of(request), entry, timeout=_timeout(params))
    return _null(202)


async def reboot(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    await services_of(request).power.reboot(caller_of(request), entry, timeout=_timeout(params))
    return _null(202)


async def kill(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    signal = params.get("signal")
    name = parse_signal(None if signal is None else str(signal))
    services = services_of(request)
    if name in TERMINATING_SIGNALS:
        await services.power.kill(caller_of(request), entry, signal=name)
    else:
        await services.commands.send_signal(caller_of(request), entry, name)
    return _null(202)


async def rename(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    if "name" not in params:
        raise SchemaValidationError("'name' is a required property")
    name = validate_update({"name": params["name"]}).name
    if name is None:  # {"name": null}: Zun's schema refuses it (name is a string)
        raise SchemaValidationError("Invalid input for field 'name': None is not of type 'string'")
    updated = await services_of(request).updates.rename(caller_of(request), entry, name)
    return web.json_response(entry_view(request, updated, links=True))


async def logs(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"stdout", "stderr", "timestamps", "tail", "since"})
    stdout = parse_bool("stdout", params.get("stdout"), extended=True, default=True)
    stderr = parse_bool("stderr", params.get("stderr"), extended=True, default=True)
    if not stdout and not stderr:
        return web.json_response("")  # as Docker answers a request for neither stream
    # One stream alone where the cluster can split them (README: "Logs"); both otherwise.
    stream: LogStream | None = None if stdout == stderr else ("Stdout" if stdout else "Stderr")
    timestamps = parse_bool("timestamps", params.get("timestamps"), extended=True, default=False)
    tail_raw = params.get("tail")
    # Zun's driver treats any non-integer tail as "all"; so does zunk8s, for ASCII digits only.
    tail = None if unset(tail_raw) else ascii_int(str(tail_raw))
    since = since_seconds(params.get("since"), now=now_utc())
    query = LogsQuery(tail=tail, since_seconds=since, timestamps=timestamps, stream=stream)
    data = await services_of(request).logs.read(entry, query)
    return web.json_response(data.decode("utf-8", errors="replace"))


async def execute(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    # pecan hands Zun's execute the query string and a JSON body's keys alike (python-zunclient
    # sends the query string; other clients send a body).
    reject_unknown(params, {"command", "run", "interactive"})
    command = params.get("command")
    if unset(command):
        raise SchemaValidationError("'command' is a required property")
    if not isinstance(command, str):
        raise SchemaValidationError(f"Invalid input for field 'command': {type(command).__name__} is not of type 'string'")
    run = parse_bool("run", params.get("run"), extended=False, default=True)
    interactive = parse_bool("interactive", params.get("interactive"), extended=False, default=False)
    services = services_of(request)
    if not run or interactive:
        # Like Zun: the exec is created now and started when the websocket connects.
        session = await services.sessions.create_exec(caller_of(request), entry, command, ws_base=ws_base_url(request))
        return web.json_response({"output": None, "exit_code": None, "exec_id": session.exec_id, "proxy_url": session.proxy_url})
    result = await services.commands.execute(caller_of(request), entry, command)
    body = {
        "output": result.output.decode("utf-8", errors="replace"),
        "exit_code": result.status.exit_code,
        "exec_id": None,
        "proxy_url": None,
    }
    return web.json_response(body)


async def top(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"ps_args"})
    ps_args = params.get("ps_args")
    return web.json_response(await services_of(request).commands.top(entry, None if unset(ps_args) else str(ps_args)))


async def attach(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    url = await services_of(request).sessions.attach_url(caller_of(request), entry, ws_base=ws_base_url(request))
    return web.json_response(url)


async def resize(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"w", "h"})
    width, height = parse_size(params)
    await services_of(request).sessions.resize(caller_of(request), entry, width=width, height=height, exec_id=None)
    return _null(200)


async def execute_resize(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"exec_id", "w", "h"})
    exec_id = check_exec_id(params.get("exec_id"))
    width, height = parse_size(params)
    await services_of(request).sessions.resize(
        caller_of(request), entry, width=width, height=height, exec_id=exec_id
    )
    return _null(200)


def _path(params: dict[str, Any]) -> str:
    path = params.get("path")
    if unset(path):
        raise SchemaValidationError("'path' is a required property")
    return str(path)


async def get_archive(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"path"})
    archive = await services_of(request).archives.get(entry, _path(params), base64=uses_base64(version_of(request)))
    return web.Response(body=AsyncIterablePayload(archive_body(archive)), content_type="application/json")


async def put_archive(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    # The body is read here, not merged into params: it holds the archive (ACTIONS raw_body).
    limit = archive_body_limit(request.app[SETTINGS].max_archive_bytes)
    upload, body_params = read_upload(await read_body(request, limit), version_of(request))
    merged = {**params, **body_params}
    reject_unknown(merged, {"path"})
    if upload is None:
        raise SchemaValidationError("'data' is a required property")
    await services_of(request).archives.put(caller_of(request), entry, _path(merged), upload)
    return _null(200)


async def pause(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, set())
    await services_of(request).freezer.pause(caller_of(request), entry)
    return _null(202)


async def unpause(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, set())
    await services_of(request).freezer.unpause(caller_of(request), entry)
    return _null(202)


async def stats(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    # Zun's stats takes no query parameter and checks none (pecan drops what it does not name).
    return web.json_response(await services_of(request).stats.stats(caller_of(request), entry))


async def rebuild(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    wanted = validate_rebuild(params)
    await services_of(request).rebuilds.rebuild(
        caller_of(request), entry, image=wanted.image, image_driver=wanted.image_driver
    )
    return _null(202)


async def resize_container(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    changes = validate_update(params)
    if changes.name is not None or changes.auto_heal is not None:
        # Zun accepts these here and drops them; zunk8s says so instead of ignoring them.
        raise InvalidValue(
            "resize_container changes only cpu and memory; change name or auto_heal with PATCH /v1/containers/<id>."
        )
    before = entry_view(request, entry, links=True)  # Zun answers with the view before the resize
    await services_of(request).updates.resize_container(caller_of(request), entry, changes)
    return web.json_response(before, status=202)


def _string_param(params: dict[str, Any], key: str, *, required: bool, bounded: bool = True) -> str | None:
    """A query parameter Zun's schema types as a string of 1 to 255 characters (``bounded``), or
    of any length."""
    value = params.get(key)
    if unset(value):
        if required:
            raise SchemaValidationError(f"'{key}' is a required property")
        return None
    text = str(value)
    if bounded and not 1 <= len(text) <= 255:
        raise SchemaValidationError(f"Invalid input for field '{key}'. Value: '{text}'. must be 1 to 255 characters")
    return text


async def add_security_group(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"name"})
    name = str(_string_param(params, "name", required=True))
    await services_of(request).attachments.add_security_group(caller_of(request), entry, name)
    return _null(202)


async def remove_security_group(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"name"})
    name = str(_string_param(params, "name", required=True))
    await services_of(request).attachments.remove_security_group(caller_of(request), entry, name)
    return _null(202)


async def network_attach(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"network", "port", "fixed_ip"})
    network = _string_param(params, "network", required=False)
    port = _string_param(params, "port", required=False)
    if network is not None and port is not None:
        raise SchemaValidationError("network and port cannot be specified together")
    if port is not None:
        raise InvalidValue(
            "zunk8s has no Neutron ports to attach: a container's address is its Pod's; attach a network "
            "by 'network' instead of 'port'."
        )
    if not unset(params.get("fixed_ip")):
        raise InvalidValue(
            "fixed_ip cannot be honoured on Kubernetes: the cluster's network plugin gives each Pod its address."
        )
    await services_of(request).attachments.network_attach(caller_of(request), entry, network)
    # Zun answers 200 (its api-ref says 202).
    return _null(200)


async def network_detach(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, {"network", "port"})
    network = _string_param(params, "network", required=False)
    port = _string_param(params, "port", required=False)
    if (network is None) == (port is None):
        raise SchemaValidationError("exactly one of network and port must be given")
    await services_of(request).attachments.network_detach(caller_of(request), entry, network=network, port=port)
    return _null(202)


async def network_list(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    reject_unknown(params, set())
    flat = version_of(request) < APIVersion(1, 18)
    return web.json_response({"networks": network_entries(entry.record, entry.status, flat=flat)})


async def commit(request: web.Request, entry: Entry, params: dict[str, Any]) -> web.Response:
    # Zun's schema: repository required, tag optional, nothing else (its patterns are unanchored,
    # so any string passes them; a name no registry takes is the service's 400).
    reject_unknown(params, {"repository", "tag"})
    repository = str(_string_param(params, "repository", required=True, bounded=False))
    tag = _string_param(params, "tag", required=False, bounded=False)
    image = await services_of(request).committer.commit(caller_of(request), entry, repository=repository, tag=tag)
    return web.json_response({"uuid": image}, status=202)


@dataclass(frozen=True)
class Action:
    method: str
    handler: ActionHandler
    min_version: APIVersion = APIVersion(1, 1)
    max_version: APIVersion | None = None
    # The handler reads the body itself (archives): only the query string goes in params.
    raw_body: bool = False
    # Zun's policy rule, checked on the container once it is found: "container:<action>"
    # unless given; "" for none (Zun checks none for network_list).
    rule: str | None = None
    # Zun checks the rule on the caller's own project, before it looks the container up
    # (container:actions), instead of on the container.
    rule_first: bool = False


ACTIONS: dict[str, Action] = {
    "start": Action("POST", start),
    "stop": Action("POST", stop),
    "reboot": Action("POST", reboot),
    "kill": Action("POST", kill),
    "rename": Action("POST", rename, max_version=APIVersion(1, 13)),
    "logs": Action("GET", logs),
    "pause": Action("POST", pause),
    "unpause": Action("POST", unpause),
    "rebuild": Action("POST", rebuild),
    "commit": Action("POST", commit),
    "execute": Action("POST", execute),
    "execute_resize": Action("POST", execute_resize),
    "attach": Action("GET", attach),
    "resize": Action("POST", resize),
    "top": Action("GET", top),
    "stats": Action("GET", stats),
    "get_archive": Action("GET", get_archive),
    "put_archive": Action("POST", put_archive, raw_body=True),
    "add_security_group": Action("POST", add_security_group, max_version=APIVersion(1, 14)),
    "remove_security_group": Action("POST", remove_security_group, max_version=APIVersion(1, 14)),
    "network_detach": Action("POST", network_detach, min_version=APIVersion(1, 6)),
    "network_attach": Action("POST", network_attach, min_version=APIVersion(1, 8)),
    "network_list": Action("GET", network_list, min_version=APIVersion(1, 13), rule=""),
    "resize_container": Action("POST", resize_container, min_version=APIVersion(1, 19)),
    "container_actions": Action(
        "GET", container_actions.list_actions, rule=container_actions.RULE, rule_first=True
    ),
}


async def dispatch(request: web.Request) -> web.Response:
    name = request.match_info["action"]
    action = ACTIONS.get(name)
    if action is None:
        raise web.HTTPNotFound()
    if request.method != action.method:
        raise web.HTTPMethodNotAllowed(request.method, [action.method])
    version = version_of(request)
    if version < action.min_version or (action.max_version is not None and version > action.max_version):
        raise not_in_version(version)
    params = await action_params(request) if request.method == "POST" and not action.raw_body else query_dict(request)
    services = services_of(request)
    rule = f"container:{name}" if action.rule is None else action.rule
    if rule and action.rule_first:
        authorize(request, rule)
    entry = await services.registry.find(caller_of(request), request.match_info["ident"])
    if rule and not action.rule_first:
        authorize(request, rule, entry.record)
    return await action.handler(request, entry, params)

