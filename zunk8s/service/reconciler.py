"""Keeps records true to their Pods and enforces what Kubernetes does not; leads the sweep.

* Pod watch events -> record status (service/podsync.py).
* restart_policy ``on-failure:N``: zunk8s runs a failed container again in a new Pod, N times
  (translate/pods.py ``zunk8s_restarts``); ``auto_remove`` deletes a container that exited;
  a container killed for a failing healthcheck says so in ``status_reason``; ``auto_heal``
  makes a new Pod for a running container whose Pod vanished.
* Only the leading replica of an installation does this (a renewed lock in the state
  store); the leader also runs the periodic sweep (service/recovery.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from zunk8s.cancellation import cancel_and_wait
from zunk8s.errors import ZunError
from zunk8s.kube.errors import KubeError
from zunk8s.kube.gateway import Key, KubeGateway
from zunk8s.service.deleting import Deletion
from zunk8s.service.podsync import PodSync
from zunk8s.service.power import Power
from zunk8s.service.registry import Entry, Registry
from zunk8s.service.tasks import TaskRunner
from zunk8s.state.keys import leader_lock
from zunk8s.state.protocol import LockBusy, StateStore
from zunk8s.translate import labels as L
from zunk8s.translate.pods import zunk8s_restarts
from zunk8s.translate.status import observe_pod

log = structlog.get_logger(__name__)


class Reconciler:
    # Status writes run beside the watch, not inside it: a burst of Pod events (1,000 Pods
    # starting) must not queue behind one PATCH each. Events for one container coalesce.
    CONCURRENCY = 16

    def __init__(
        self,
        *,
        gateway: KubeGateway,
        registry: Registry,
        store: StateStore,
        tasks: TaskRunner,
        podsync: PodSync,
        power: Power,
        deletion: Deletion,
        sweep_interval: float,
        lock_ttl: float,
    ) -> None:
        self._gw = gateway
        self._registry = registry
        self._store = store
        self._tasks = tasks
        self._podsync = podsync
        self._power = power
        self._deletion = deletion
        self._sweep_interval = sweep_interval
        self._lock_ttl = lock_ttl
        self._enforcing: set[str] = set()
        self._dirty: set[Key] = set()
        self._working: set[Key] = set()
        self._slots = asyncio.Semaphore(self.CONCURRENCY)
        self.leader = False
        gateway.on_pod_event(self.on_pod_event)
        gateway.on_record_event(self.on_record_event)

    def on_pod_event(self, kind: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        uuid = (meta.get("labels") or {}).get(L.UUID)
        if uuid:
            self._enqueue((str(meta.get("namespace")), str(uuid)))

    def on_record_event(self, kind: str, record: dict[str, Any]) -> None:
        """A task ended: what its Pod did meanwhile was not written (the record was the task's),
        and a Pod that ended while the task ran sends no further event. So the record is
        reconciled once its task_state is cleared (nothing is written if it is in sync)."""
        status = record.get("status") or {}
        if kind != "DELETED" and status.get("pod") and status.get("task_state") is None:
            meta = record.get("metadata") or {}
            self._enqueue((str(meta.get("namespace")), str(meta.get("name"))))

    def _enqueue(self, key: Key) -> None:
        if not self.leader:
            return
        self._dirty.add(key)
        if key not in self._working:
            self._working.add(key)
            self._tasks.spawn(self._work(key), name=f"reconcile:{key[1]}")

    async def _work(self, key: Key) -> None:
        try:
            while key in self._dirty:
                self._dirty.discard(key)
                async with self._slots:
                    await self.reconcile(key)
        finally:
            self._working.discard(key)

    async def reconcile(self, key: Key) -> None:
        entry = self._registry.entry(key)
        if entry is None or entry.status.pod is None:
            return  # an orphan Pod (the sweep removes it) or no current Pod
        try:
            pod = self._gw.cached_pod(entry.namespace, entry.status.pod)
            reason = await self._healthcheck_kill(entry, pod) if pod is not None else None
            entry = await self._podsync.sync(entry, reason=reason)
            pod = self._gw.cached_pod(entry.namespace, str(entry.status.pod))
            if pod is not None:
                await self._enforce_policies(entry, pod)
        except (ZunError, KubeError) as e:
            log.warning("reconcile_failed", uuid=entry.uuid, error=repr(e))

    async def _enforce_policies(self, entry: Entry, pod: dict[str, Any]) -> None:
        if entry.status.task_state is not None or entry.uuid in self._enforcing:
            return
        obs = observe_pod(pod)
        if not obs.terminal or entry.status.desired != "running":
            return
        self._enforcing.add(entry.uuid)
        try:
            if entry.record.auto_remove:
                await self._deletion.auto_remove(entry)
            elif zunk8s_restarts(entry.record) and obs.exit_code:
                await self._power.restart_after_failure(entry)
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
        events = await self._gw.pod_events(entry.namespace, name)
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

    # --- leadership -----------------------------------------------------------------------

    async def run(self, sweep: Callable[[], Awaitable[None]]) -> None:
        """Lead or wait: one replica per installation reconciles (a lock in the state store,
        renewed while held); the others serve requests and take over when it dies. A leader
        whose lock is lost (Redis flushed or restarted, or renewals failing for a whole TTL)
        stops leading at once, since another replica may already lead, and tries again later."""
        await self._gw.wait_synced()
        interval = self._sweep_interval
        key = leader_lock(self._gw.instance)

        async def sweep_forever() -> None:
            while True:
                # The first sweep (service/recovery.py) also catches up with what happened
                # while following.
                await sweep()
                await asyncio.sleep(interval)

        while True:
            try:
                # One quick try, then our own sleep: a cancelled wait inside redis-py's blocking
                # lock acquisition can hang shutdown.
                async with self._store.lock(key, ttl=self._lock_ttl, wait=0) as held:
                    self.leader = True
                    log.info("reconciler_leading", instance=self._gw.instance)
                    sweeping = asyncio.create_task(sweep_forever(), name="reconciler:sweep")
                    lost = asyncio.create_task(held.lost.wait(), name="reconciler:lock-lost")
                    try:
                        await asyncio.wait((sweeping, lost), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        self.leader = False
                        errors = await cancel_and_wait(sweeping, lost)
                    if errors and not held.lost.is_set():
                        raise errors[0]  # the sweep failed
                log.warning("reconciler_lost_leadership", instance=self._gw.instance)
                await asyncio.sleep(interval)
            except asyncio.CancelledError:
                raise
            except LockBusy:
                await asyncio.sleep(interval)  # another replica leads
            except (ZunError, KubeError) as e:  # the state store (Redis) or Kubernetes is unavailable
                log.warning("reconciler_paused", error=repr(e))
                await asyncio.sleep(interval)
            except Exception:
                log.exception("reconciler_failed")
                await asyncio.sleep(interval)
            finally:
                self.leader = False
