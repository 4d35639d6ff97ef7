"""The Pod work the actions are made of: make a container's next Pod, retire the previous one
(keeping its logs), stop one gracefully, kill one. Each returns the status fields it decided
(its part of the action's outcome, service/operations.py), except where the record must be
written first: a new Pod's name is recorded before the Pod is made, so a crash in between
leaves a record that names its Pod (recovery adopts it or marks the record Error).

Stop keeps the Pod (and its logs): the Pod's activeDeadlineSeconds is set, so the kubelet
sends SIGTERM and, after the Pod's grace period, SIGKILL. If the process outlives the
requested timeout, the Pod is deleted at once and its logs are first saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from zunk8s.clock import kube_now
from zunk8s.kube.errors import KubeAlreadyExists, KubeNotFound, KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record, Status
from zunk8s.service.logs import Logs
from zunk8s.service.operations import Operations
from zunk8s.service.registry import Entry
from zunk8s.translate import crd
from zunk8s.translate.names import pod_name, project_hash
from zunk8s.translate.pods import Owner, PodOptions, build_pod, build_stop_patch
from zunk8s.translate.status import observe_pod
from zunk8s.translate.statuschanges import Changes, not_running

Pod = dict[str, Any]
# A killed Pod is waited for this long to be gone before Stopped is written.
KILL_WAIT = 30.0
# A new Pod is waited for this long to leave Creating (run, fail to pull, be unschedulable...)
# before its task ends; as in Zun, whose start returns once Docker has started the process.
# The action's final write then says Running (with host, IP and start time) at once, instead
# of the reconciler writing each step after the task. A Pod still Creating after this (a
# large image) is left to the reconciler.
START_WAIT = 30.0


class PodWork:
    def __init__(self, *, gateway: KubeGateway, ops: Operations, logs: Logs, options: PodOptions) -> None:
        self._gw = gateway
        self._ops = ops
        self._logs = logs
        self._options = options
        self._pod_events: dict[tuple[str, str], set[asyncio.Event]] = {}
        # Set at shutdown: a start stops waiting for its Pod, so its task still ends (finish)
        # before the process does, instead of being cancelled with its task_state left set.
        self._closing = False
        gateway.on_pod_event(self._wake_waiters)

    def close(self) -> None:
        """Stop the waits that may be cut short (a new Pod leaving Creating), now and from now."""
        self._closing = True
        for waiters in self._pod_events.values():
            for event in waiters:
                event.set()

    # --- waiting on the Pod watch ---------------------------------------------------------

    def _wake_waiters(self, kind: str, pod: Pod) -> None:
        meta = pod.get("metadata") or {}
        for event in self._pod_events.get((str(meta.get("namespace")), str(meta.get("name"))), ()):
            event.set()

    async def ask_agent(
        self, namespace: str, name: str, ask: dict[str, str], answered: Callable[[Pod, Pod], bool], timeout: float
    ) -> tuple[Pod, Pod | None]:
        """Write ``ask`` (annotations) on the Pod for the node agent and wait for its answer there
        (translate/freeze.py says how): until ``answered(asked, pod)`` holds, where ``asked`` is
        the Pod as the ask left it, or ``timeout``. (``asked``, the Pod then: None if it went
        away); the caller reads the answer, or its absence, from them."""
        asked = await self._gw.patch_pod(namespace, name, {"metadata": {"annotations": ask}})
        await self.wait_pod(namespace, name, lambda p: p is None or answered(asked, p), timeout=timeout)
        return asked, self._gw.cached_pod(namespace, name)

    async def wait_pod(
        self, namespace: str, name: str, done: Callable[[Pod | None], bool], timeout: float, *, until_closing: bool = False
    ) -> bool:
        """Wait, driven by watch events, until ``done(pod)`` holds; False on timeout (and, with
        ``until_closing``, at shutdown)."""
        key = (namespace, name)
        # One event per waiter: several may wait on one Pod (concurrent stats, a pause).
        event = asyncio.Event()
        self._pod_events.setdefault(key, set()).add(event)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                event.clear()
                if done(self._gw.cached_pod(namespace, name)):
                    return True
                if until_closing and self._closing:
                    return False
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, 5.0))
                except TimeoutError:
                    pass
        finally:
            waiters = self._pod_events.get(key, set())
            waiters.discard(event)
            if not waiters:
                self._pod_events.pop(key, None)

    # --- making and removing Pods ---------------------------------------------------------

    def manifest(
        self, record: Record, namespace: str, *, name: str, generation: int, owner_uid: str | None, task: str | None = None
    ) -> Pod:
        """The Pod of one generation; owned by the record whose uid is ``owner_uid`` (None: a
        Pod only shown to the API server in a dry run, before the record exists), labelled with
        the request id of the action that made it (``task``)."""
        owner = Owner(api_version=crd.API_VERSION, kind=crd.KIND, name=record.uuid, uid=owner_uid) if owner_uid else None
        return build_pod(
            record,
            name=name,
            namespace=namespace,
            project_hash=project_hash(record.project_id),
            generation=generation,
            options=self._options,
            owner=owner,
            task=task,
        )

    async def launch(
        self,
        entry: Entry,
        *,
        status: Status,
        restart_count: int = 0,
        reason: str | None = None,
        wait: bool = True,
        **also: Any,
    ) -> Changes | None:
        """Record the next generation's Pod (with ``also``: e.g. the task_state of a create)
        and make it; then, with ``wait``, wait for it to leave Creating (``START_WAIT``), so
        the action's final write says how it runs. The outcome: None, or Error if Kubernetes
        refuses the Pod."""
        generation = entry.status.generation + 1
        name = pod_name(entry.uuid, generation)
        entry = await self._ops.write(
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
            paused=False,
            **also,
        )
        try:
            manifest = self.manifest(
                entry.record,
                entry.namespace,
                name=name,
                generation=generation,
                owner_uid=entry.uid,
                task=entry.status.task_request_id,
            )
            await self._gw.create_pod(manifest)
        except KubeAlreadyExists:
            pass
        except KubeRejected as e:
            # e.g. an image name Kubernetes refuses, or a LimitRange / quota in the namespace.
            return {"status": "Error", "status_reason": e.detail}
        if wait:
            await self.wait_pod(entry.namespace, name, _past_creating, timeout=START_WAIT, until_closing=True)
        return None

    async def retire(self, entry: Entry) -> Entry:
        """Remove a previous generation's (already stopped) Pod, keeping its logs."""
        name = entry.status.pod
        if name is None or await self._gw.live_pod(entry.namespace, name) is None:
            return entry
        entry = await self._save_logs(entry, name)
        await self._gw.delete_pod(entry.namespace, name, grace_seconds=0)
        return entry

    async def _save_logs(self, entry: Entry, pod: str) -> Entry:
        """Save ``pod``'s logs before it is deleted. The first time, the record says so at once
        (before the Pod goes): logs read meanwhile, a task that fails after the delete and a
        crash must all still find them, and the next save must append to them."""
        if await self._logs.archive(entry, pod) and not entry.status.logs_saved:
            return await self._ops.write(entry, logs_saved=True)
        return entry

    async def stop(self, entry: Entry, wait: int) -> Changes:
        """End the container's process: SIGTERM, and a kill if it outlives ``wait`` seconds."""
        name = entry.status.pod
        if name is None or await self._gw.live_pod(entry.namespace, name) is None:
            return {"status": "Stopped"}
        try:
            await self._gw.patch_pod(entry.namespace, name, build_stop_patch())
        except KubeNotFound:
            return {"status": "Stopped"}
        if await self.wait_pod(entry.namespace, name, not_running, timeout=wait + 2):
            return {"status": "Stopped"}
        # The process ignored SIGTERM for the whole timeout (PID 1 ignores it unless it installs
        # a handler): kill now, as `docker stop -t N` does.
        return await self.kill(entry, name, reason=f"killed after the {wait} s stop timeout")

    async def kill(self, entry: Entry, name: str, *, reason: str | None) -> Changes:
        """SIGKILL: delete the Pod at once (its logs saved first)."""
        entry = await self._save_logs(entry, name)
        await self._gw.delete_pod(entry.namespace, name, grace_seconds=0)
        killed_at = kube_now()
        # Stopped is written once the Pod is gone, as the task's last step: a client that sees
        # Stopped and acts at once must not meet the task still running (409 "busy").
        await self.wait_pod(entry.namespace, name, lambda p: p is None, timeout=KILL_WAIT)
        return {"status": "Stopped", "status_reason": reason, "exit_code": 137, "finished_at": killed_at}

    async def restart(self, entry: Entry, wait: int) -> Changes | None:
        """Stop the current Pod (if it runs), keep its logs, and start the next one."""
        pod = entry.status.pod
        if pod is not None and not not_running(await self._gw.live_pod(entry.namespace, pod)):
            await self.stop(entry, wait)  # its outcome is overtaken by the new Pod's
        # A step above may have written the record (logs saved before a kill).
        entry = await self.retire(self._ops.cached(entry))
        return await self.launch(entry, status="Restarting")

    async def start(self, entry: Entry, *, status: Status, **launch: Any) -> Changes | None:
        """Retire the previous Pod (keeping its logs) and launch the next one."""
        entry = await self.retire(entry)
        return await self.launch(entry, status=status, **launch)

def _past_creating(pod: Pod | None) -> bool:
    return pod is None or observe_pod(pod).status != "Creating"
