"""Zun's action log, read and appended (the stored shape and why it lives on the record's
status: translate/actionlog.py).

Actions that claim the record (start, stop, reboot, kill, rebuild, delete, the group and
network changes, create) are logged by service/operations.py: begun in the claim's conditional
write, ended in the task's final write. The others (execute, attach, resize, put_archive,
update and rename, a kill that only signals the process) claim nothing, so each appends itself
once it is done (``recorded``): one status write, a merge patch of its own key, with no
condition to fail on (it cannot overwrite another entry) and without ``updated_at`` (recovery
reads that as "the task moved"; an append is no task's progress).
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import structlog

from zunk8s.clock import now_utc, zun_iso_timestamp
from zunk8s.errors import ResourceNotFound
from zunk8s.kube.errors import KubeError, KubeNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.schemas.params import shown
from zunk8s.service.context import Caller
from zunk8s.service.registry import Entry, Registry
from zunk8s.translate.actionlog import (
    Begun,
    action_detail,
    actions_view,
    begun_entry,
    ended_entry,
    log_patch,
    logged_as,
)
from zunk8s.translate.objects import merge_patch

log = structlog.get_logger(__name__)

Obj = dict[str, Any]


def begun(caller: Caller, verb: str, *, now: datetime | None = None) -> Begun | None:
    """``verb`` (the state table's name for what zunk8s does) as the log begins it for this
    call, or None when Zun's log has no action for it."""
    action = logged_as(verb)
    if action is None:
        return None
    return Begun(
        request_id=caller.request_id,
        action=action,
        user_id=caller.user_id,
        project_id=caller.project_id,
        start_time=zun_iso_timestamp(now or now_utc()),
    )


def failure_text(error: BaseException) -> str:
    """What a failed event keeps as its traceback (shown to admins only)."""
    return "".join(traceback.format_exception(error)).rstrip()


def log_time() -> str:
    return zun_iso_timestamp(now_utc())


class ActionLog:
    def __init__(self, *, gateway: KubeGateway, registry: Registry) -> None:
        self._gw = gateway
        self._registry = registry

    # --- reads ----------------------------------------------------------------------------

    def list(self, entry: Entry) -> list[Obj]:
        """The container's actions, newest first (this replica's view: it may lag another
        replica's writes by the watch's delay, as every list does)."""
        return actions_view(entry.uuid, entry.status.actions)

    async def show(self, entry: Entry, request_id: str, *, show_traceback: bool) -> Obj:
        """One action with its events; an id this replica's cache does not know yet is looked
        up on the API server before it is a 404 (an action just begun through another replica)."""
        found = action_detail(entry.uuid, entry.status.actions, request_id, show_traceback=show_traceback)
        if found is None:
            fresh = await self._registry.fresh(entry.key)
            if fresh is not None:
                found = action_detail(fresh.uuid, fresh.status.actions, request_id, show_traceback=show_traceback)
        if found is None:
            raise ResourceNotFound("Action", shown(request_id))
        return found

    # --- actions that claim nothing -------------------------------------------------------

    @asynccontextmanager
    async def recorded(self, caller: Caller, entry: Entry, verb: str) -> AsyncIterator[None]:
        """Log the work done in the ``async with`` block as ``verb``: begun when the block is
        entered (after the caller's checks, which Zun makes before it logs anything), ended
        when it is left, failed (and the error raised on) when it raises."""
        started = begun(caller, verb)
        if started is None:
            yield
            return
        try:
            yield
        except Exception as e:
            await self.append(entry, started, error=failure_text(e))
            raise
        await self.append(entry, started, error=None)

    async def append(self, entry: Entry, started: Begun, *, error: str | None) -> None:
        """Write one ended action. Its failure is logged, not raised: the action itself is done
        (a command ran), and its client must hear how it went."""
        current = self._registry.entry(entry.key) or entry
        if not current.has_status:
            # A status written now would make an unfinished create look finished to recovery.
            log.warning("action_log_skipped", uuid=entry.uuid, action=started.action, why="the create has not ended")
            return
        item = ended_entry(begun_entry(started), now=log_time(), error=error)
        patch = merge_patch(status={"actions": log_patch(current.status.actions, started.request_id, item)})
        try:
            await self._gw.patch_record(entry.namespace, entry.uuid, patch, status=True)
        except KubeNotFound:
            pass  # deleted meanwhile: its log went with it
        except KubeError as e:
            log.warning("action_log_write_failed", uuid=entry.uuid, action=started.action, error=repr(e))
