"""Property-based fuzzing of every endpoint with bad input (issue #13).

Property: whatever is sent, zunk8s answers within the timeout, with an x-openstack-request-id,
errors in Zun's envelope, and no 5xx other than an explicit 501/503 with a reason. A create
that was accepted (202) must not end in Error because Kubernetes refused what zunk8s built.

Targets are real containers (Created, Running on the real node, Stopped) plus idents that do
not exist. Valid input really acts (stops, renames, deletes...): the pool replaces targets as
needed. In CI every test has a small derandomized budget; see conftest.py to run it longer.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import tarfile
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp import WSServerHandshakeError
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from tests.fuzz import strategies as S
from tests.fuzz.conftest import FuzzAPI
from tests.fuzz.harness import REQUEST_TIMEOUT, Req, Resp
from zunk8s.handlers.actions import ACTIONS
from zunk8s.schemas.queries import FILTERS

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.realnode,
    # Each request is bounded by the hang timeout; a long local run is not bounded as a whole.
    pytest.mark.timeout(0 if os.environ.get("ZUNK8S_FUZZ_EXAMPLES") else 300),
]

F = TypeVar("F", bound=Callable[..., Any])
_EXAMPLES = int(os.environ.get("ZUNK8S_FUZZ_EXAMPLES", "0"))
_SEED = os.environ.get("ZUNK8S_FUZZ_SEED")
_REPORTING = bool(os.environ.get("ZUNK8S_FUZZ_REPORT"))


def fuzz(ci_examples: int) -> Callable[[F], F]:
    """Hypothesis settings: a small derandomized budget in CI, ZUNK8S_FUZZ_EXAMPLES locally."""
    phases = [Phase.explicit, Phase.generate] if _REPORTING else [Phase.explicit, Phase.generate, Phase.shrink]

    def decorate(test: F) -> F:
        configured = settings(
            max_examples=_EXAMPLES or ci_examples,
            deadline=None,
            derandomize=_SEED is None,
            database=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(test)
        return seed(int(_SEED))(configured) if _SEED is not None else configured

    return decorate


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND"]


def method(right: str, weight: int = 5) -> st.SearchStrategy[str]:
    return S.weighted((weight, st.just(right)), (1, st.sampled_from([m for m in METHODS if m != right])))


prefixes = S.weighted((4, st.just("/v1")), (1, st.just("")))


def resolve_query(api: FuzzAPI, q: str) -> str:
    """'@running' drawn as a query value (quoted %40running) becomes that target's uuid."""
    for token in S.TARGET_TOKENS:
        encoded = quote(token, safe="")
        if encoded in q:
            q = q.replace(encoded, api.targets.resolve(token))
    return q


def item_path(api: FuzzAPI, prefix: str, ident: S.Ident) -> str:
    text = api.targets.resolve(ident.text) if ident.is_target() else ident.text
    return f"{prefix}/containers/{S.path_segment(text, ident.raw)}"


def with_query(path: str, q: str) -> str:
    return f"{path}?{q}" if q else path


async def start_example(api: FuzzAPI) -> None:
    api.recorder.drain_background()
    await api.targets.refresh()


# --- discovery and unknown paths -----------------------------------------------------------


@fuzz(20)
@given(
    verb=method("GET"),
    path=st.sampled_from(["/", "/v1", "/v1/", "/v1.json", "//", "/v1//"]),
    who=S.identity(),
    q=S.query({"foo": S.param()}),
    body=S.weighted((4, st.none()), (1, S.bodies(S.json_any))),
)
async def test_discovery(fuzz_api: FuzzAPI, verb: str, path: str, who: S.Identity, q: str, body: bytes | None) -> None:
    req = Req(f"{verb} {path}", verb, with_query(path, q), who.headers(), body, "application/json" if body else None)
    await fuzz_api.exchange(req)


