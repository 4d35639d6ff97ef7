"""``zunk8s agent``: on one node, for one zunk8s installation, freeze and thaw the containers
zunk8s asks it to (translate/freeze.py says how the ask and the answer are written on the Pod),
measure them for stats (translate/stats.py; the numbers come from node/metrics.py) and commit
them to images (translate/commit.py; node/committing.py makes and pushes them).

It watches only its own node's Pods of its installation, acts only on those (an ask on any other
Pod is never seen), through the node's containerd, and renews a Lease so zunk8s knows it serves
the node. No port is opened: zunk8s and the agent meet at the API server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from zunk8s.cancellation import cancel_and_wait
from zunk8s.clock import now_utc
from zunk8s.kube.agentgateway import AgentGateway
from zunk8s.kube.errors import KubeError
from zunk8s.node.committing import CommitError, NodeCommitter
from zunk8s.node.containerd import Containerd, ContainerdError
from zunk8s.node.metrics import MetricsError, NodeMetrics
from zunk8s.settings import Settings
from zunk8s.translate import commit, freeze, stats

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


class Agent:
    def __init__(self, gateway: AgentGateway, containerd: Containerd, *, lease_namespace: str,
                 metrics: NodeMetrics | None = None, committer: NodeCommitter | None = None) -> None:
        self._gw = gateway
        self._ctr = containerd
        self._lease_namespace = lease_namespace
        self._metrics = metrics or NodeMetrics()
        self._committer = committer or NodeCommitter(containerd)
        # Stats being measured (each takes stats.WINDOW) and commits being made (seconds for a
        # large change): one of each per Pod at a time, beside the rest.
        self._measuring: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._committing: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        gateway.on_pod_event(lambda kind, pod: self._wake.set())

    async def run(self) -> None:
        loops: dict[str, Awaitable[None]] = {
            "agent:pods": self._gw.informer_loop(), "agent:lease": self._lease_forever(), "agent:work": self._work_forever(),
        }
        tasks = [asyncio.create_task(_run(loop), name=name) for name, loop in loops.items()]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()
        finally:
            await cancel_and_wait(*tasks, *self._measuring.values(), *self._committing.values())

    async def _lease_forever(self) -> None:
        name = freeze.lease_name(self._gw.instance, self._gw.node)
        while True:
            try:
                await self._gw.renew_lease(freeze.lease_body(name=name, namespace=self._lease_namespace,
                                                              node=self._gw.node, instance=self._gw.instance,
                                                              now=now_utc()))
            except KubeError as e:
                log.warning("agent_lease_failed", error=repr(e))
            await asyncio.sleep(freeze.AGENT_RENEW)

    async def _work_forever(self) -> None:
        while True:
            self._wake.clear()
            for pod in self._gw.pods():
                self._measure_if_asked(pod)
                self._commit_if_asked(pod)
                await self.serve(pod)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=30)
            except TimeoutError:
                pass  # look again anyway: an answer that failed to be written is retried

    async def serve(self, pod: Obj) -> None:
        """Do what zunk8s asked of this Pod's container, unless already answered."""
        ask = freeze.wanted(pod)
        if ask is None:
            return
        state, request = ask
        done = freeze.answer(pod)
        if done is not None and done.request == request:
            return
        meta = pod["metadata"]
        cid = freeze.container_id(pod)
        try:
            if cid is None:
                raise ContainerdError("the container is not running")
            if state == "paused":
                await self._ctr.pause(cid)
            else:
                await self._ctr.resume(cid)
            value = freeze.done_value(state, request)
            log.info("container_" + state, pod=meta["name"], namespace=meta["namespace"], request=request)
        except ContainerdError as e:
            value = freeze.error_value(request, e.detail)
            log.warning("freeze_failed", pod=meta["name"], namespace=meta["namespace"], error=e.detail)
        try:
            await self._gw.annotate_pod(meta["namespace"], meta["name"], {freeze.DONE: value})
        except KubeError as e:
            log.warning("freeze_answer_failed", pod=meta["name"], error=repr(e))

    def _measure_if_asked(self, pod: Obj) -> None:
        request = stats.wanted(pod)
        if request is None:
            return
        done = stats.answer(pod)
        if done is not None and done.request == request:
            return
        self._beside(self._measuring, pod, "stats", lambda: self.measure(pod, request))

    def _commit_if_asked(self, pod: Obj) -> None:
        ask = commit.wanted(pod)
        if ask is None:
            return
        done = commit.answer(pod)
        if done is not None and done.request == ask.request:
            return
        self._beside(self._committing, pod, "commit", lambda: self.commit(pod, ask))

    def _beside(self, running: dict[tuple[str, str], asyncio.Task[None]], pod: Obj, what: str,
                work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` for this Pod beside the rest, unless one of its kind runs for the Pod
        (a newer ask is looked at once that ends)."""
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        if key in running:
            return
        task = asyncio.create_task(work(), name=f"agent:{what}:{key[1]}")
        running[key] = task

        def ended(_: asyncio.Task[None]) -> None:
            running.pop(key, None)
            self._wake.set()

        task.add_done_callback(ended)

    async def commit(self, pod: Obj, ask: commit.Ask) -> None:
        """Commit this Pod's container to the asked image and answer on the Pod."""
        meta = pod["metadata"]
        try:
            digest, size = await self._committer.make_image(pod, ask)
            value = commit.done_value(ask.request, digest, size)
            log.info("container_committed", pod=meta["name"], namespace=meta["namespace"], image=ask.reference, digest=digest)
        except CommitError as e:
            value = commit.error_value(ask.request, e.detail)
            log.warning("commit_failed", pod=meta["name"], namespace=meta["namespace"], error=e.detail)
        try:
            await self._gw.annotate_pod(meta["namespace"], meta["name"], {commit.DONE: value})
        except KubeError as e:
            log.warning("commit_answer_failed", pod=meta["name"], error=repr(e))

    async def measure(self, pod: Obj, request: str) -> None:
        """Measure this Pod's container and answer on the Pod."""
        meta = pod["metadata"]
        cid = freeze.container_id(pod)
        try:
            if cid is None:
                raise MetricsError("the container is not running")
            value = stats.done_value(request, await self._metrics.measure(await self._ctr.pid(cid)))
        except (ContainerdError, MetricsError) as e:
            value = stats.error_value(request, e.detail)
            log.warning("stats_failed", pod=meta["name"], namespace=meta["namespace"], error=e.detail)
        except ValueError as e:  # a kernel file not in the format expected
            value = stats.error_value(request, f"unreadable numbers from the kernel: {e}")
            log.warning("stats_failed", pod=meta["name"], namespace=meta["namespace"], error=repr(e))
        try:
            await self._gw.annotate_pod(meta["namespace"], meta["name"], {stats.DONE: value})
        except KubeError as e:
            log.warning("stats_answer_failed", pod=meta["name"], error=repr(e))


async def _run(loop: Awaitable[None]) -> None:
    await loop


async def run_agent(settings: Settings) -> None:
    node = settings.agent.node_name
    if not node:
        raise SystemExit("zunk8s agent: set ZUNK8S_AGENT__NODE_NAME (in a DaemonSet: spec.nodeName)")
    gateway = await AgentGateway.connect(settings.kube, node=node)
    containerd = Containerd(settings.agent.containerd_socket, namespace=settings.agent.containerd_namespace)
    log.info("agent_started", node=node, instance=gateway.instance, containerd=settings.agent.containerd_socket)
    try:
        metrics = NodeMetrics(proc=settings.agent.proc_root, cgroup_root=settings.agent.cgroup_root)
        committer = NodeCommitter(containerd, insecure_registries=settings.agent.insecure_registries,
                                  workdir=settings.agent.workdir)
        await Agent(gateway, containerd, lease_namespace=settings.agent.lease_namespace, metrics=metrics,
                    committer=committer).run()
    finally:
        await containerd.close()
        await gateway.close()
