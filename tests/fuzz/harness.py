"""Sending one fuzzed request and judging the answer; the pool of target containers.

A request passes when it gets an answer within ZUNK8S_FUZZ_TIMEOUT seconds (30) that carries an
``x-openstack-request-id``, whose error (status >= 400) is Zun's envelope
``{"errors": [{request_id, code "container.*", status == HTTP status, title, detail, links}]}``,
and whose 5xx, if any, is an explicit 501/503 with a non-empty detail. What the server logged
while answering (an unhandled exception's traceback) is attached to the failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import structlog
from aiohttp import ClientError, ClientTimeout
from aiohttp.test_utils import TestClient
from multidict import CIMultiDict, CIMultiDictProxy
from structlog.typing import EventDict, WrappedLogger
from yarl import URL

from tests.fuzz.strategies import TARGET_PROJECT

REQUEST_TIMEOUT = float(os.environ.get("ZUNK8S_FUZZ_TIMEOUT", "30"))
_REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENVELOPE_KEYS = {"request_id", "code", "status", "title", "detail", "links"}
# Log events that mean work went wrong after the answer was sent.
BACKGROUND_EVENTS = {"background_task_failed", "container_task_failed", "status_write_failed", "task_end_failed"}


def short(data: str | bytes, limit: int = 300) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit // 2]!r} …[{len(text)} chars]… {text[-limit // 4:]!r}"


@dataclass
class Req:
    label: str  # the route as a template, e.g. "POST /v1/containers/{ident}/stop"
    method: str
    path: str  # percent-encoded path and query, sent as is
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None

    def describe(self) -> str:
        lines = [f"{self.method} {short(self.path, 400)}"]
        lines += [f"  {k}: {short(v, 120)}" for k, v in self.headers]
        if self.content_type is not None:
            lines.append(f"  Content-Type: {self.content_type!r}")
        if self.body is not None:
            lines.append(f"  body ({len(self.body)} bytes): {short(self.body)}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "method": self.method,
            "path": self.path if len(self.path) < 2000 else short(self.path, 2000),
            "headers": [[k, v if len(v) < 500 else short(v, 500)] for k, v in self.headers],
            "content_type": self.content_type,
            "body": None if self.body is None else short(self.body, 2000),
            "body_len": None if self.body is None else len(self.body),
        }


@dataclass
class Resp:
    status: int  # 0: no HTTP answer (see error)
    headers: CIMultiDictProxy[str] | CIMultiDict[str]
    body: bytes
    error: str | None = None
    elapsed: float = 0.0

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class LogTap:
    """Collects what zunk8s logs (structlog events and aiohttp's own error logs)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._saved: dict[str, Any] | None = None
        self._handler: logging.Handler | None = None

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> NoReturn:
        self.events.append(dict(event))
        raise structlog.DropEvent

    def install(self) -> None:
        self._saved = structlog.get_config()
        structlog.configure(
            processors=[structlog.contextvars.merge_contextvars, structlog.processors.format_exc_info, self],
            cache_logger_on_first_use=False,
        )
        tap = self

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                text = record.getMessage()
                if record.exc_info:
                    text += "\n" + logging.Formatter().formatException(record.exc_info)
                tap.events.append({"event": f"{record.name}: {record.levelname}", "exception": text})

        self._handler = Handler(level=logging.ERROR)
        logging.getLogger("aiohttp").addHandler(self._handler)

    def uninstall(self) -> None:
        if self._saved is not None:
            structlog.configure(**self._saved)
        if self._handler is not None:
            logging.getLogger("aiohttp").removeHandler(self._handler)

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self.events[mark:]


def exception_summary(text: str) -> str:
    """'ValueError: invalid literal ... at zunk8s/handlers/actions.py:123 in logs'."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    where = ""
    for ln in lines:
        m = re.search(r'File "[^"]*/(zunk8s/[^"]+)", line (\d+), in (\S+)', ln)
        if m:
            where = f"{m.group(1)}:{m.group(2)} in {m.group(3)}"
    return f"{last[:200]} at {where}" if where else last[:200]


def _normalise(text: str) -> str:
    text = re.sub(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:90]


def envelope_problems(resp: Resp) -> list[str]:
    ctype = resp.headers.get("Content-Type", "")
    if not ctype.startswith("application/json"):
        return [f"error answer is not JSON (Content-Type {ctype!r})"]
    doc = resp.json()
    if not isinstance(doc, dict) or set(doc) != {"errors"}:
        return ["error answer is not {\"errors\": [...]}"]
    errors = doc["errors"]
    if not isinstance(errors, list) or not errors:
        return ["'errors' is not a non-empty list"]
    out: list[str] = []
    for err in errors:
        if not isinstance(err, dict) or set(err) != ENVELOPE_KEYS:
            out.append(f"error entry keys are {sorted(err) if isinstance(err, dict) else type(err).__name__}")
            continue
        if not isinstance(err["code"], str) or not err["code"].startswith("container."):
            out.append(f"code {err['code']!r} does not start with 'container.'")
        if err["status"] != resp.status or isinstance(err["status"], bool):
            out.append(f"envelope status {err['status']!r} != HTTP status {resp.status}")
        for key in ("title", "detail", "request_id"):
            if not isinstance(err[key], str):
                out.append(f"{key} is not a string")
        if not isinstance(err["links"], list):
            out.append("links is not a list")
    return out


# aiohttp's HTTP parser refuses a request line or header over 8,190 bytes before any zunk8s
# code runs (a text/plain 400); only a 5xx or a hang counts there.
MAX_LINE = 8190


def over_protocol_limit(req: Req) -> bool:
    line = len(req.method) + len(req.path.encode()) + len(" HTTP/1.1")
    return line > MAX_LINE or any(len(k) + len(v.encode()) + 2 > MAX_LINE for k, v in req.headers)


def problems_of(req: Req, resp: Resp) -> list[str]:
    if resp.error is not None:
        return [resp.error]
    if over_protocol_limit(req) and resp.status in (400, 414, 431):
        return []
    out: list[str] = []
    if resp.status != 101 and not _REQUEST_ID.match(resp.headers.get("x-openstack-request-id", "")):
        out.append("no x-openstack-request-id header")
    has_body = req.method != "HEAD" and resp.status not in (204, 304)
    if resp.status >= 400 and has_body:
        out += envelope_problems(resp)
    if resp.status >= 500:
        detail = ""
        doc = resp.json()
        if isinstance(doc, dict) and isinstance(doc.get("errors"), list) and doc["errors"]:
            first = doc["errors"][0]
            detail = str(first.get("detail", "")) if isinstance(first, dict) else ""
        if resp.status not in (501, 503):
            out.append(f"server error {resp.status}")
        elif has_body and not detail.strip():
            out.append(f"{resp.status} without a reason (empty detail)")
    elif 200 <= resp.status < 300 and has_body and resp.body:
        if resp.headers.get("Content-Type", "").startswith("application/json") and resp.json() is None:
            if resp.body.strip() != b"null":
                out.append("2xx answer says JSON but does not parse")
    return out


@dataclass
class Finding:
    signature: str
    problems: list[str]
    request: Req
    status: int
    answer: str
    logged: list[str]


class Recorder:
    """Judges answers. In CI it fails the example; with a report file it records and goes on."""

    def __init__(self, report: Path | None) -> None:
        self.report = report
        self.tap = LogTap()
        self.findings: dict[str, Finding] = {}
        self.counts: dict[str, int] = {}
        self.requests = 0
        self.background: list[dict[str, Any]] = []
        self._background_mark = 0
        # How often each route answered each status: what the fuzzing reached.
        self.statuses: dict[str, int] = {}
        self.samples: dict[str, str] = {}

    async def send(self, client: TestClient[Any, Any], req: Req) -> Resp:
        headers: CIMultiDict[str] = CIMultiDict(req.headers)
        skip = ["Content-Type"]
        if req.content_type is not None:
            headers["Content-Type"] = req.content_type
        started = time.monotonic()
        url = URL(req.path, encoded=True)
        self.requests += 1
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                async with client.request(
                    req.method, url, data=req.body, headers=headers, skip_auto_headers=skip,
                    timeout=ClientTimeout(total=None), allow_redirects=False,
                ) as r:
                    body = await r.read()
                    return Resp(r.status, r.headers, body, elapsed=time.monotonic() - started)
        except TimeoutError:
            return Resp(0, CIMultiDict(), b"", error=f"no answer within {REQUEST_TIMEOUT:.0f} s (hang)")
        except (ClientError, ConnectionError) as e:
            return Resp(0, CIMultiDict(), b"", error=f"connection failed: {type(e).__name__}: {e}")

    async def exchange(self, client: TestClient[Any, Any], req: Req) -> Resp:
        mark = self.tap.mark()
        resp = await self.send(client, req)
        key = f"{req.label} -> {resp.status or resp.error}"
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if key not in self.samples and resp.status >= 400:
            self.samples[key] = short(resp.body, 300)
        self.judge(req, resp, self.tap.since(mark))
        return resp

    def judge(self, req: Req, resp: Resp, logged: list[dict[str, Any]], extra: list[str] | None = None) -> None:
        problems = problems_of(req, resp) + (extra or [])
        if not problems:
            return
        tracebacks = [exception_summary(str(e["exception"])) for e in logged if e.get("exception")]
        full = [str(e["exception"]) for e in logged if e.get("exception")]
        detail = ""
        doc = resp.json()
        if isinstance(doc, dict) and isinstance(doc.get("errors"), list) and doc["errors"]:
            detail = str(doc["errors"][0].get("detail", "")) if isinstance(doc["errors"][0], dict) else ""
        why = tracebacks[-1] if tracebacks else _normalise(detail or problems[0])
        refused = re.search(r"is invalid: \[?([\w.\[\]]+)|is forbidden: ([^\"]{0,40})", problems[-1])
        if refused:
            why = re.sub(r"\d+", "N", refused.group(1) or refused.group(2))
        signature = f"{req.label} | {resp.status} | {problems[0][:60]} | {why}"
        answer = short(resp.body, 600)
        if self.report is None:
            raise AssertionError(
                f"{'; '.join(problems)}\n{req.describe()}\n-> {resp.status} {answer}\n"
                + ("server log:\n" + "\n".join(full[-1:]) if full else "")
            )
        self.counts[signature] = self.counts.get(signature, 0) + 1
        size = len(req.path) + len(req.body or b"")
        known = self.findings.get(signature)
        if known is None or size < len(known.request.path) + len(known.request.body or b""):
            self.findings[signature] = Finding(signature, problems, req, resp.status, answer, full[-1:])
            self._write()

    def _write(self) -> None:
        assert self.report is not None
        rows = [
            {
                "signature": f.signature, "count": self.counts.get(f.signature, 0), "problems": f.problems,
                "request": f.request.as_json(), "status": f.status, "answer": f.answer, "logged": f.logged,
            }
            for f in self.findings.values()
        ]
        self.report.write_text(json.dumps({"requests": self.requests, "findings": rows,
                                           "background": self.background[-200:],
                                           "statuses": dict(sorted(self.statuses.items())),
                                           "samples": dict(sorted(self.samples.items()))}, indent=1))

    def write_report(self) -> None:
        if self.report is not None:
            self._write()

    def drain_background(self) -> None:
        """Log events of work that failed after its 202 (attributed to no single request)."""
        events = self.tap.events
        for e in events[self._background_mark:]:
            name = str(e.get("event"))
            protocol = "aiohttp.http_exceptions." in str(e.get("exception", ""))  # judged per request
            if name in BACKGROUND_EVENTS or (e.get("exception") and name != "unhandled_error" and not protocol):
                self.background.append({k: str(v)[:1500] for k, v in e.items()})
        self._background_mark = len(events)
        if self.report is not None and self.background:
            self._write()


# --- target containers ---------------------------------------------------------------------

ROLES = ("created", "running", "stopped")
MAX_EXTRAS = 4


class Targets:
    """Containers in the states the fuzzer acts on. Fuzzed requests may stop, rename or delete
    them: refresh() replaces a target that is gone or no longer in its state (keeping the old
    one, while it lives, as an 'extra' target)."""

    def __init__(self, client: TestClient[Any, Any], image: str) -> None:
        self.client = client
        self.image = image
        self.role: dict[str, str] = {}
        self.extras: list[str] = []
        self.seen: dict[str, dict[str, Any]] = {}
        self._serial = 0

    async def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None,
        project: str = TARGET_PROJECT,
    ) -> tuple[int, Any]:
        headers = {"OpenStack-API-Version": "container 1.40", "X-Project-Id": project, "X-Roles": "admin"}
        async with asyncio.timeout(REQUEST_TIMEOUT):
            async with self.client.request(method, path, json=body, params=params, headers=headers) as r:
                raw = await r.read()
                try:
                    return r.status, json.loads(raw) if raw else None
                except ValueError:
                    return r.status, raw

    async def _create(self, role: str) -> str:
        self._serial += 1
        command = {
            "created": ["sleep", "3600"],
            "running": ["sleep", "3600"],
            "stopped": ["sh", "-c", "echo out; echo err >&2; exit 3"],
        }[role]
        body = {"image": self.image, "command": command, "name": f"fz-{role}-{self._serial}",
                "interactive": True, "tty": role == "running", "restart_policy": {"Name": "no"}}
        status, doc = await self.call("POST", "/v1/containers", body=body, params={"run": str(role != "created")})
        assert status == 202, (status, doc)
        return str(doc["uuid"])

    @staticmethod
    def _fits(role: str, seen: dict[str, Any]) -> bool:
        status, task = seen.get("status"), seen.get("task_state")
        if status == "Creating" or task is not None:
            return True  # on its way; do not pile up replacements
        return {"created": status == "Created", "running": status in ("Running", "Restarting"),
                "stopped": status == "Stopped"}[role]

    async def refresh(self) -> None:
        status, doc = await self.call("GET", "/v1/containers")
        assert status == 200, (status, doc)
        self.seen = {c["uuid"]: c for c in doc["containers"]}
        for role in ROLES:
            uuid = self.role.get(role)
            current = self.seen.get(uuid) if uuid else None
            if current is None or not self._fits(role, current):
                if current is not None:
                    self.extras.append(str(uuid))
                self.role[role] = await self._create(role)
        self.extras = [u for u in self.extras if u in self.seen]
        while len(self.extras) > MAX_EXTRAS:
            old = self.extras.pop(0)
            await self.call("DELETE", f"/v1/containers/{old}", params={"force": "True"})

    async def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.refresh()
            states = {r: self.seen.get(self.role[r], {}).get("status") for r in ROLES}
            if states == {"created": "Created", "running": "Running", "stopped": "Stopped"}:
                return
            await asyncio.sleep(1)
        raise AssertionError(f"targets not ready after {timeout} s: {self.seen}")

    def resolve(self, token: str) -> str:
        """'@running' -> its uuid; '@running:name' -> its name; '@extra' -> an extra or the running one."""
        base, _, how = token.partition(":")
        role = base.lstrip("@")
        uuid = (self.extras[0] if self.extras else self.role["running"]) if role == "extra" else self.role[role]
        if how == "name":
            return str(self.seen.get(uuid, {}).get("name") or uuid)
        return uuid

    async def mint_exec(self) -> dict[str, Any] | None:
        """An interactive exec session on the running target: its exec_id and proxy_url."""
        status, doc = await self.call(
            "POST", f"/v1/containers/{self.role['running']}/execute",
            params={"command": "echo fuzz", "run": "false"},
        )
        return doc if status == 200 and isinstance(doc, dict) else None

    async def settle_and_delete(self, uuid: str, timeout: float = 8) -> dict[str, Any] | None:
        """Wait for a new container's create task to end (zunk8s names it ``create:<uuid>``);
        return the container's view then, and delete the container."""
        deadline = time.monotonic() + timeout
        view: dict[str, Any] | None = None
        while True:
            running = any(t.get_name() == f"create:{uuid}" and not t.done() for t in asyncio.all_tasks())
            status, doc = await self.call("GET", f"/v1/containers/{uuid}")
            if status == 404:
                return None
            if status == 200 and isinstance(doc, dict):
                view = doc
            if not running or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, _ = await self.call("DELETE", f"/v1/containers/{uuid}", params={"force": "True"})
            if status in (204, 404):
                break
            await asyncio.sleep(0.3)
        return view