SEGMENTS = S.weighted(
    (3, st.sampled_from(["x", "containers", "v1", "start", "logs", "..", ".", "", "%2F", "%", "%zz", "a" * 3000,
                         "None", "websocket", "%C3%A9", "%00", "@running", "services", "images"])),
    (2, st.text(min_size=1, max_size=12).map(lambda t: quote(t, safe=""))),
)
UNKNOWN_PREFIXES = [
    "", "/v1", "/v2", "/containers", "/v1/containers/@running", "/containers/@created", "/websocket", "/zunk8s",
    "/healthz", "/metrics", "/v1/containers/@running/logs", "/v1/containers/@stopped/start", "/v1/services", "/v1.1",
]


@fuzz(40)
@given(
    verb=S.weighted((3, st.just("GET")), (2, st.sampled_from(METHODS))),
    prefix=st.sampled_from(UNKNOWN_PREFIXES),
    segments=st.lists(SEGMENTS, min_size=1, max_size=4),
    trailing=st.booleans(),
    who=S.identity(),
    q=S.query({"foo": S.param()}),
)
async def test_unknown_paths(
    fuzz_api: FuzzAPI, verb: str, prefix: str, segments: list[str], trailing: bool, who: S.Identity, q: str
) -> None:
    await start_example(fuzz_api)
    label = f"{verb} {prefix}/<unknown>"
    for token in S.TARGET_TOKENS:
        prefix = prefix.replace(token, fuzz_api.targets.resolve(token))
    path = prefix + "/" + "/".join(s.replace("@running", fuzz_api.targets.resolve("@running")) for s in segments)
    path += "/" if trailing else ""
    await fuzz_api.exchange(Req(label, verb, with_query(path, q), who.headers()))


# --- the collection ------------------------------------------------------------------------

LIST_KEYS: dict[str, st.SearchStrategy[str]] = {
    "limit": S.param("1", "2", "1000", "1001", "0", "-1", "1.5", "\u00b2", "\u0661", "9" * 5000, " 5", "5\n", "1_0"),
    "marker": S.param("@running", "@created", "@stopped", "00000000-0000-0000-0000-000000000000", "x"),
    "sort_key": S.param("id", "name", "status", "created_at", "uuid", "memory", "cpu", "labels", "host", "x", "command"),
    "sort_dir": S.param("asc", "desc", "ASC", "up"),
    "all_projects": S.BOOL_PARAM,
    **{f: S.param("fz-running-1", "Running", "Stopped", "512", "True", "localhost/zunk8s-busybox:1") for f in FILTERS},
}


@fuzz(60)
@given(
    verb=method("GET", weight=8),
    prefix=prefixes,
    slash=st.booleans(),
    who=S.identity(),
    q=S.query(LIST_KEYS),
)
async def test_list(fuzz_api: FuzzAPI, verb: str, prefix: str, slash: bool, who: S.Identity, q: str) -> None:
    await start_example(fuzz_api)
    path = f"{prefix}/containers" + ("/" if slash else "")
    if verb == "POST":
        verb = "PUT"  # a POST is a create: test_create covers it
    await fuzz_api.exchange(Req(f"{verb} {prefix}/containers", verb, with_query(path, resolve_query(fuzz_api, q)),
                                who.headers()))


def _legacy(version: str | None) -> bool:
    if version is None:
        return True
    parts = version.split()
    if len(parts) == 2 and parts[1].startswith("1.") and parts[1][2:].isascii() and parts[1][2:].isdigit():
        return int(parts[1][2:]) < 20
    return False


CREATE_PROJECTS = S.weighted(
    (6, st.just("fuzz-create")),
    (1, st.none()),
    (1, st.sampled_from(["", "a" * 300, "proj/../x", "\u00e9t\u00e9", "UPPER", "%2F"])),
    (1, st.text(max_size=20).map(S.header_safe)),
)
RUN_VALUES = S.weighted((3, st.none()), (4, st.just("true")), (2, st.sampled_from(S.BOOLISH)), (1, S.nasty_text()))


