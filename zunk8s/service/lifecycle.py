"""Container lifecycle on Kubernetes, with Zun's contract.

validate -> allowed-state table (409) -> task_state -> 202 -> background work under a
per-container lock -> task_state cleared in ``finally``. Status after that comes from the
Pod watch (see reconciler.py), never from polling.

Stop keeps the Pod (and its logs): the Pod's activeDeadlineSeconds is set, so the kubelet
sends SIGTERM and, after the Pod's grace period, SIGKILL. If the process outlives the
requested timeout, the Pod is deleted at once and its logs are first copied to a ConfigMap.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import structlog

from zunk8s.errors import (
    BackendUnavailable,
    Conflict,
    ContainerNotFound,
    InvalidValue,
    PolicyNotAuthorized,
    ZunError,
)
from zunk8s.kube import crd
from zunk8s.kube.errors import KubeAlreadyExists, KubeConflict, KubeNotFound, KubeRejected
from zunk8s.kube.gateway import KubeGateway, resize_pod
from zunk8s.records import Desired, Record
from zunk8s.schemas.containers import ContainerCreate, ContainerUpdate
from zunk8s.service import creating
from zunk8s.service.context import Caller
from zunk8s.service.logs import archive_logs
from zunk8s.service.registry import Entry, Registry, entry_from_object
from zunk8s.service.states import check_state
from zunk8s.service.tasks import TaskRunner
from zunk8s.settings import Settings
from zunk8s.state.store import LockBusy, StateStore
from zunk8s.translate import labels as L
from zunk8s.translate.names import CONTAINER_NAME, namespace_for, pod_name, project_hash
from zunk8s.translate.pods import (
    Owner,
    PodOptions,
    build_pod,
    build_stop_patch,
    resources,
    retry_limit,
    zunk8s_restarts,
)
from zunk8s.translate.status import now_utc, observe_pod, zun_timestamp

log = structlog.get_logger(__name__)

# A request waits this long for a container's lock (then 409 "busy"); background work, which
# already answered 202, waits much longer: giving up would lose an acknowledged action.
LOCK_WAIT = 5.0
TASK_LOCK_WAIT = 120.0
# While the state store is unreachable, background work retries taking its lock this long
# (then the record keeps its task_state, and recovery re-drives it when the store is back).
TASK_LOCK_RETRY = 30.0
# Conditional task_state writes retried on a resourceVersion conflict (reconciler writes race).
CLAIM_ATTEMPTS = 5


class ContainerService:
    def __init__(
        self, *, gateway: KubeGateway, store: StateStore, settings: Settings, tasks: TaskRunner
    ) -> None:
        self.gw = gateway
        self.store = store
        self.settings = settings
        self.tasks = tasks
        self.registry = Registry(gateway, namespace_prefix=settings.kube.namespace_prefix)
        k = settings.kube
        self.pod_options = PodOptions(
            instance=gateway.instance,
            request_ratio=k.request_ratio,
            stop_timeout=k.stop_timeout,
            node_selector=dict(k.node_selector),
            tolerations=list(k.tolerations),
        )
        self._pod_events: dict[tuple[str, str], asyncio.Event] = {}
        gateway.pods.add_handler(self._wake_pod_waiters)

    # --- helpers ------------------------------------------------------------------------

    def _lock(self, uuid: str, *, wait: float = LOCK_WAIT) -> Any:
        return self.store.lock(uuid, ttl=self.settings.lock_ttl, wait=wait)

    @asynccontextmanager
    async def _task_lock(self, uuid: str) -> AsyncIterator[None]:
        """The lock for work already acknowledged: waits long, and retries a state store outage."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TASK_LOCK_RETRY
        delay = 0.2
        async with AsyncExitStack() as stack:
            while True:
                try:
                    await stack.enter_async_context(self._lock(uuid, wait=TASK_LOCK_WAIT))
                    break
                except BackendUnavailable:
                    if loop.time() + delay > deadline:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 3.0)
            yield

    def _now(self) -> str:
        return zun_timestamp(now_utc())

    def namespace(self, project_id: str) -> str:
        return namespace_for(project_id, self.settings.kube.namespace_prefix)

    async def patch_status(self, entry: Entry, *, if_unchanged: bool = False, **changes: Any) -> Entry:
        """Write status fields. ``if_unchanged``: only if the record is still at ``entry``'s
        resourceVersion (KubeConflict otherwise), for writers that hold no lock and decided
        from a cache that may be stale (the reconciler)."""
        changes.setdefault("updated_at", self._now())
        patch: dict[str, Any] = {"status": changes}
        if if_unchanged:
            patch["metadata"] = {"resourceVersion": entry.resource_version}
        await self.gw.patch_record(entry.namespace, entry.uuid, patch, status=True)
        new = self.registry.entry(entry.key)
        return new if new is not None else entry

    async def _wake_pod_waiters(self, kind: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        event = self._pod_events.get((str(meta.get("namespace")), str(meta.get("name"))))
        if event is not None:
            event.set()

    async def wait_pod(
        self, namespace: str, name: str, done: Callable[[dict[str, Any] | None], bool], timeout: float
    ) -> bool:
        """Wait, driven by watch events, until ``done(pod)`` holds; False on timeout."""
        key = (namespace, name)
        event = self._pod_events.setdefault(key, asyncio.Event())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                event.clear()
                if done(self.gw.cached_pod(namespace, name)):
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, 5.0))
                except TimeoutError:
                    pass
        finally:
            self._pod_events.pop(key, None)

    async def _fresh(self, entry: Entry) -> Entry:
        """The record as the API server has it now (call with the container's lock held)."""
        fresh = await self.registry.fresh(entry.key)
        if fresh is None:
            raise ContainerNotFound(entry.uuid)
        return fresh

    def _begin_checks(self, entry: Entry, action: str) -> None:
        check_state(action, uuid=entry.uuid, status=entry.status.status)
        if entry.status.task_state is not None:
            raise Conflict(
                f"Container {entry.uuid} is busy ({entry.status.task_state}); try again when it finishes."
            )

    async def _start_task(self, entry: Entry, action: str, task_state: str, caller: Caller, **status: Any) -> Entry:
        return await self._claim(
            entry,
            lambda fresh: self._begin_checks(fresh, action),
            task_state=task_state,
            task_request_id=caller.request_id,
            **status,
        )

    async def _claim(self, entry: Entry, check: Callable[[Entry], None], **status: Any) -> Entry:
        """Check the record as the API server has it and set its task_state, as one step across
        replicas: the write is conditional on the resourceVersion that was checked, and on a
        conflict the check is made again on the newer record. No lock is waited for, so an
        action on a container whose task is running is a 409 at once (the background work
        holds the container's lock for the whole operation). The state store must be up: the
        work that follows the 202 needs its lock (503 now rather than a 202 that stalls)."""
        await self.store.ping()
        for _ in range(CLAIM_ATTEMPTS):
            fresh = await self._fresh(entry)
            check(fresh)
            try:
                return await self.patch_status(fresh, if_unchanged=True, **status)
            except KubeConflict:
                continue  # written meanwhile (another replica, the reconciler): check again
        raise Conflict(f"Container {entry.uuid} is changing too fast to act on; try again.")

    def _spawn(self, entry: Entry, name: str, work: Callable[[Entry], Any]) -> None:
        async def run() -> None:
            try:
                async with self._task_lock(entry.uuid):
                    try:
                        current = await self._fresh(entry)
                    except ContainerNotFound:
                        return  # deleted meanwhile
                    failed = False
                    try:
                        await work(current)
                    except Exception as e:
                        failed = True
                        await self._fail_task(entry, name, e)
                    # Still under the lock: the task_state is cleared in the same write as the
                    # status the work left, so no other replica sees the old status without a
                    # task (a second start would pass the state check and replace the new Pod).
                    await self._end_task(entry, sync=not failed)
            except (LockBusy, BackendUnavailable) as e:
                # The record keeps its task_state; recovery re-drives the task once no replica
                # holds the lock (README: crash recovery).
                log.error("container_task_not_started", task=name, uuid=entry.uuid, error=e.detail)

        self.tasks.spawn(run(), name=f"{name}:{entry.uuid}")

    async def _end_task(self, entry: Entry, *, sync: bool = True) -> None:
        current = self.registry.entry(entry.key)
        if current is None:
            return
        changes = self._pod_changes(current) if sync else None
        if changes is None and current.status.task_state is None:
            return
        try:
            await self.patch_status(current, **(changes or {}), task_state=None, task_request_id=None)
        except KubeNotFound:
            pass
        except ZunError:
            log.exception("task_end_failed", uuid=entry.uuid)

    def _pod_changes(self, entry: Entry) -> dict[str, Any] | None:
        """What the current Pod (in the cache) says the status should be; None if nothing to change."""
        st = entry.status
        if st.pod is None:
            return None
        pod = self.gw.cached_pod(entry.namespace, st.pod)
        if pod is None:
            if st.desired == "running" and st.status not in ("Stopped", "Error", "Deleting"):
                return {
                    "status": "Error",
                    "status_reason": f"Pod {st.pod} was deleted outside zunk8s; start the container again.",
                    "pod_ip": None,
                }
            return None
        obs = observe_pod(pod)
        changes: dict[str, Any] = {
            "status": obs.status,
            "host": obs.host,
            "pod_ip": obs.pod_ip if obs.status == "Running" else None,
            "started_at": obs.started_at,
            "finished_at": obs.finished_at,
            "exit_code": obs.exit_code,
            # on-failure:N counts the Pods zunk8s made; otherwise the kubelet counts in the Pod.
            "restart_count": st.restart_count if zunk8s_restarts(entry.record) else obs.restart_count,
        }
        # A reason we wrote (e.g. a stop-timeout kill or a retry limit) outlives the Pod's own.
        if obs.reason is not None or obs.status not in ("Stopped",):
            changes["status_reason"] = obs.reason
        if zunk8s_restarts(entry.record) and st.desired == "running":
            # on-failure:N: Restarting between a failed run and the next one's start, as Docker
            # shows it (restart_after_failure makes the next Pod); after N retries, Stopped.
            limit = retry_limit(entry.record)
            failed = obs.status == "Stopped" and bool(obs.exit_code)
            if failed and st.restart_count >= limit:
                changes.update(desired="stopped", status_reason=f"maximum retry count {limit} reached")
            elif failed or (obs.status == "Creating" and st.restart_count > 0):
                changes["status"] = "Restarting"
        current = st.model_dump()
        if all(current.get(k) == v for k, v in changes.items()):
            return None
        return changes

    async def sync_from_pod(self, entry: Entry, *, reason: str | None = None) -> Entry:
        """Write what the current Pod shows into the record's status (when no task owns it).

        Called without the container's lock (by the reconciler), so the write only lands if
        the record has not changed since ``entry`` was read; on a conflict the fresh record is
        read and the decision taken again. A Pod missing from the cache is looked up on the
        API server before the record says it was deleted. ``reason``: why the container
        ended, when the caller knows better than the Pod (a healthcheck kill)."""
        for _ in range(3):
            if entry.status.task_state is not None:
                return entry
            changes = self._pod_changes(entry)
            if changes is None:
                return entry
            if reason is not None:
                changes["status_reason"] = reason
            pod = entry.status.pod
            if pod is not None and self.gw.cached_pod(entry.namespace, pod) is None:
                if await self.gw.live_pod(entry.namespace, pod) is not None:
                    continue  # the cache lagged: the Pod is there now (and cached); decide again
                if entry.record.auto_heal:
                    await self.heal(entry)
                    return entry
            try:
                return await self.patch_status(entry, if_unchanged=True, **changes)
            except KubeConflict:
                fresh = await self.registry.fresh(entry.key)
                if fresh is None:
                    return entry
                entry = fresh
        return entry

    async def _fail_task(self, entry: Entry, name: str, error: Exception) -> None:
        """Leave the reason the task really failed for on the record, and log it in full."""
        if isinstance(error, ZunError):
            log.warning("container_task_failed", task=name, uuid=entry.uuid, error=error.detail, exc_info=error)
            reason = f"{name} failed: {error.detail}"
        else:
            log.error("container_task_crashed", task=name, uuid=entry.uuid, exc_info=error)
            reason = f"{name} failed: internal error ({type(error).__name__}: {error}); see the zunk8s log"
        current = self.registry.entry(entry.key)
        if current is None:
            return
        try:
            await self.patch_status(current, status="Error", status_reason=reason[:1024], task_state=None)
        except ZunError:
            log.exception("status_write_failed", uuid=entry.uuid)

    # --- create -------------------------------------------------------------------------

    async def create(self, caller: Caller, spec: ContainerCreate, *, run: bool) -> Entry:
        creating.check_create_policy(caller, spec)
        creating.check_supported(spec)
        uuid = str(uuidlib.uuid4())
        # Taken (and let go) before anything is written: with the state store down, the create
        # is refused with a 503 here, instead of acknowledged and then failing.
        async with self._lock(uuid):
            entry = await self._write_record(caller, spec, uuid)
        self._spawn(entry, "create", lambda e: self._finish_create(e, run))
        return entry

    async def _write_record(self, caller: Caller, spec: ContainerCreate, uuid: str) -> Entry:
        record = creating.build_record(caller, spec, uuid=uuid, now=self._now())
        namespace = self.namespace(caller.project_id)
        phash = project_hash(caller.project_id)
        await self.gw.ensure_namespace(namespace, project_id=caller.project_id, project_hash=phash)
        labels = L.owner_labels(uuid=uuid, project_hash=phash, instance=self.gw.instance)
        if L.is_valid_label_value(record.name):
            labels[L.NAME] = record.name
        spec_body = record.model_dump(mode="json")
        try:
            await self._check_pod(record, namespace)
            obj = await self.gw.create_record(namespace, uuid, spec=spec_body, labels=labels)
        except KubeNotFound:
            # The namespace was deleted behind our back since we last made it: make it again.
            self.gw.forget_namespace(namespace)
            await self.gw.ensure_namespace(namespace, project_id=caller.project_id, project_hash=phash)
            await self._check_pod(record, namespace)
            obj = await self.gw.create_record(namespace, uuid, spec=spec_body, labels=labels)
        entry = self.registry.entry((namespace, uuid))
        return entry if entry is not None else entry_from_object(obj)

    async def _check_pod(self, record: Record, namespace: str) -> None:
        """Zun's schema lets through values Kubernetes refuses in a Pod (an environment
        variable named "A=B", an image with a trailing space, an availability zone that is no
        label value, a runtime the cluster has no RuntimeClass for...). The API server is
        asked (a dry run) before the record is written, so such a create is a 400 that says
        why, never a 202 and then an Error."""
        manifest = build_pod(
            record,
            name=pod_name(record.uuid, 1),
            namespace=namespace,
            project_hash=project_hash(record.project_id),
            generation=1,
            options=self.pod_options,
            owner=None,
        )
        try:
            await self.gw.dry_run_pod(manifest)
        except KubeRejected as e:
            raise InvalidValue(f"Kubernetes would refuse this container: {e.kube_message}") from None

    async def _finish_create(self, entry: Entry, run: bool) -> None:
        if run:
            # task_state marks the window in which the record names a Pod that may not exist
            # yet; recovery treats it as an unfinished create.
            await self._launch_pod(entry, status="Creating", task_state="container_creating")
        else:
            await self.patch_status(entry, status="Created", desired="created", status_reason=None)

    # --- start / stop / reboot / kill ---------------------------------------------------

    async def _launch_pod(
        self,
        entry: Entry,
        *,
        status: str,
        task_state: str | None = None,
        restart_count: int = 0,
        reason: str | None = None,
    ) -> Entry:
        """Create the next generation's Pod from the record and point the status at it."""
        generation = entry.status.generation + 1
        name = pod_name(entry.uuid, generation)
        # Record the new Pod before creating it, so a crash in between leaves a record that
        # names its Pod (recovery adopts it or marks the record Error).
        entry = await self.patch_status(
            entry,
            status=status,
            status_reason=reason,
            desired="running",
            pod=name,
            generation=generation,
            exit_code=None,
            started_at=None,
            finished_at=None,
            restart_count=restart_count,
            **self._task_fields(task_state),
        )
        manifest = build_pod(
            entry.record,
            name=name,
            namespace=entry.namespace,
            project_hash=project_hash(entry.record.project_id),
            generation=generation,
            options=self.pod_options,
            owner=Owner(api_version=crd.API_VERSION, kind=crd.KIND, name=entry.uuid, uid=entry.uid),
        )
        try:
            await self.gw.create_pod(manifest)
        except KubeAlreadyExists:
            pass
        except KubeRejected as e:
            # e.g. an image name Kubernetes refuses, or a LimitRange / quota in the namespace.
            return await self.patch_status(entry, status="Error", status_reason=e.detail)
        return entry

    @staticmethod
    def _task_fields(task_state: str | None) -> dict[str, Any]:
        return {"task_state": task_state} if task_state else {}

    async def start(self, caller: Caller, entry: Entry) -> None:
        entry = await self._start_task(entry, "start", "container_starting", caller)
        self._spawn(entry, "start", self._do_start)

    async def _do_start(self, entry: Entry) -> None:
        entry = await self._retire_pod(entry)
        await self._launch_pod(entry, status=entry.status.status)

    async def _retire_pod(self, entry: Entry) -> Entry:
        """Remove a previous generation's (already stopped) Pod, keeping its logs."""
        if entry.status.pod is None:
            return entry
        name = entry.status.pod
        if await self.gw.live_pod(entry.namespace, name) is not None:
            entry = await self._save_logs(entry, name)
            await self.gw.delete_pod(entry.namespace, name, grace_seconds=0)
        return entry

    async def _save_logs(self, entry: Entry, pod: str) -> Entry:
        if await archive_logs(self.gw, entry, pod) and not entry.status.logs_saved:
            return await self.patch_status(entry, logs_saved=True)
        return entry

    async def stop(self, caller: Caller, entry: Entry, *, timeout: int | None) -> None:
        entry = await self._start_task(entry, "stop", "container_stopping", caller)
        wait = self._stop_wait(timeout)
        self._spawn(entry, "stop", lambda e: self._do_stop(e, wait))

    def _stop_wait(self, timeout: int | None) -> int:
        # The kubelet's SIGKILL comes after the Pod's grace period, fixed when the Pod was made.
        grace = self.settings.kube.stop_timeout
        return grace if timeout is None else min(timeout, grace)

    async def _do_stop(self, entry: Entry, wait: int, *, desired: Desired = "stopped") -> Entry:
        entry = await self.patch_status(entry, desired=desired)
        name = entry.status.pod
        if name is None or await self.gw.live_pod(entry.namespace, name) is None:
            return await self.patch_status(entry, status="Stopped")
        try:
            await self.gw.patch_pod(entry.namespace, name, build_stop_patch())
        except KubeNotFound:
            return await self.patch_status(entry, status="Stopped")
        stopped = await self.wait_pod(entry.namespace, name, _not_running, timeout=wait + 2)
        if not stopped:
            # The process ignored SIGTERM for the whole timeout (PID 1 ignores it unless it
            # installs a handler): kill now, as `docker stop -t N` does.
            await self._kill_pod(entry, name, reason=f"killed after the {wait} s stop timeout")
        current = self.registry.entry(entry.key) or entry
        return await self.patch_status(current, status="Stopped")

    async def _kill_pod(self, entry: Entry, name: str, *, reason: str | None) -> None:
        await self._save_logs(entry, name)
        await self.gw.delete_pod(entry.namespace, name, grace_seconds=0)
        killed_at = now_utc().isoformat().replace("+00:00", "Z")
        # Stopped is written once the Pod is gone, as the task's last step: a client that sees
        # Stopped and acts at once must not meet the task still running (409 "busy").
        await self.wait_pod(entry.namespace, name, lambda p: p is None, timeout=30)
        current = self.registry.entry(entry.key) or entry
        await self.patch_status(current, status="Stopped", status_reason=reason, exit_code=137, finished_at=killed_at)

    async def reboot(self, caller: Caller, entry: Entry, *, timeout: int | None) -> None:
        entry = await self._start_task(entry, "reboot", "container_rebooting", caller, status="Restarting")
        wait = self._stop_wait(timeout)

        self._spawn(entry, "reboot", lambda e: self._restart(e, wait))

    async def _restart(self, e: Entry, wait: int) -> None:
        """Stop the current Pod (if it runs), keep its logs, and start the next one."""
        if e.status.pod is not None and not _not_running(await self.gw.live_pod(e.namespace, e.status.pod)):
            e = await self._do_stop(e, wait, desired="running")
        e = await self._retire_pod(e)
        await self._launch_pod(e, status="Restarting")

    async def kill(self, caller: Caller, entry: Entry, *, name: str) -> None:
        """KILL and TERM end the container; other signals go through commands.send_signal."""
        entry = await self._start_task(entry, "kill", "container_killing", caller)

        async def work(e: Entry) -> None:
            e = await self.patch_status(e, desired="stopped")
            if e.status.pod is None:
                return
            if name == "KILL":
                await self._kill_pod(e, e.status.pod, reason=None)
            else:
                await self._do_stop(e, self.settings.kube.stop_timeout)

        self._spawn(entry, "kill", work)

    # --- what the reconciler asks for ----------------------------------------------------

    async def restart_after_failure(self, entry: Entry) -> None:
        """restart_policy on-failure:N: the run ended with a non-zero exit code and has been
        retried fewer than N times: run the container again in a new Pod, keeping the logs of
        the run that ended."""
        limit = retry_limit(entry.record)
        async with self._lock(entry.uuid):
            fresh = await self._fresh(entry)
            st = fresh.status
            pod = self.gw.cached_pod(fresh.namespace, st.pod) if st.pod else None
            if st.task_state is not None or st.desired != "running" or st.pod != entry.status.pod or pod is None:
                return  # someone acted meanwhile
            obs = observe_pod(pod)
            if not obs.terminal or not obs.exit_code or st.restart_count >= limit:
                return  # the limit is written with the last run's status (_pod_changes)
            fresh = await self.patch_status(fresh, task_state="container_rebooting", status="Restarting")
        count = st.restart_count + 1

        async def work(e: Entry) -> None:
            e = await self._retire_pod(e)
            await self._launch_pod(e, status="Restarting", restart_count=count)

        self._spawn(fresh, "restart", work)

    async def heal(self, entry: Entry) -> None:
        """auto_heal (Zun: a container missing from the runtime is made again): the running
        container's Pod is gone, so a new one is made from the record."""
        async with self._lock(entry.uuid):
            fresh = await self._fresh(entry)
            st = fresh.status
            if (
                st.task_state is not None
                or st.desired != "running"
                or st.pod is None
                or await self.gw.live_pod(fresh.namespace, st.pod) is not None
            ):
                return
            gone = st.pod
            fresh = await self.patch_status(fresh, task_state="container_starting")
        log.info("auto_heal", uuid=entry.uuid, pod=gone)

        async def work(e: Entry) -> None:
            await self._launch_pod(
                e, status="Creating", reason=f"Pod {gone} was deleted outside zunk8s; auto_heal made a new one."
            )

        self._spawn(fresh, "heal", work)

    # --- delete -------------------------------------------------------------------------

    async def delete(self, caller: Caller, entry: Entry, *, force: bool, stop: bool) -> None:
        if stop:
            action = "delete_after_stop"
        elif force:
            if not caller.is_admin:
                raise PolicyNotAuthorized("container:delete_force")
            action = "delete_force"
        else:
            action = "delete"

        def check(fresh: Entry) -> None:
            if force:  # a forced delete goes ahead while a task runs
                check_state(action, uuid=fresh.uuid, status=fresh.status.status)
            else:
                self._begin_checks(fresh, action)

        fresh = await self._claim(entry, check, status="Deleting", task_state="container_deleting")
        grace = 0 if force else None

        async def work(e: Entry) -> None:
            if e.status.pod is not None and await self.gw.live_pod(e.namespace, e.status.pod) is not None:
                await self.gw.delete_pod(e.namespace, e.status.pod, grace_seconds=grace)
            await self.gw.delete_record(e.namespace, e.uuid)

        self._spawn(fresh, "delete", work)

    # --- rename / update ----------------------------------------------------------------

    async def rename(self, entry: Entry, name: str) -> Entry:
        if name == entry.record.name:
            raise Conflict("The new name for the container is the same as the old name.")
        return await self._patch_record(entry, {"name": name})

    async def _patch_record(self, entry: Entry, spec_changes: dict[str, Any]) -> Entry:
        spec_changes = {**spec_changes, "updated_at": self._now()}
        patch: dict[str, Any] = {"spec": spec_changes}
        if "name" in spec_changes:
            name = spec_changes["name"]
            patch["metadata"] = {"labels": {L.NAME: name if L.is_valid_label_value(name) else None}}
        await self.gw.patch_record(entry.namespace, entry.uuid, patch)
        return self.registry.entry(entry.key) or entry

    async def update(self, caller: Caller, entry: Entry, changes: ContainerUpdate) -> Entry:
        async with self._lock(entry.uuid):
            entry = await self._fresh(entry)
            check_state("update", uuid=entry.uuid, status=entry.status.status)
            spec: dict[str, Any] = {}
            if changes.name is not None:
                spec["name"] = changes.name
            if changes.auto_heal is not None:
                spec["auto_heal"] = changes.auto_heal
            if changes.cpu is not None:
                spec["cpu"] = changes.cpu
            if changes.memory is not None:
                spec["memory"] = changes.memory
            if not spec:
                return entry
            entry = await self._patch_record(entry, spec)
            resized = changes.cpu is not None or changes.memory is not None
            if resized and entry.status.pod and entry.status.status == "Running":
                await self._resize_running(entry, changes)
            return self.registry.entry(entry.key) or entry

    async def _resize_running(self, entry: Entry, changes: ContainerUpdate) -> None:
        """In-place Pod resize (pods/resize, Kubernetes 1.33+); otherwise a documented restart."""
        assert entry.status.pod is not None
        res = resources(cpu=changes.cpu, memory=changes.memory, ratio=self.pod_options.request_ratio)
        patch = {"spec": {"containers": [{"name": CONTAINER_NAME, "resources": res}]}}
        try:
            await resize_pod(self.gw, entry.namespace, entry.status.pod, patch)
            return
        except (KubeRejected, KubeNotFound) as e:
            log.info("inplace_resize_unavailable", uuid=entry.uuid, error=e.detail)
        # Fallback: a new Pod with the new resources (the writable layer does not survive).
        entry = await self.patch_status(entry, task_state="container_rebooting")
        self._spawn(entry, "resize-restart", lambda e: self._restart(e, self.settings.kube.stop_timeout))

    # --- recovery -----------------------------------------------------------------------

    async def recover(self, entry: Entry) -> None:
        """Finish or undo what a dead replica left half done (Zun's init_containers rule)."""
        async with self._lock(entry.uuid):
            try:
                current = await self._fresh(entry)
            except ContainerNotFound:
                return
            # Another replica may have recovered it while we waited for the lock.
            if current.has_status and (
                current.status.task_state is None or current.status.updated_at != entry.status.updated_at
            ):
                return
            try:
                await self._recover_locked(current)
            finally:
                await self._end_task(current)

    async def _recover_locked(self, e: Entry) -> None:
        task = e.status.task_state
        if not e.has_status or task == "container_creating":
            pods = [
                p for p in self.gw.pods.store.values()
                if (p.get("metadata") or {}).get("namespace") == e.namespace
                and ((p.get("metadata") or {}).get("labels") or {}).get(L.UUID) == e.uuid
            ]
            if pods:
                meta = pods[0]["metadata"]
                # The dead replica made the Pod: adopt it; the watch gives its status.
                await self.patch_status(
                    e,
                    status="Creating",
                    desired="running",
                    pod=meta["name"],
                    generation=int((meta.get("labels") or {}).get(L.GENERATION) or 1),
                    task_state=None,
                )
            else:
                await self.patch_status(
                    e,
                    status="Error",
                    status_reason="zunk8s stopped while creating this container; start it or delete it.",
                    desired="created",
                    pod=None,
                    task_state=None,
                )
        elif task in ("container_stopping", "container_killing"):
            await self._do_stop(e, self.settings.kube.stop_timeout)
        elif task == "container_deleting":
            if e.status.pod is not None:
                await self.gw.delete_pod(e.namespace, e.status.pod, grace_seconds=0)
            await self.gw.delete_record(e.namespace, e.uuid)
        elif task in ("container_starting", "container_rebooting"):
            if e.status.pod is None or await self.gw.live_pod(e.namespace, e.status.pod) is None:
                await self._retire_pod(e)
                await self._launch_pod(e, status=e.status.status)

def _not_running(pod: dict[str, Any] | None) -> bool:
    if pod is None:
        return True
    return observe_pod(pod).status not in ("Running", "Creating")
