"""start, stop, reboot, kill (KILL/TERM) — and what the reconciler asks for on its own:
a restart after a failure (on-failure:N) and auto_heal.

Each verb is a claim and a work function (service/operations.py); the Pod work itself is in
service/podwork.py. Other signals than KILL/TERM go to the process (service/commands.py).
"""

from __future__ import annotations

import structlog

from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.operations import Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import Entry
from zunk8s.translate.pods import retry_limit
from zunk8s.translate.status import observe_pod
from zunk8s.translate.statuschanges import Changes

log = structlog.get_logger(__name__)


class Power:
    def __init__(self, *, gateway: KubeGateway, ops: Operations, pods: PodWork, stop_timeout: int) -> None:
        self._gw = gateway
        self._ops = ops
        self._pods = pods
        self._stop_timeout = stop_timeout

    def _stop_wait(self, timeout: int | None) -> int:
        # The kubelet's SIGKILL comes after the Pod's grace period, fixed when the Pod was made.
        return self._stop_timeout if timeout is None else min(timeout, self._stop_timeout)

    async def start(self, caller: Caller, entry: Entry) -> None:
        # desired changes with the new Pod's name (launch), not here: a start that fails before
        # it made one must not leave the old, ended Pod looking like a run that should go on
        # (auto_remove would delete the container, on-failure restart it).
        entry = await self._ops.begin(caller, entry, "start", "container_starting")
        self._ops.run(entry, "start", lambda e: self._pods.start(e, status=e.status.status))

    async def stop(self, caller: Caller, entry: Entry, *, timeout: int | None) -> None:
        entry = await self._ops.begin(caller, entry, "stop", "container_stopping", desired="stopped")
        wait = self._stop_wait(timeout)
        self._ops.run(entry, "stop", lambda e: self._pods.stop(e, wait))

    async def reboot(self, caller: Caller, entry: Entry, *, timeout: int | None) -> None:
        entry = await self._ops.begin(caller, entry, "reboot", "container_rebooting", status="Restarting")
        wait = self._stop_wait(timeout)
        self._ops.run(entry, "reboot", lambda e: self._pods.restart(e, wait))

    async def kill(self, caller: Caller, entry: Entry, *, signal: str) -> None:
        """KILL ends the process at once, TERM as a stop does."""
        entry = await self._ops.begin(caller, entry, "kill", "container_killing", desired="stopped")

        async def work(e: Entry) -> Changes | None:
            if e.status.pod is None:
                return None
            if signal == "KILL":
                return await self._pods.kill(e, e.status.pod, reason=None)
            return await self._pods.stop(e, self._stop_timeout)

        self._ops.run(entry, "kill", work)

    async def resize_restart(self, entry: Entry) -> None:
        """A new Pod with the record's new resources, where the cluster cannot resize in place
        (called under the container's lock by service/updating.py)."""
        entry = await self._ops.write(entry, task_state="container_rebooting")
        self._ops.run(entry, "resize-restart", lambda e: self._pods.restart(e, self._stop_timeout))

    # --- what the reconciler asks for -----------------------------------------------------

    async def restart_after_failure(self, entry: Entry) -> None:
        """restart_policy on-failure:N: the run ended with a non-zero exit code and has been
        retried fewer than N times: run the container again in a new Pod, keeping the logs of
        the run that ended."""
        limit = retry_limit(entry.record)
        async with self._ops.lock(entry.uuid):
            fresh = await self._ops.fresh(entry)
            st = fresh.status
            pod = self._gw.cached_pod(fresh.namespace, st.pod) if st.pod else None
            if st.task_state is not None or st.desired != "running" or st.pod != entry.status.pod or pod is None:
                return  # someone acted meanwhile
            obs = observe_pod(pod)
            if not obs.terminal or not obs.exit_code or st.restart_count >= limit:
                return  # the limit is written with the last run's status (translate/statuschanges.py)
            fresh = await self._ops.write(fresh, task_state="container_rebooting", status="Restarting")
        count = st.restart_count + 1

        self._ops.run(fresh, "restart", lambda e: self._pods.start(e, status="Restarting", restart_count=count))

    async def heal(self, entry: Entry) -> None:
        """auto_heal (Zun: a container missing from the runtime is made again): the running
        container's Pod is gone, so a new one is made from the record."""
        async with self._ops.lock(entry.uuid):
            fresh = await self._ops.fresh(entry)
            st = fresh.status
            if (
                st.task_state is not None
                or st.desired != "running"
                or st.pod is None
                or await self._gw.live_pod(fresh.namespace, st.pod) is not None
            ):
                return
            gone = st.pod
            fresh = await self._ops.write(fresh, task_state="container_starting")
        log.info("auto_heal", uuid=entry.uuid, pod=gone)
        reason = f"Pod {gone} was deleted outside zunk8s; auto_heal made a new one."
        self._ops.run(fresh, "heal", lambda e: self._pods.launch(e, status="Creating", reason=reason))