@st.composite
def create_case(draw: st.DrawFn) -> tuple[S.Identity, str, bytes, str | None]:
    version = draw(S.weighted((6, S.valid_version(20, 40)), (2, S.valid_version()), (1, S.version_header)))
    who = S.Identity(version=version, project=draw(CREATE_PROJECTS), roles=draw(S.roles))
    body = draw(S.bodies(S.create_body(_legacy(version))))
    pairs: list[tuple[str, str]] = []
    run = draw(RUN_VALUES)
    if run is not None:
        pairs.append(("run", run))
    if draw(S.rarely):
        pairs.append((draw(st.sampled_from(["run", "foo", "name", ""])), draw(S.nasty_text())))
    return who, S.encode_query(pairs, draw(st.sampled_from(S.RAW_QUERY_TAILS))), body, draw(S.content_type)


def image_is_local(body: bytes) -> bool:
    """Parse as the server will: an image that could validate must be a localhost/ one."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return True
    image = doc.get("image") if isinstance(doc, dict) else None
    return not isinstance(image, str) or image.startswith("localhost/")


# An Error the user's input explains the way Docker's would (an image that cannot be pulled or
# named, a command the runtime cannot start) is Zun's behaviour too; these are not.
ZUNK8S_FAULT = re.compile(r"Kubernetes refused|failed: |outside zunk8s|Traceback|internal", re.IGNORECASE)


async def check_accepted_create(api: FuzzAPI, req: Req, resp: Resp) -> None:
    """A 202 create must not end in Error because Kubernetes refused what zunk8s built from it."""
    doc = resp.json()
    if resp.status != 202 or not isinstance(doc, dict) or "uuid" not in doc:
        return
    mark = api.recorder.tap.mark()
    view = await api.targets.settle_and_delete(str(doc["uuid"]))
    reason = str((view or {}).get("status_reason"))
    if view is not None and view.get("status") == "Error" and ZUNK8S_FAULT.search(reason):
        api.recorder.judge(req, resp, api.recorder.tap.since(mark), extra=[f"accepted (202) but ended in Error: {reason}"])


@fuzz(100)
@given(prefix=prefixes, slash=st.booleans(), case=create_case())
async def test_create(fuzz_api: FuzzAPI, prefix: str, slash: bool, case: tuple[S.Identity, str, bytes, str | None]) -> None:
    who, q, body, ctype = case
    assume(image_is_local(body))
    await start_example(fuzz_api)
    path = f"{prefix}/containers" + ("/" if slash else "")
    req = Req(f"POST {prefix}/containers", "POST", with_query(path, q), who.headers(), body, ctype)
    resp = await fuzz_api.exchange(req)
    await check_accepted_create(fuzz_api, req, resp)


@fuzz(15)
@given(
    version=S.weighted((4, st.just("container 1.40")), (1, S.valid_version(22, 40))),
    admin=st.booleans(),
    body=S.accepted_create_body(),
)
async def test_create_accepted(fuzz_api: FuzzAPI, version: str, admin: bool, body: dict[str, Any]) -> None:
    """Valid bodies with values at Kubernetes' limits, run at once: Zun answers 202, so the
    container must start (or fail for a reason Docker would give too), not be refused."""
    await start_example(fuzz_api)
    who = S.Identity(version=version, project="fuzz-create", roles="admin" if admin else None)
    req = Req("POST /v1/containers (valid)", "POST", "/v1/containers?run=true", who.headers(),
              S.dump(body).encode(), "application/json")
    resp = await fuzz_api.exchange(req)
    await check_accepted_create(fuzz_api, req, resp)


# --- one container -------------------------------------------------------------------------

ITEM_KEYS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "GET": {"all_projects": S.BOOL_PARAM},
    "DELETE": {"force": S.BOOL_PARAM, "stop": S.BOOL_PARAM, "all_projects": S.BOOL_PARAM},
    "PATCH": {},
}


@fuzz(40)
@given(
    verb=S.weighted((6, st.just("GET")), (1, st.sampled_from(["HEAD", "PUT", "POST", "OPTIONS", "PROPFIND"]))),
    prefix=prefixes, ident=S.idents, who=S.identity(), q=S.query(ITEM_KEYS["GET"]),
)
async def test_show(fuzz_api: FuzzAPI, verb: str, prefix: str, ident: S.Ident, who: S.Identity, q: str) -> None:
    await start_example(fuzz_api)
    path = with_query(item_path(fuzz_api, prefix, ident), q)
    await fuzz_api.exchange(Req(f"{verb} {prefix}/containers/{{ident}}", verb, path, who.headers()))


@fuzz(60)
@given(
    prefix=prefixes, ident=S.idents, who=S.identity(), q=S.query({"name": S.param()}),
    body=S.weighted((8, S.bodies(S.update_body())), (1, st.none())), ctype=S.content_type,
)
async def test_update(
    fuzz_api: FuzzAPI, prefix: str, ident: S.Ident, who: S.Identity, q: str, body: bytes | None, ctype: str | None
) -> None:
    await start_example(fuzz_api)
    path = with_query(item_path(fuzz_api, prefix, ident), q)
    await fuzz_api.exchange(Req(f"PATCH {prefix}/containers/{{ident}}", "PATCH", path, who.headers(), body, ctype))


@fuzz(40)
@given(prefix=prefixes, ident=S.idents, who=S.identity(), q=S.query(ITEM_KEYS["DELETE"]))
async def test_delete(fuzz_api: FuzzAPI, prefix: str, ident: S.Ident, who: S.Identity, q: str) -> None:
    await start_example(fuzz_api)
    path = with_query(item_path(fuzz_api, prefix, ident), q)
    await fuzz_api.exchange(Req(f"DELETE {prefix}/containers/{{ident}}", "DELETE", path, who.headers()))


# --- actions -------------------------------------------------------------------------------


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"fuzz\n"
        info = tarfile.TarInfo("fuzz.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


TAR = _tar()
ARCHIVE_DATA = S.weighted(
    (3, st.just(base64.b64encode(TAR).decode())),
    (1, st.just(TAR.decode("latin-1"))),
    (2, st.sampled_from(["", "!!!", "====", "QQ", "QUJD\n", base64.b64encode(b"not a tar").decode(), "A" * (1 << 20),
                         "A" * (12 << 20), "\u00e9", "None"])),
    (1, S.json_leaf),
)
STRICT_BOOL = S.param("true", "True", "false", "False")
COMMANDS = S.weighted(
    (8, S.param(
        "echo hi", "true", "sh -c 'exit 3'", "ls /", "cat /etc/hostname", "zunk8s-fuzz-nonexistent", "'unbalanced", "",
        "sleep 1", "echo " + "a" * 5000, "echo \u00e9", "printf '\\377\\376'", "echo a\x00b",
    )),
    # Fits a JSON body (256 KiB), not a URL: and each word is one argument of the exec call.
    (1, st.just("echo" + " a" * 110_000)),
)
SIGNALS = S.param("KILL", "9", "SIGTERM", "term", "TERM", "HUP", "SIGUSR1", "0", "65", "-9", "SIGKILL ", "sig", "WINCH",
                  "\u0669", "sigkill", "SIGRTMIN", "SIGRTMIN+1", "RTMIN", "34", "CONT")
PATHS = S.param("/tmp", "/etc/hostname", "/", "/nonexistent", "relative", "", "-rf", "--help", "/proc/self/status",
                "/tmp/\u00e9", "/etc/../etc/passwd", "/dev/null", "/bin/sh")
ACTION_PARAMS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "stop": {"timeout": S.INT_PARAM},
    "reboot": {"timeout": S.INT_PARAM},
    "kill": {"signal": SIGNALS},
    "rename": {"name": S.param("fz-renamed", "a", "a b", "a" * 300, "\u00e9")},
    "logs": {
        "stdout": S.BOOL_PARAM, "stderr": S.BOOL_PARAM, "timestamps": S.BOOL_PARAM,
        "tail": S.param("all", "0", "1", "10", "-1", "\u00b2", "9" * 5000, "1.5"),
        "since": S.param(*S.DATES, "0", "1", "1700000000", "99999999999", "123\n", "\u00b2", "-1", "9" * 5000),
    },
    "execute": {"command": COMMANDS, "run": STRICT_BOOL, "interactive": STRICT_BOOL},
    "execute_resize": {"exec_id": S.param("@exec", "0" * 64, "A" * 64, "g" * 64, "0" * 63, "\u0660" * 64),
                       "w": S.INT_PARAM, "h": S.INT_PARAM},
    "resize": {"w": S.INT_PARAM, "h": S.INT_PARAM},
    "top": {"ps_args": S.param("-ef", "aux", "-o pid,comm", "--help", "'", "-o", "x" * 3000)},
    "get_archive": {"path": PATHS},
    "put_archive": {"path": PATHS, "data": ARCHIVE_DATA},
    "rebuild": {"image": S.param("localhost/zunk8s-busybox:1"), "image_driver": S.param("docker")},
    "commit": {"repository": S.param("localhost/x"), "tag": S.param("1")},
    "add_security_group": {"name": S.param("default")},
    "remove_security_group": {"name": S.param("default")},
    "network_detach": {"network": S.param("net"), "port": S.param("p")},
    "network_attach": {"network": S.param("net"), "port": S.param("p"), "fixed_ip": S.param("10.0.0.1")},
    "resize_container": {"cpu": S.param("0.5", "NaN"), "memory": S.param("128", "\u00b2")},
    "stats": {"decode": S.BOOL_PARAM, "stream": S.BOOL_PARAM},
}
ACTION_IDENTS = S.weighted(
    (6, st.just(S.Ident("@running"))),
    (2, st.sampled_from([S.Ident("@created"), S.Ident("@stopped"), S.Ident("@extra"), S.Ident("@running:name")])),
    (2, S.idents),
)


def action_version(name: str) -> st.SearchStrategy[str | None]:
    action = ACTIONS[name]
    lo = action.min_version.minor
    hi = action.max_version.minor if action.max_version is not None else 40
    return S.weighted((6, S.valid_version(lo, hi)), (1, st.none()), (2, S.version_header))


@pytest.mark.parametrize("name", sorted(ACTIONS))
@fuzz(20)
@given(data=st.data())
async def test_action(fuzz_api: FuzzAPI, name: str, data: st.DataObject) -> None:
    action = ACTIONS[name]
    known = ACTION_PARAMS.get(name, {})
    str_known = {k: v for k, v in known.items() if k != "data"}
    verb = data.draw(method(action.method), label="method")
    prefix = data.draw(prefixes, label="prefix")
    ident = data.draw(ACTION_IDENTS, label="ident")
    who = data.draw(S.identity(action_version(name)), label="identity")
    q = data.draw(S.query(str_known), label="query")
    body: bytes | None = None
    ctype: str | None = None
    if verb not in ("GET", "HEAD"):
        shape = data.draw(st.sampled_from(["none", "params", "params", "any"]), label="body shape")
        if shape == "params" or (name == "put_archive" and shape == "none"):
            doc = {k: data.draw(v, label=k) for k, v in known.items() if data.draw(S.often, label=f"send {k}")}
            if name == "put_archive" and data.draw(S.usually, label="data"):
                doc["data"] = data.draw(ARCHIVE_DATA, label="data")
            body = S.dump(doc).encode()
        elif shape == "any":
            body = data.draw(S.bodies(S.json_any), label="body")
        ctype = data.draw(S.content_type, label="content type") if body is not None else None
    await start_example(fuzz_api)
    if "%40exec" in q:
        session = await fuzz_api.targets.mint_exec()
        q = q.replace("%40exec", str(session["exec_id"]) if session else "0" * 64)
    path = with_query(f"{item_path(fuzz_api, prefix, ident)}/{name}", resolve_query(fuzz_api, q))
    req = Req(f"{verb} {prefix}/containers/{{ident}}/{name}", verb, path, who.headers(), body, ctype)
    await fuzz_api.exchange(req)


# --- the websocket endpoint ----------------------------------------------------------------


@st.composite
def ws_case(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "mint": draw(st.sampled_from(["none", "exec", "attach"])),
        "token": draw(S.weighted((4, st.just("@minted")), (2, S.param("", "x", "None", "a" * 5000)))),
        "uuid": draw(S.weighted((4, st.just("@minted")), (1, st.just("@created")), (2, S.param("", "x")),
                                (1, st.uuids().map(str)))),
        "exec_id": draw(S.weighted((4, st.just("@minted")), (2, S.param("", "0" * 64)), (1, st.just(None)))),
        "origin": draw(S.weighted((3, st.none()), (1, st.sampled_from(["http://evil.example", "null", "", "http://127.0.0.1",
                                                                         "http://[::1", "\u00e9://x"])))),
        "host": draw(S.HOSTS),
        "upgrade": draw(st.booleans()),
        "protocol": draw(st.sampled_from(["binary", "base64", "x", ""])),
        "verb": draw(method("GET", weight=8)),
    }


@fuzz(30)
@given(case=ws_case(), extra=S.query({"foo": S.param()}))
async def test_websocket(fuzz_api: FuzzAPI, case: dict[str, Any], extra: str) -> None:
    await start_example(fuzz_api)
    minted: dict[str, str] = {}
    if case["mint"] == "exec":
        session = await fuzz_api.targets.mint_exec()
        url = str(session["proxy_url"]) if session else ""
    elif case["mint"] == "attach":
        status, url = await fuzz_api.targets.call("GET", f"/v1/containers/{fuzz_api.targets.role['running']}/attach")
        url = str(url) if status == 200 else ""
    else:
        url = ""
    if url:
        minted = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    pairs: list[tuple[str, str]] = []
    for key in ("token", "uuid", "exec_id"):
        value = case[key]
        if value is None:
            continue
        if value == "@minted":
            value = minted.get(key, "")
        elif value == "@created":
            value = fuzz_api.targets.resolve("@created")
        pairs.append((key, value))
    q = S.encode_query(pairs, "") + (f"&{extra}" if extra else "")
    path = f"/websocket/?{q}"
    headers = [("Origin", case["origin"])] if case["origin"] is not None else []
    headers += [("Host", case["host"])] if case["host"] is not None else []
    req = Req(f"{case['verb']} /websocket/", case["verb"], path, headers)
    if case["upgrade"] and case["verb"] == "GET":
        await websocket_session(fuzz_api, req, case["protocol"])
        return
    await fuzz_api.exchange(req)


async def websocket_session(api: FuzzAPI, req: Req, protocol: str) -> None:
    """A real upgrade: a refused handshake must not be a 5xx; an accepted one must not hang."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            ws = await api.client.ws_connect(req.path, protocols=(protocol,) if protocol else (), headers=dict(req.headers))
            try:
                await ws.receive(timeout=5)
            except TimeoutError:
                pass
            finally:
                await ws.close()
    except WSServerHandshakeError as e:
        if e.status >= 500 and e.status not in (501, 503):
            api.recorder.judge(req, Resp(e.status, CIMultiDict(), b"", error=f"websocket handshake got {e.status}"), [])
    except TimeoutError:
        api.recorder.judge(req, Resp(0, CIMultiDict(), b"", error="websocket session hung"), [])


