"""Crash recovery, Zun's init_containers rule, and the periodic sweep that runs it.

A task_state (or a create with no status yet) left untouched for ``recovery_after`` seconds
with no lock held belongs to a replica that died: an unfinished create ends in Error with a
reason (or adopts the Pod it had made); stop/kill/delete/start/reboot are re-driven. The sweep
also reconciles every task-less record (what a missed Pod event should have done) and deletes
Pods that no record owns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog

from zunk8s.clock import now_utc, seconds_since_kube_time, seconds_since_zun_time
from zunk8s.errors import ContainerNotFound, ZunError
from zunk8s.kube.errors import KubeError
from zunk8s.kube.gateway import Key, KubeGateway
from zunk8s.service.capsules import Capsules
from zunk8s.service.committing import record_image
from zunk8s.service.images import PULL_WAIT
from zunk8s.service.isolation import Isolation
from zunk8s.service.mounts import Mounts
from zunk8s.service.operations import Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import Entry, Registry
from zunk8s.state.protocol import StateStore
from zunk8s.translate import capsules, commit, freeze, images
from zunk8s.translate import labels as L
from zunk8s.translate.statuschanges import Changes, not_running

log = structlog.get_logger(__name__)

# A Pod this young may belong to a record that has not reached this replica's cache yet.
ORPHAN_GRACE_SECONDS = 60.0
# The tasks whose work includes the container's isolation (service/isolation.py).
ISOLATING = ("container_creating", "sg_adding", "sg_removing", "network_attaching", "network_detaching")


class Recovery:
    def __init__(
        self,
        *,
        gateway: KubeGateway,
        ops: Operations,
        pods: PodWork,
        registry: Registry,
        store: StateStore,
        recovery_after: float,
        stop_timeout: int,
        reconcile: Callable[[Key], Awaitable[None]],
        isolation: Isolation,
        mounts: Mounts,
        capsules: Capsules,
    ) -> None:
        self._mounts = mounts
        self._capsules = capsules
        self._gw = gateway
        self._ops = ops
        self._pods = pods
        self._registry = registry
        self._store = store
        self._recovery_after = recovery_after
        self._stop_timeout = stop_timeout
        self._reconcile = reconcile
        self._isolation = isolation

    async def sweep(self, *, now: datetime | None = None) -> None:
        now = now or now_utc()
        for entry in self._registry.all_entries():
            try:
                await self._check(entry, now)
            except (ZunError, KubeError) as e:
                log.warning("recovery_failed", uuid=entry.uuid, error=repr(e))
        await self._delete_orphan_pods(now)
        try:
            await self._capsules.finish_stuck(now)
        except (ZunError, KubeError) as e:
            log.warning("capsule_finish_failed", error=repr(e))
        try:
            await self._isolation.sweep()
        except (ZunError, KubeError) as e:
            log.warning("isolation_sweep_failed", error=repr(e))

    async def _check(self, entry: Entry, now: datetime) -> None:
        st = entry.status
        if not entry.has_status:
            if seconds_since_zun_time(entry.record.created_at, now) < self._recovery_after:
                return
        elif st.task_state is None:
            await self._reconcile(entry.key)
            return
        elif seconds_since_zun_time(st.updated_at, now) < self._recovery_after:
            return
        if await self._store.is_locked(entry.uuid):
            return
        log.info("recovering_container", uuid=entry.uuid, task_state=st.task_state, has_status=entry.has_status)
        await self.recover(entry)

    async def recover(self, entry: Entry) -> None:
        """Finish or undo what a dead replica left half done."""
        async with self._ops.lock(entry.uuid):
            try:
                current = await self._ops.fresh(entry)
            except ContainerNotFound:
                return
            # Another replica may have recovered it while we waited for the lock.
            if current.has_status and (
                current.status.task_state is None or current.status.updated_at != entry.status.updated_at
            ):
                return
            outcome: Changes | None = None
            try:
                outcome = await self._redo(current)
            finally:
                await self._ops.finish(current, outcome)

    async def _redo(self, e: Entry) -> Changes | None:
        task = e.status.task_state
        if not e.has_status or task in ISOLATING:
            # Its policy (and exposed-ports group and Service) may not have been made, or the
            # Pod not relabelled after the record was: done again (each step is idempotent).
            await self._isolation.prepare(e)
            await self._isolation.relabel(e)
        if not e.has_status or task == "container_creating":
            await self._mounts.prepare(e)  # its injected files and new volumes, if not made yet
            pods = self._gw.pods_of(e.namespace, e.uuid)
            if pods:
                meta = pods[0]["metadata"]
                # The dead replica made the Pod: adopt it; its status is what the Pod shows
                # (merged by finish).
                return {
                    "desired": "running",
                    "pod": meta["name"],
                    "generation": int((meta.get("labels") or {}).get(L.GENERATION) or 1),
                }
            return {
                "status": "Error",
                "status_reason": "zunk8s stopped while creating this container; start it or delete it.",
                "desired": "created",
                "pod": None,
            }
        if task in ("container_stopping", "container_killing"):
            return {"desired": "stopped", **await self._pods.stop(e, self._stop_timeout)}
        if task == "container_deleting":
            if e.status.pod is not None:
                await self._gw.delete_pod(e.namespace, e.status.pod, grace_seconds=0)
            await self._gw.delete_record(e.namespace, e.uuid)
            return None
        if task in ("container_pausing", "container_unpausing") and e.status.pod is not None:
            return await self._redo_freeze(e, e.status.pod)
        if task == "container_committing":
            return await self._redo_commit(e)
        if task == "container_rebuilding":
            pod = await self._gw.live_pod(e.namespace, e.status.pod) if e.status.pod is not None else None
            if pod is not None and _made_by(pod) == e.status.task_request_id:
                return None  # the rebuild made its new Pod: what it shows is the outcome
            return {
                "status": "Error",
                "status_reason": "zunk8s stopped while rebuilding this container; rebuild it again, or start it.",
                "desired": "created",
            }
        if task in ("container_starting", "container_rebooting"):
            pod = await self._gw.live_pod(e.namespace, e.status.pod) if e.status.pod is not None else None
            if pod is None or (not_running(pod) and _made_by(pod) != e.status.task_request_id):
                # The start never made its Pod (the record still names the previous, ended one,
                # or a Pod not made yet): make it. A Pod the start made is left as it is, even
                # if it already ended: running the container twice would double the action.
                # Not waiting for it to run: the sweep goes on to the next record.
                return await self._pods.start(e, status=e.status.status, wait=False)
        return None

    async def _redo_freeze(self, e: Entry, pod_name: str) -> Changes | None:
        """A pause / unpause whose replica died: the agent's answer, if it came, is the outcome;
        otherwise the agent is asked to keep (or bring back) what the record says, so the
        container never stays frozen while the record says Running."""
        pod = await self._gw.live_pod(e.namespace, pod_name)
        if pod is None:
            return None
        done = freeze.answer(pod)
        if done is not None and done.request == e.status.task_request_id and done.state is not None:
            paused = done.state == "paused"
            return {"paused": paused, "status": "Paused" if paused else "Running"}
        keep: freeze.State = "paused" if e.status.paused else "running"
        ask = freeze.ask(keep, f"{e.status.task_request_id}-recovered")
        await self._gw.patch_pod(e.namespace, pod_name, {"metadata": {"annotations": {freeze.WANT: ask}}})
        return None

    async def _redo_commit(self, e: Entry) -> Changes | None:
        """A commit whose replica died: the agent's answer, if it came, is the outcome (its image
        recorded); otherwise the outcome is unknown and the user is told to commit again (the
        agent resumes a container it paused whatever happens)."""
        pod = await self._gw.live_pod(e.namespace, e.status.pod) if e.status.pod is not None else None
        ask, done = (commit.wanted(pod), commit.answer(pod)) if pod is not None else (None, None)
        request = e.status.task_request_id
        if ask is not None and done is not None and ask.request == request and done.request == request:
            if done.digest is None:
                return {"status_reason": f"commit failed: {done.error}"}
            await record_image(self._gw, e, ask, done)
            return {"status_reason": None}
        return {"status_reason": "zunk8s stopped while committing this container, and whether the image was "
                                 "made is unknown; commit it again."}

    async def _delete_orphan_pods(self, now: datetime) -> None:
        for (namespace, name), pod in self._gw.cached_pods():
            meta = pod.get("metadata") or {}
            created = meta.get("creationTimestamp")
            if meta.get("deletionTimestamp") or not created or seconds_since_kube_time(created, now) < ORPHAN_GRACE_SECONDS:
                continue  # its record may not have reached this replica's cache yet
            if capsules.CAPSULE_LABEL in (meta.get("labels") or {}):
                continue  # a capsule: its Pod is all of it (service/capsules.py), owned by nothing
            if images.PULL_LABEL in (meta.get("labels") or {}):
                # An image pull's Pod (service/images.py), which its pull removes; one its
                # replica left behind (it died) goes once no pull could still want it.
                if seconds_since_kube_time(created, now) > PULL_WAIT + ORPHAN_GRACE_SECONDS:
                    log.info("deleting_stale_pull_pod", namespace=namespace, pod=name)
                    await self._gw.delete_pod(namespace, name, grace_seconds=0)
                continue
            key = (namespace, str((meta.get("labels") or {}).get(L.UUID)))
            # The record as it is now, not as it was when this sweep began: a sweep over
            # thousands of containers outlasts ORPHAN_GRACE_SECONDS, and the Pods of records
            # created meanwhile are unknown to the sweep's first view.
            if not _orphaned(self._registry.entry(key), name):
                continue
            # And as the API server has it: this replica's record watch may lag its Pod watch.
            if not _orphaned(await self._registry.fresh(key), name):
                continue
            log.info("deleting_orphan_pod", namespace=namespace, pod=name)
            await self._gw.delete_pod(namespace, name, grace_seconds=0)


def _made_by(pod: dict[str, Any]) -> str | None:
    """The request id of the action that made ``pod`` (translate/pods.py), if it says."""
    return ((pod.get("metadata") or {}).get("labels") or {}).get(L.TASK)


def _orphaned(entry: Entry | None, pod: str) -> bool:
    """No record owns ``pod``: none at all, or one settled on another Pod."""
    return entry is None or (entry.status.pod != pod and entry.has_status and entry.status.task_state is None)
