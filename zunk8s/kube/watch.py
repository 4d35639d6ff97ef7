"""List-then-watch informers: a local cache of objects kept current by a watch.

The loop is kopf's continuous_watch: list (remember resourceVersion), watch from it with
bookmarks, and on 410 Gone go back and list again. kubernetes_asyncio's Watch would retry a
410 with the same stale resourceVersion, so it is not used.

Each informer may slim what it caches (``transform``, applied to listed, watched and locally
written objects alike): 10,000 whole Pods held ~800 MB, mostly ``managedFields`` and spec
fields zunk8s never reads. Lists are read in pages, so a fresh replica never holds 10,000
whole objects at once either.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from zunk8s.kube.errors import KubeError
from zunk8s.kube.http import KubeHTTP
from zunk8s.translate import capsules, commit, freeze, stats

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
Handler = Callable[[str, Obj], Awaitable[None] | None]
Key = tuple[str, str]
Transform = Callable[[Obj], Obj]

# Objects per list page: bounds what a (re-)list of 10,000 objects holds whole at once. Smaller
# pages leave less behind too: a fresh replica's RSS for 3,000 containers grew by 43 MiB with
# pages of 500, 24 MiB with 100 (freed pages fragment the heap the slim copies live in).
LIST_PAGE = 100

# What zunk8s reads from a cached Pod, and nothing else (translate/status.py observe_pod; the
# service's Pod work, reconciler and recovery: metadata name, namespace, labels, creation and
# deletion timestamps). Code that starts reading another Pod field must add it here
# (tests/unit/kube/test_watch.py checks observe_pod against whole Pods).
POD_METADATA = ("name", "namespace", "uid", "resourceVersion", "labels", "creationTimestamp", "deletionTimestamp")
# schedulingGates: a capsule whose create was cut short is found by its gate (service/capsules.py).
POD_SPEC = ("nodeName", "restartPolicy", "schedulingGates")
POD_STATUS = ("phase", "reason", "message", "podIP")
POD_CONDITION = ("type", "status", "reason", "message")
POD_CONTAINER_STATUS = ("name", "restartCount", "state", "lastState", "containerID")
# The pause, stats and commit asks and the node agent's answers (translate/freeze.py, stats.py,
# commit.py), and a capsule's record (translate/capsules.py: its policy is written from it): the
# only annotations cached.
OUR_ANNOTATIONS = frozenset({freeze.WANT, freeze.DONE, stats.WANT, stats.DONE, commit.WANT, commit.DONE,
                             capsules.RECORD_ANNOTATION})
# Strings up to this length are interned: label keys and values, phases, node names and
# timestamps repeat across thousands of cached objects (json.loads makes a new copy each time).
_INTERN_MAX = 32


def _compact(value: Any) -> Any:
    """A copy of a JSON value with dict keys and short strings interned (shared between objects)."""
    if isinstance(value, dict):
        return {sys.intern(k): _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, str) and len(value) <= _INTERN_MAX:
        return sys.intern(value)
    return value


def _pick(obj: Obj, fields: Iterable[str]) -> Obj:
    return {k: obj[k] for k in fields if obj.get(k) is not None}


def slim_record(obj: Obj) -> Obj:
    """A ZunContainer record as cached: metadata (without managedFields), spec and status."""
    out: Obj = {"metadata": {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}}
    for part in ("spec", "status"):
        if part in obj:
            out[part] = obj[part]
    result: Obj = _compact(out)
    return result


def slim_pod(obj: Obj) -> Obj:
    """A Pod as cached: only the fields zunk8s reads (see POD_* above)."""
    status = obj.get("status") or {}
    slim_status = _pick(status, POD_STATUS)
    if status.get("conditions"):
        slim_status["conditions"] = [_pick(c, POD_CONDITION) for c in status["conditions"]]
    for key in ("containerStatuses", "initContainerStatuses"):  # init: a failed one is the container's Error
        if status.get(key):
            slim_status[key] = [_pick(c, POD_CONTAINER_STATUS) for c in status[key]]
    metadata = _pick(obj.get("metadata") or {}, POD_METADATA)
    # Only zunk8s's own annotations (pause asks and the node agent's answers), not every tool's.
    ours = {k: v for k, v in ((obj.get("metadata") or {}).get("annotations") or {}).items() if k in OUR_ANNOTATIONS}
    if ours:
        metadata["annotations"] = ours
    out: Obj = {
        "metadata": metadata,
        "spec": _pick(obj.get("spec") or {}, POD_SPEC),
        "status": slim_status,
    }
    result: Obj = _compact(out)
    return result


def _keep(obj: Obj) -> Obj:
    return obj


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class Informer:
    # The transforms the gateway configures its informers with.
    slim_record = staticmethod(slim_record)
    slim_pod = staticmethod(slim_pod)

    def __init__(
        self,
        http: KubeHTTP,
        *,
        path: str,
        label_selector: str,
        name: str,
        transform: Transform | None = None,
        field_selector: str | None = None,
    ) -> None:
        self._http = http
        self._path = path
        self._selector = label_selector
        # e.g. spec.nodeName=<node>: a node agent caches its own node's Pods only.
        self._fields = {"fieldSelector": field_selector} if field_selector else {}
        self.name = name
        self._transform: Transform = transform or _keep
        self.store: dict[Key, Obj] = {}
        self.synced = asyncio.Event()
        self._handlers: list[Handler] = []
        # Watch restarts (errors, 410 re-lists) and when the last event or bookmark arrived
        # (loop time): what /metrics reports as the watch's health and lag.
        self.restarts = 0
        self.last_event_at: float | None = None

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def upsert_local(self, obj: Obj) -> None:
        """Apply an object we just wrote, so this replica reads its own writes at once.

        A watch event with an older resourceVersion never replaces a newer one. The caller's
        object is left as it is (the cache holds a transformed copy)."""
        key = key_of(obj)
        current = self.store.get(key)
        if current is None or _rv(obj) >= _rv(current):
            self.store[key] = self._transform(obj)

    def remove_local(self, key: Key) -> None:
        self.store.pop(key, None)

    async def _emit(self, kind: str, obj: Obj) -> None:
        for handler in self._handlers:
            try:
                result = handler(kind, obj)
                if result is not None:
                    await result
            except Exception:  # one bad handler must not stop the watch
                log.exception("informer_handler_failed", informer=self.name, event=kind)

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                rv = await self._list()
                backoff = 0.2
                await self._watch(rv)
            except asyncio.CancelledError:
                raise
            except KubeError as e:
                log.warning("informer_restart", informer=self.name, error=str(e))
            except Exception:
                log.exception("informer_crashed", informer=self.name)
            self.restarts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _list_pages(self) -> tuple[dict[Key, Obj], str]:
        """Every matching object (transformed), read LIST_PAGE at a time, and the list's
        resourceVersion. An expired continue token (410) fails the whole list: run() lists again."""
        fresh: dict[Key, Obj] = {}
        params: dict[str, str | int | bool | list[str]] = {"labelSelector": self._selector, "limit": LIST_PAGE, **self._fields}
        while True:
            body = await self._http.request("GET", self._path, params=params, timeout=60, wait_for_api=True)
            for item in body.get("items") or []:
                fresh[key_of(item)] = self._transform(item)
            meta = body.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return fresh, str(meta.get("resourceVersion") or "")
            params["continue"] = str(token)

    async def _list(self) -> str:
        fresh, rv = await self._list_pages()
        list_rv = _rv({"metadata": {"resourceVersion": rv}})
        # An object written through this replica (upsert_local) after the list's snapshot is
        # newer than the list: keep it, or a re-list during a burst of creates would drop Pods
        # just made and report them deleted. The watch from ``rv`` brings their later events.
        gone = [k for k, obj in self.store.items() if k not in fresh and not (list_rv and _rv(obj) > list_rv)]
        for k in gone:
            obj = self.store.pop(k)
            await self._emit("DELETED", obj)
        for k, item in fresh.items():
            old = self.store.get(k)
            if old is not None and _rv(old) > _rv(item):
                continue  # a newer local write
            self.store[k] = item
            if old is None or _rv(old) != _rv(item):
                await self._emit("ADDED" if old is None else "MODIFIED", item)
        self.synced.set()
        return rv

    async def _watch(self, rv: str) -> None:
        params: dict[str, str | int | bool | list[str]] = {
            "watch": True,
            "labelSelector": self._selector,
            **self._fields,
            "allowWatchBookmarks": True,
            "timeoutSeconds": 300,
        }
        while True:
            if rv:
                params["resourceVersion"] = rv
            async with self._http.stream(self._path, params=params, read_timeout=330, wait_for_api=True) as resp:
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind = event.get("type")
                    raw = event.get("object") or {}
                    if kind == "ERROR":
                        if raw.get("code") == 410:
                            return  # resourceVersion too old: re-list
                        raise RuntimeError(f"watch error: {raw.get('message')}")
                    rv = str((raw.get("metadata") or {}).get("resourceVersion") or rv)
                    self.last_event_at = asyncio.get_running_loop().time()
                    if kind == "BOOKMARK":
                        continue
                    obj = self._transform(raw)
                    key = key_of(obj)
                    if kind == "DELETED":
                        self.store.pop(key, None)
                    elif kind in ("ADDED", "MODIFIED"):
                        current = self.store.get(key)
                        if current is not None and _rv(current) > _rv(obj):
                            continue  # we already applied a newer write locally
                        self.store[key] = obj
                    else:
                        log.warning("watch_unknown_event", informer=self.name, event=kind)
                        continue
                    await self._emit(kind, obj)


def _rv(obj: Obj) -> int:
    # resourceVersions are opaque by contract; etcd-backed servers use increasing integers,
    # which is all we compare here (and only between versions of one object).
    raw = (obj.get("metadata") or {}).get("resourceVersion") or "0"
    try:
        return int(raw)
    except ValueError:
        return 0