# --- capsules and registries: valid bodies with parts replaced by anything ---------------------

_DROP = object()
CAPSULE_PATHS: list[tuple[Any, ...]] = [
    ("template",), ("template", "kind"), ("template", "metadata"), ("template", "metadata", "name"),
    ("template", "metadata", "labels"), ("template", "spec"), ("template", "spec", "restartPolicy"),
    ("template", "spec", "containers"), ("template", "spec", "containers", 0),
    ("template", "spec", "containers", 0, "image"), ("template", "spec", "containers", 0, "command"),
    ("template", "spec", "containers", 0, "resources"), ("template", "spec", "containers", 0, "ports"),
    ("template", "spec", "containers", 0, "env"), ("template", "spec", "containers", 0, "volumeMounts"),
    ("template", "spec", "containers", 0, "volumeMounts", 0, "mountPath"), ("template", "spec", "volumes"),
    ("template", "spec", "volumes", 0, "cinder"), ("template", "spec", "volumes", 0, "cinder", "size"),
    ("template", "spec", "initContainers"), ("template", "availabilityZone"),
]
REGISTRY_PATHS: list[tuple[Any, ...]] = [
    ("registry",), ("registry", "name"), ("registry", "domain"), ("registry", "username"), ("registry", "password"),
]


def _capsule_body() -> dict[str, Any]:
    return {"template": {"kind": "capsule", "metadata": {"name": "fz", "labels": {"a": "b"}}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"image": "localhost/zunk8s-busybox:1", "command": ["true"],
                        "resources": {"requests": {"cpu": 0.1, "memory": 16}}, "ports": [{"containerPort": 80}],
                        "env": {"A": "1"}, "volumeMounts": [{"name": "v1", "mountPath": "/v"}]}],
        "volumes": [{"name": "v1", "cinder": {"size": 1, "autoRemove": True}}]}}}


