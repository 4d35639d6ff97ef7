"""List-then-watch informers: a local cache of objects kept current by a watch.

The loop is kopf's continuous_watch: list (remember resourceVersion), watch from it with
bookmarks, and on 410 Gone go back and list again. kubernetes_asyncio's Watch would retry a
410 with the same stale resourceVersion, so it is not used.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from zunk8s.errors import ZunError
from zunk8s.kube.http import KubeHTTP

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
Handler = Callable[[str, Obj], Awaitable[None] | None]
Key = tuple[str, str]


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class Informer:
    def __init__(self, http: KubeHTTP, *, path: str, label_selector: str, name: str) -> None:
        self._http = http
        self._path = path
        self._selector = label_selector
        self.name = name
        self.store: dict[Key, Obj] = {}
        self.synced = asyncio.Event()
        self._handlers: list[Handler] = []
        self.restarts = 0

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def upsert_local(self, obj: Obj) -> None:
        """Apply an object we just wrote, so this replica reads its own writes at once.

        A watch event with an older resourceVersion never replaces a newer one."""
        key = key_of(obj)
        current = self.store.get(key)
        if current is None or _rv(obj) >= _rv(current):
            self.store[key] = obj

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
            except ZunError as e:
                log.warning("informer_restart", informer=self.name, error=str(e))
            except Exception:
                log.exception("informer_crashed", informer=self.name)
            self.restarts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _list(self) -> str:
        body = await self._http.request("GET", self._path, params={"labelSelector": self._selector}, timeout=60)
        fresh = {key_of(item): item for item in body.get("items") or []}
        gone = [k for k in self.store if k not in fresh]
        for k in gone:
            obj = self.store.pop(k)
            await self._emit("DELETED", obj)
        for k, item in fresh.items():
            old = self.store.get(k)
            self.store[k] = item
            if old is None or _rv(old) != _rv(item):
                await self._emit("ADDED" if old is None else "MODIFIED", item)
        self.synced.set()
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(self, rv: str) -> None:
        params: dict[str, str | int | bool | list[str]] = {
            "watch": True,
            "labelSelector": self._selector,
            "allowWatchBookmarks": True,
            "timeoutSeconds": 300,
        }
        while True:
            if rv:
                params["resourceVersion"] = rv
            async with self._http.stream(self._path, params=params, read_timeout=330) as resp:
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind = event.get("type")
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            return  # resourceVersion too old: re-list
                        raise RuntimeError(f"watch error: {obj.get('message')}")
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if kind == "BOOKMARK":
                        continue
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
