"""The one contract every container action follows (Zun's, kept):

    claim (state table, not busy; task_state set, with the action's first status fields, in
    one conditional write) -> 202 -> background work under the container's lock -> one final
    write: the work's outcome, what the Pod now shows, and task_state cleared.

A new action is a row in service/states.py plus a work function returning its outcome: the
status fields it decided (e.g. ``{"status": "Stopped"}``), or None. The work never clears
task_state itself and never writes its outcome separately: ``finish`` does both in one PATCH,
so no replica ever sees the new status without the task having ended, nor the task ended
with the old status. What the work must write before a step it takes is written then, not in
the outcome: a new Pod's name before the Pod is made (service/podwork.py ``launch``), the
flag that logs were saved before the Pod that had them is deleted.

A forced delete is the one claim allowed while a task runs: a task that finds the record
claimed for deletion leaves it alone (its outcome no longer matters, and clearing
task_state would lose the delete).

Zun's action log rides on the same two writes (translate/actionlog.py): the claim begins the
action (``logged``) and its first event, the final write ends them, Success, or Error with why
when the work raised (``fail``) or left the container in Error. A create, which claims nothing,
begins its action with its first status write and ends it in the same final write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from zunk8s.clock import now_utc, zun_timestamp
from zunk8s.errors import BackendUnavailable, Conflict, ContainerNotFound, ZunError
from zunk8s.kube.errors import KubeConflict, KubeError, KubeNotFound, KubeUnavailable
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import TaskState
from zunk8s.service.actionlog import begun, failure_text, log_time
from zunk8s.service.context import Caller
from zunk8s.service.faults import zun_error
from zunk8s.service.registry import Entry, Registry
from zunk8s.service.states import Action, check_state
from zunk8s.service.tasks import TaskRunner
from zunk8s.state.protocol import LockBusy, LockHandle, StateStore
from zunk8s.translate.actionlog import Begun, begun_entry, ended_entry, is_ended, log_patch, next_event
from zunk8s.translate.objects import merge_patch
from zunk8s.translate.statuschanges import Changes, final_changes

log = structlog.get_logger(__name__)

Work = Callable[[Entry], Awaitable[Changes | None]]


class ActionFailed(Exception):
    """Raised by a task's work when the action failed but the container is as it was (a commit
    the agent could not make): ``changes`` are written as the outcome, and the logged action
    ends with ``detail`` as its error, without the container turning to Error."""

    def __init__(self, detail: str, changes: Changes | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.changes = changes

# A request waits this long for a container's lock (then 409 "busy"); background work, which
# already answered 202, waits much longer: giving up would lose an acknowledged action.
LOCK_WAIT = 5.0
TASK_LOCK_WAIT = 120.0
# While the state store is unreachable, background work retries taking its lock this long
# (then the record keeps its task_state, and recovery re-drives it when the store is back).
TASK_LOCK_RETRY = 30.0
# Conditional task_state writes retried on a resourceVersion conflict (reconciler writes race).
CLAIM_ATTEMPTS = 5
# A claim whose write had no answer is looked for this often, this long, to be undone.
UNDO_RETRY = 0.5
UNDO_WITHIN = 300.0


class Operations:
    def __init__(
        self, *, gateway: KubeGateway, store: StateStore, registry: Registry, tasks: TaskRunner, lock_ttl: float
    ) -> None:
        self._gw = gateway
        self._store = store
        self._registry = registry
        self._tasks = tasks
        self._lock_ttl = lock_ttl
        # Claims whose write got no answer (it may have landed), by container: undone once seen.
        self._unconfirmed: dict[str, _Unconfirmed] = {}

    # --- locks ----------------------------------------------------------------------------

    def lock(self, uuid: str, *, wait: float = LOCK_WAIT) -> AbstractAsyncContextManager[LockHandle]:
        return self._store.lock(uuid, ttl=self._lock_ttl, wait=wait)

    @asynccontextmanager
    async def task_lock(self, uuid: str) -> AsyncIterator[None]:
        """The lock for work already acknowledged: waits long, and retries a state store outage."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TASK_LOCK_RETRY
        delay = 0.2
        async with AsyncExitStack() as stack:
            while True:
                try:
                    await stack.enter_async_context(self.lock(uuid, wait=TASK_LOCK_WAIT))
                    break
                except BackendUnavailable:
                    if loop.time() + delay > deadline:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 3.0)
            yield

    # --- reads and writes -----------------------------------------------------------------

    async def fresh(self, entry: Entry) -> Entry:
        """The record as the API server has it now."""
        fresh = await self._registry.fresh(entry.key)
        if fresh is None:
            raise ContainerNotFound(entry.uuid)
        return fresh

    def cached(self, entry: Entry) -> Entry:
        """The record as this replica has it now (no request): ``entry`` or newer."""
        return self._registry.entry(entry.key) or entry

    async def write(self, entry: Entry, *, if_unchanged: bool = False, **changes: Any) -> Entry:
        """Write status fields. ``if_unchanged``: only if the record is still at ``entry``'s
        resourceVersion (KubeConflict otherwise), for writers that decided from a view that
        may be stale (claims, the reconciler)."""
        changes.setdefault("updated_at", zun_timestamp(now_utc()))
        patch = merge_patch(status=changes, resource_version=entry.resource_version if if_unchanged else None)
        await self._gw.patch_record(entry.namespace, entry.uuid, patch, status=True)
        new = self._registry.entry(entry.key)
        return new if new is not None else entry

    async def write_spec(self, entry: Entry, spec: dict[str, Any], *, labels: dict[str, str | None] | None = None) -> Entry:
        """Write record (spec) fields, and labels that mirror them."""
        spec = {**spec, "updated_at": zun_timestamp(now_utc())}
        await self._gw.patch_record(entry.namespace, entry.uuid, merge_patch(spec=spec, labels=labels))
        return self._registry.entry(entry.key) or entry

    # --- the contract ---------------------------------------------------------------------

    @staticmethod
    def check_not_busy(entry: Entry, action: Action) -> None:
        check_state(action, uuid=entry.uuid, status=entry.status.status)
        if entry.status.task_state is not None:
            raise Conflict(
                f"Container {entry.uuid} is busy ({entry.status.task_state}); try again when it finishes."
            )

    async def begin(
        self, caller: Caller, entry: Entry, action: Action, task_state: TaskState, **status: Any
    ) -> Entry:
        """Claim ``entry`` for ``action``: allowed in its status, no task running; sets
        task_state and ``status`` (e.g. desired), and begins the logged action, in the same
        write."""
        return await self.claim(
            entry,
            lambda current: self.check_not_busy(current, action),
            logged=begun(caller, action),
            task_state=task_state,
            task_request_id=caller.request_id,
            **status,
        )

    async def claim(
        self, entry: Entry, check: Callable[[Entry], None], *, logged: Begun | None = None, **status: Any
    ) -> Entry:
        """Check the record and write ``status`` (and begin ``logged``, Zun's action for this
        call, on its log) as one step across replicas: the write is
        conditional on the resourceVersion that was checked, and on a conflict the check is
        made again on the record as the API server has it. The first try uses this replica's
        cache (a stale one fails the write, or the check, and is then read afresh), so a claim
        costs one request. No lock is waited for: an action on a container whose task runs is
        a 409 at once (the task holds the lock for its whole run). The state store must be up:
        the work after the 202 needs its lock (a 503 now rather than a 202 that stalls)."""
        await self._store.ping()
        current = self.cached(entry)
        checked_fresh = False
        for _ in range(CLAIM_ATTEMPTS):
            pending = self._unconfirmed.get(entry.uuid)
            if pending is not None and current.status.task_request_id == pending.request:
                # The record is busy with a claim this replica answered 503 for: undo it now.
                try:
                    current = await self._undo(current, pending)
                except KubeConflict:
                    current, checked_fresh = await self.fresh(entry), True
                    continue
            try:
                check(current)
            except ZunError:
                if checked_fresh:
                    raise
                current, checked_fresh = await self.fresh(entry), True  # the cache may be behind
                continue
            try:
                return await self.write(current, if_unchanged=True, **status, **self.log_begun(current, logged))
            except KubeConflict:
                # Written meanwhile (another replica, the reconciler): check again.
                current, checked_fresh = await self.fresh(entry), True
            except KubeNotFound:
                raise ContainerNotFound(entry.uuid) from None
            except KubeUnavailable:
                # The write may have landed with only its answer lost. This call answers 503,
                # so a claim that landed must not stay: the container would be busy, and
                # recovery would later do the action the client was told was not done.
                if status.get("task_request_id"):
                    self._unconfirmed[entry.uuid] = _Unconfirmed(before=current, status=dict(status))
                    self._tasks.spawn(self._undo_claim(entry.uuid), name=f"undo-claim:{entry.uuid}")
                raise
        raise Conflict(f"Container {entry.uuid} is changing too fast to act on; try again.")

    async def _undo_claim(self, uuid: str) -> None:
        """Once the API server answers again: if the record holds the claim this replica could
        not confirm, put back what the claim changed (a new claim of this container on this
        replica does so at once, service/operations.py ``claim``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + UNDO_WITHIN
        while loop.time() < deadline:
            await asyncio.sleep(UNDO_RETRY)
            pending = self._unconfirmed.get(uuid)
            if pending is None:
                return  # undone by a claim meanwhile
            try:
                current = await self._registry.fresh(pending.before.key)
                if current is None or current.status.task_request_id != pending.request:
                    self._unconfirmed.pop(uuid, None)
                    return  # it never landed (or it is gone)
                await self._undo(current, pending)
                return
            except (KubeError, ZunError):
                continue  # still unreachable, or changed meanwhile: look again
        self._unconfirmed.pop(uuid, None)
        log.error("claim_not_undone", uuid=uuid)

    async def _undo(self, current: Entry, pending: _Unconfirmed) -> Entry:
        """One conditional write putting back what an unconfirmed claim changed."""
        undo: dict[str, Any] = {k: getattr(pending.before.status, k, None) for k in pending.status}
        undo.update(task_state=None, task_request_id=None)
        if current.status.actions.get(pending.request) is not None:
            undo["actions"] = {pending.request: None}  # no action was done: none is logged
        new = await self.write(current, if_unchanged=True, **undo)
        self._unconfirmed.pop(current.uuid, None)
        log.info("claim_undone", uuid=current.uuid, request_id=pending.request, task_state=pending.status.get("task_state"))
        return new

    def run(self, entry: Entry, name: str, work: Work, *, sync: bool = True, logged: Begun | None = None) -> None:
        """Do ``work`` in the background under the container's lock, then ``finish``.
        ``sync``: merge what the Pod shows into the final write (not for work that removes
        the record). ``logged``: the action to end, when no claim began it on the record (a
        create); otherwise the one the claim (``entry``'s task_request_id) began."""

        async def run() -> None:
            try:
                async with self.task_lock(entry.uuid):
                    # The claim's answer, or newer (the cache keeps the newest version we saw).
                    current = self.cached(entry)
                    try:
                        outcome = await work(current)
                    except ActionFailed as e:
                        await self.finish(entry, e.changes, sync=sync, logged=logged, error=e.detail)
                        return
                    except Exception as e:
                        await self.fail(entry, name, e, logged=logged)
                        return
                    # Still under the lock: the outcome and the task's end are one write, so
                    # no other replica sees the new status with the task still set, or the
                    # old one with the task gone (a second start would replace the new Pod).
                    await self.finish(entry, outcome, sync=sync, logged=logged)
            except (LockBusy, BackendUnavailable) as e:
                # The record keeps its task_state; recovery re-drives the task once no replica
                # holds the lock (README: crash recovery).
                log.error("container_task_not_started", task=name, uuid=entry.uuid, error=e.detail)

        self._tasks.spawn(run(), name=f"{name}:{entry.uuid}")

    async def finish(
        self,
        entry: Entry,
        outcome: Changes | None,
        *,
        sync: bool = True,
        logged: Begun | None = None,
        error: str | None = None,
    ) -> None:
        """The task's last write: ``outcome``, merged over what the record's Pod shows, with
        task_state cleared and the logged action ended (failed with ``error`` when given, or
        when this write turns the container to Error). Conditional on the record this replica
        has, so a write decided on a stale view (a forced delete claimed meanwhile through
        another replica) is decided again. Nothing is written when nothing would change."""
        current = self._registry.entry(entry.key)
        for _ in range(CLAIM_ATTEMPTS):
            if current is None or _deleting_instead(current, entry):
                return
            if sync:
                pod = self._gw.cached_pod(current.namespace, current.status.pod) if current.status.pod else None
                changes = final_changes(current.record, current.status, pod, outcome or {})
            else:
                changes = dict(outcome or {})
            why = error
            if why is None and changes.get("status") == "Error" and current.status.status != "Error":
                why = str(changes.get("status_reason") or current.status.status_reason or "The container went to Error.")
            changes.update(self.log_ended(current, entry, logged, error=why))
            if not changes and current.status.task_state is None:
                return
            try:
                await self.write(current, if_unchanged=True, **changes, task_state=None, task_request_id=None)
                return
            except KubeConflict:
                current = await self._registry.fresh(entry.key)
            except KubeNotFound:
                return  # deleted meanwhile
            except (ZunError, KubeError) as e:
                log.error("task_end_failed", uuid=entry.uuid, error=repr(e))
                return
        log.error("task_end_failed", uuid=entry.uuid, error="the record kept changing")

    async def fail(self, entry: Entry, name: str, error: Exception, *, logged: Begun | None = None) -> None:
        """Leave the reason the task really failed for on the record (and end the task, and
        its logged action with the traceback), and log it in full."""
        text = failure_text(error)
        if isinstance(error, KubeError):
            error = zun_error(error)
        if isinstance(error, ZunError):
            log.warning("container_task_failed", task=name, uuid=entry.uuid, error=error.detail, exc_info=error)
            reason = f"{name} failed: {error.detail}"
        else:
            log.error("container_task_crashed", task=name, uuid=entry.uuid, exc_info=error)
            reason = f"{name} failed: internal error ({type(error).__name__}: {error}); see the zunk8s log"
        current = self._registry.entry(entry.key)
        if current is None or _deleting_instead(current, entry):
            return
        ended = self.log_ended(current, entry, logged, error=text)
        try:
            await self.write(
                current, status="Error", status_reason=reason[:1024], task_state=None, task_request_id=None, **ended
            )
        except KubeNotFound:
            pass
        except (ZunError, KubeError) as e:
            log.error("status_write_failed", uuid=entry.uuid, error=repr(e))


    # --- the action log's part of these writes ----------------------------------------------

    @staticmethod
    def log_begun(current: Entry, logged: Begun | None, *, then: str | None = None) -> dict[str, Any]:
        """The status field that begins ``logged`` on ``current``'s log; with ``then``, its first
        event ended now and ``then`` begun (a create that goes on to start its container)."""
        if logged is None:
            return {}
        item = begun_entry(logged)
        if then is not None:
            item = next_event(item, then, now=log_time())
        return {"actions": log_patch(current.status.actions, logged.request_id, item)}

    @staticmethod
    def log_ended(current: Entry, task: Entry, logged: Begun | None, *, error: str | None) -> dict[str, Any]:
        """The status field that ends the action of ``task`` (``logged``, or the one its claim
        began): nothing when there is none, or it has already ended (a re-driven task)."""
        request_id = logged.request_id if logged is not None else task.status.task_request_id
        if request_id is None:
            return {}
        stored = current.status.actions.get(request_id)
        if not isinstance(stored, dict):
            if logged is None:
                return {}  # begun by a zunk8s without the log, or trimmed away meanwhile
            stored = begun_entry(logged)
        elif is_ended(stored):
            return {}
        item = ended_entry(stored, now=log_time(), error=error)
        return {"actions": log_patch(current.status.actions, request_id, item)}


@dataclass(frozen=True)
class _Unconfirmed:
    """A claim answered 503 because its write got no answer: what it changed, and from what."""

    before: Entry
    status: dict[str, Any]

    @property
    def request(self) -> str:
        return str(self.status["task_request_id"])


def _deleting_instead(current: Entry, task: Entry) -> bool:
    """A forced delete claimed the record while ``task`` ran (its claim is not ``task``'s)."""
    st = current.status
    return st.task_state == "container_deleting" and st.task_request_id != task.status.task_request_id
