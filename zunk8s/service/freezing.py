"""pause / unpause: the container's processes frozen and thawed by the zunk8s node agent on its
Pod's node (zunk8s/node/agent.py), asked and answered on the Pod (translate/freeze.py).

Zun's rules kept: pause from Running, unpause from Paused (the state table), task_state
container_pausing / container_unpausing, status Paused kept by zunk8s (the kubelet still says
running). A node no agent serves: 409 saying so, before anything is written. The agent's failure
leaves the container as it was, with the agent's reason in status_reason.
"""

from __future__ import annotations

from zunk8s.clock import now_utc
from zunk8s.errors import Conflict
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import TaskState
from zunk8s.service.context import Caller
from zunk8s.service.operations import Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import Entry
from zunk8s.service.states import Action, check_state
from zunk8s.translate import freeze
from zunk8s.translate.statuschanges import Changes

# The agent answers in well under a second (containerd's Pause takes ~0.05 s); past this the
# task ends with the container unchanged and the reason said.
ANSWER_WAIT = 30.0


async def require_agent(gateway: KubeGateway, lease_namespace: str, node: str, done: str) -> None:
    """409 unless a node agent serves ``node`` (its Lease renewed lately); ``done`` words what
    the container then cannot be ("paused", "measured for stats")."""
    lease = await gateway.get_lease(lease_namespace, freeze.lease_name(gateway.instance, node))
    if not freeze.agent_alive(lease, now_utc()):
        raise Conflict(
            f"No zunk8s node agent serves node {node} (none has renewed its Lease in {lease_namespace} "
            f"for {freeze.AGENT_STALE:.0f} s), so the container cannot be {done}: "
            "install the chart's agent DaemonSet on that node (agent.enabled)."
        )


def _answers(done: freeze.Answer | None, request: str) -> bool:
    return done is not None and done.request == request


class Freezer:
    def __init__(self, *, gateway: KubeGateway, ops: Operations, pods: PodWork, lease_namespace: str) -> None:
        self._gw = gateway
        self._ops = ops
        self._pods = pods
        self._lease_namespace = lease_namespace

    async def pause(self, caller: Caller, entry: Entry) -> None:
        await self._change(caller, entry, "pause", "paused")

    async def unpause(self, caller: Caller, entry: Entry) -> None:
        await self._change(caller, entry, "unpause", "running")

    async def _change(self, caller: Caller, entry: Entry, action: Action, state: freeze.State) -> None:
        check_state(action, uuid=entry.uuid, status=entry.status.status)
        node, pod = entry.status.host, entry.status.pod
        if node is None or pod is None:
            raise Conflict(f"Container {entry.uuid} has no Pod on a node to {action}.")
        await require_agent(self._gw, self._lease_namespace, node, "paused" if state == "paused" else "unpaused")
        task: TaskState = "container_pausing" if state == "paused" else "container_unpausing"
        entry = await self._ops.begin(caller, entry, action, task)
        request = caller.request_id

        async def work(e: Entry) -> Changes | None:
            _, current = await self._pods.ask_agent(e.namespace, pod, {freeze.WANT: freeze.ask(state, request)},
                                                 lambda _, p: _answers(freeze.answer(p), request), timeout=ANSWER_WAIT)
            done = freeze.answer(current) if current is not None else None
            if current is None:
                return {"status_reason": f"the container's Pod went away before it could be {state}"}
            if done is None or done.request != request:
                return {"status_reason": f"the node agent on {node} did not answer in {ANSWER_WAIT:.0f} s; {action} not done"}
            if done.state is None:
                return {"status_reason": f"{action} failed on {node}: {done.error}"}
            if state == "paused":
                return {"paused": True, "status": "Paused", "status_reason": None}
            return {"paused": False, "status": "Running", "status_reason": None}

        self._ops.run(entry, action, work)
