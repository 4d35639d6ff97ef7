"""Keeps records true to their Pods, enforces what Kubernetes does not, and recovers after a crash.

* Pod watch events -> record status (``ContainerService.sync_from_pod``).
* restart_policy ``on-failure:N``: zunk8s runs a failed container again in a new Pod, N times
  (translate/pods.py ``zunk8s_restarts``); ``auto_remove`` deletes a container that exited;
  a container killed for a failing healthcheck says so in ``status_reason``; ``auto_heal``
  makes a new Pod for a running container whose Pod vanished.
* Only the leading replica of an installation does this (a renewed lock in the state
  store); a replica that owns a task still syncs that container when the task ends.
* Start-up and periodic recovery, Zun's init_containers rule: an unfinished create ends in
  Error with a reason (or adopts the Pod it had made); other unfinished tasks are re-driven;
  Pods that no record owns are deleted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import structlog

from zunk8s.cancellation import cancel_and_wait
from zunk8s.errors import ZunError
from zunk8s.service.lifecycle import ContainerService
from zunk8s.service.registry import Entry
from zunk8s.state.store import LockBusy
from zunk8s.translate import labels as L
from zunk8s.translate.pods import zunk8s_restarts
from zunk8s.translate.status import observe_pod

log = structlog.get_logger(__name__)

ORPHAN_GRACE_SECONDS = 60.0


def _pod_age(meta: dict[str, Any]) -> float:
    created = meta.get("creationTimestamp")
    if not created:
        return 0.0
    moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    return (datetime.now(timezone.utc) - moment).total_seconds()


def _age_seconds(zun_time: str | None, now: datetime) -> float:
    if not zun_time:
        return float("inf")
    try:
        moment = datetime.strptime(zun_time, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    except ValueError:
        return float("inf")
    return (now - moment).total_seconds()


class Reconciler:
    # Status writes run beside the watch, not inside it: a burst of Pod events (1,000 Pods
    # starting) must not queue behind one PATCH each. Events for one container coalesce.
    CONCURRENCY = 16

    def __init__(self, service: ContainerService) -> None:
        self.svc = service
        self.gw = service.gw
        self._enforcing: set[str] = set()
        self._dirty: set[tuple[str, str]] = set()
        self._working: set[tuple[str, str]] = set()
        self._slots = asyncio.Semaphore(self.CONCURRENCY)
        self.leader = False
        self.gw.pods.add_handler(self.on_pod_event)

    def on_pod_event(self, kind: str, pod: dict[str, Any]) -> None:
        if not self.leader:
            return
        meta = pod.get("metadata") or {}
        uuid = (meta.get("labels") or {}).get(L.UUID)
        if not uuid:
            return
        key = (str(meta.get("namespace")), str(uuid))
        self._dirty.add(key)
        if key not in self._working:
            self._working.add(key)
            self.svc.tasks.spawn(self._work(key), name=f"reconcile:{uuid}")

    async def _work(self, key: tuple[str, str]) -> None:
        try:
            while key in self._dirty:
                self._dirty.discard(key)
                async with self._slots:
                    await self._reconcile(key)
        finally:
            self._working.discard(key)

    async def _reconcile(self, key: tuple[str, str]) -> None:
        entry = self.svc.registry.entry(key)
        if entry is None or entry.status.pod is None:
            return  # an orphan Pod (the sweep removes it) or no current Pod
        try:
            pod = self.gw.cached_pod(entry.namespace, entry.status.pod)
            reason = await self._healthcheck_kill(entry, pod) if pod is not None else None
            entry = await self.svc.sync_from_pod(entry, reason=reason)
            pod = self.gw.cached_pod(entry.namespace, str(entry.status.pod))
            if pod is not None:
                await self._enforce_policies(entry, pod)
        except ZunError as e:
            log.warning("reconcile_failed", uuid=entry.uuid, error=e.detail)

    async def _enforce_policies(self, entry: Entry, pod: dict[str, Any]) -> None:
        if entry.status.task_state is not None or entry.uuid in self._enforcing:
            return
        obs = observe_pod(pod)
        if not obs.terminal or entry.status.desired != "running":
            return
        self._enforcing.add(entry.uuid)
        try:
            if entry.record.auto_remove:
                await self.svc.patch_status(entry, status="Deleted")
                await self.gw.delete_record(entry.namespace, entry.uuid)
            elif zunk8s_restarts(entry.record) and obs.exit_code:
                await self.svc.restart_after_failure(entry)
        finally:
            self._enforcing.discard(entry.uuid)

    async def _healthcheck_kill(self, entry: Entry, pod: dict[str, Any]) -> str | None:
        """Why a container with a healthcheck ended, when the kubelet killed it for failing its
        liveness probe: the Pod does not say so, its events do. Asked once, when the end is
        first seen (the record does not say Stopped yet): the reason is written with it."""
        st = entry.status
        if not entry.record.healthcheck or st.desired != "running" or st.status_reason or st.status == "Stopped":
            return None
        obs = observe_pod(pod)
        if not obs.terminal or not obs.exit_code:
            return None
        name = str((pod.get("metadata") or {}).get("name"))
        events = await self.gw.pod_events(entry.namespace, name)
        # The kubelet's words: "Unhealthy" / "Liveness probe failed: <output>", then "Killing"
        # ("Stopping container main" under restartPolicy Never, "... failed liveness probe, will
        # be restarted" otherwise). zunk8s never stops a container it wants running this way.
        failures = [
            str(e.get("message") or "")
            for e in events
            if e.get("reason") == "Unhealthy" and str(e.get("message") or "").startswith("Liveness probe failed")
        ]
        killed = any(e.get("reason") == "Killing" for e in events)
        if not failures or not killed:
            return None
        return f"healthcheck failed, so the kubelet killed the container ({failures[-1].strip()[:300]})"

    # --- recovery -----------------------------------------------------------------------

    async def run(self) -> None:
        """Lead or wait: one replica per installation reconciles (a lock in the state store,
        renewed while held); the others serve requests and take over when it dies. A leader
        whose lock is lost (Redis flushed or restarted, or renewals failing for a whole TTL)
        stops leading at once, since another replica may already lead, and tries again later."""
        await self.gw.records.synced.wait()
        await self.gw.pods.synced.wait()
        interval = self.svc.settings.sweep_interval
        key = f"leader-{self.gw.instance}"

        async def sweep_forever() -> None:
            while True:
                # The first sweep also catches up with what happened while following.
                await self.sweep()
                await asyncio.sleep(interval)

        while True:
            try:
                # One quick try, then our own sleep: a cancelled wait inside redis-py's blocking
                # lock acquisition can hang shutdown.
                async with self.svc.store.lock(key, ttl=self.svc.settings.lock_ttl, wait=0) as held:
                    self.leader = True
                    log.info("reconciler_leading", instance=self.gw.instance)
                    sweeping = asyncio.create_task(sweep_forever(), name="reconciler:sweep")
                    lost = asyncio.create_task(held.lost.wait(), name="reconciler:lock-lost")
                    try:
                        await asyncio.wait((sweeping, lost), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        self.leader = False
                        errors = await cancel_and_wait(sweeping, lost)
                    if errors and not held.lost.is_set():
                        raise errors[0]  # the sweep failed
                log.warning("reconciler_lost_leadership", instance=self.gw.instance)
                await asyncio.sleep(interval)
            except asyncio.CancelledError:
                raise
            except LockBusy:
                await asyncio.sleep(interval)  # another replica leads
            except ZunError as e:  # the state store (Redis) or Kubernetes is unavailable
                log.warning("reconciler_paused", error=e.detail)
                await asyncio.sleep(interval)
            except Exception:
                log.exception("reconciler_failed")
                await asyncio.sleep(interval)
            finally:
                self.leader = False

    async def sweep(self, *, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        entries = self.svc.registry.all_entries()
        for entry in entries:
            try:
                await self._recover(entry, now)
            except ZunError as e:
                log.warning("recovery_failed", uuid=entry.uuid, error=e.detail)
        await self._delete_orphan_pods()

    async def _recover(self, entry: Entry, now: datetime) -> None:
        st = entry.status
        # A task_state (or a create with no status yet) untouched this long, with no lock
        # held, belongs to a replica that died.
        stale = self.svc.settings.recovery_after
        if not entry.has_status:
            if _age_seconds(entry.record.created_at, now) < stale:
                return
        elif st.task_state is None:
            await self._reconcile(entry.key)  # also what a missed Pod event should have done
            return
        elif _age_seconds(st.updated_at, now) < stale:
            return
        if await self.svc.store.is_locked(entry.uuid):
            return
        log.info("recovering_container", uuid=entry.uuid, task_state=st.task_state, has_status=entry.has_status)
        await self.svc.recover(entry)

    async def _delete_orphan_pods(self) -> None:
        for (namespace, name), pod in list(self.gw.pods.store.items()):
            meta = pod.get("metadata") or {}
            if meta.get("deletionTimestamp") or _pod_age(meta) < ORPHAN_GRACE_SECONDS:
                continue  # its record may not have reached this replica's cache yet
            key = (namespace, str((meta.get("labels") or {}).get(L.UUID)))
            # The record as it is now, not as it was when this sweep began: a sweep over
            # thousands of containers outlasts ORPHAN_GRACE_SECONDS, and the Pods of records
            # created meanwhile are unknown to the sweep's first view.
            if not _orphaned(self.svc.registry.entry(key), name):
                continue
            # And as the API server has it: this replica's record watch may lag its Pod watch.
            if not _orphaned(await self.svc.registry.fresh(key), name):
                continue
            log.info("deleting_orphan_pod", namespace=namespace, pod=name)
            await self.gw.delete_pod(namespace, name, grace_seconds=0)


def _orphaned(entry: Entry | None, pod: str) -> bool:
    """No record owns ``pod``: none at all, or one settled on another Pod."""
    return entry is None or (entry.status.pod != pod and entry.has_status and entry.status.task_state is None)