def _mutated(body: dict[str, Any], changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    for path, value in changes:
        target: Any = body
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(target, dict) or (isinstance(target, list) and isinstance(path[-1], int) and len(target) > path[-1]):
                if value is _DROP and isinstance(target, dict):
                    target.pop(path[-1], None)
                elif value is not _DROP:
                    target[path[-1]] = value
    return body


@fuzz(40)
@given(changes=st.lists(st.tuples(st.sampled_from(CAPSULE_PATHS), S.json_any | st.just(_DROP)), min_size=1, max_size=3),
       who=S.identity())
async def test_capsule_create(fuzz_api: FuzzAPI, changes: list[tuple[tuple[Any, ...], Any]], who: S.Identity) -> None:
    body = json.dumps(_mutated(_capsule_body(), changes)).encode()
    resp = await fuzz_api.exchange(Req("POST /v1/capsules", "POST", "/v1/capsules", who.headers(), body, "application/json"))
    made = resp.json()
    if resp.status == 202 and isinstance(made, dict):  # accepted: not left running
        await fuzz_api.exchange(Req("DELETE /v1/capsules/{ident}", "DELETE", f"/v1/capsules/{made['uuid']}", who.headers()))


@fuzz(40)
@given(changes=st.lists(st.tuples(st.sampled_from(REGISTRY_PATHS), S.json_any | st.just(_DROP)), min_size=1, max_size=3),
       who=S.identity(), update=st.booleans())
async def test_registry_create_and_update(
    fuzz_api: FuzzAPI, changes: list[tuple[tuple[Any, ...], Any]], who: S.Identity, update: bool
) -> None:
    base = {"registry": {"name": "fz", "domain": "localhost:5056", "username": "u1", "password": "p1"}}
    body = json.dumps(_mutated(base, changes)).encode()
    if not update:
        resp = await fuzz_api.exchange(Req("POST /v1/registries", "POST", "/v1/registries", who.headers(), body,
                                           "application/json"))
        made = resp.json()
        if resp.status == 201 and isinstance(made, dict):
            await fuzz_api.exchange(Req("DELETE /v1/registries/{ident}", "DELETE",
                                        f"/v1/registries/{made['registry']['uuid']}", who.headers()))
        return
    made = await fuzz_api.exchange(Req("POST /v1/registries", "POST", "/v1/registries", who.headers(),
                                       json.dumps(base).encode(), "application/json"))
    if made.status == 201:
        uuid = made.json()["registry"]["uuid"]
        await fuzz_api.exchange(Req("PATCH /v1/registries/{ident}", "PATCH", f"/v1/registries/{uuid}", who.headers(),
                                    body, "application/json"))
        await fuzz_api.exchange(Req("DELETE /v1/registries/{ident}", "DELETE", f"/v1/registries/{uuid}", who.headers()))
