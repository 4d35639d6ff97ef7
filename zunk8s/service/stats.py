"""stats: a container measured by the zunk8s node agent on its Pod's node (zunk8s/node/agent.py,
node/metrics.py), asked and answered on the Pod (translate/stats.py), shown as Zun's seven keys.

A read, as in Zun: no lock, no task_state, no action-log entry. Zun's rules kept: Running only
(the state table's 409). A node no agent serves: 409 saying so, as pause does. The agent's
failure: 409 with its reason; no answer within ``ANSWER_WAIT``: 503.
"""

from __future__ import annotations

from typing import Any

from zunk8s.errors import BackendUnavailable, Conflict
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.freezing import require_agent
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate import stats

# The agent answers in stats.WINDOW (0.5 s) plus two API writes; a caller waits no longer than this.
ANSWER_WAIT = 5.0


class Stats:
    def __init__(self, *, gateway: KubeGateway, pods: PodWork, lease_namespace: str) -> None:
        self._gw = gateway
        self._pods = pods
        self._lease_namespace = lease_namespace

    async def stats(self, caller: Caller, entry: Entry) -> dict[str, Any]:
        check_state("stats", uuid=entry.uuid, status=entry.status.status)
        node, pod = entry.status.host, entry.status.pod
        if node is None or pod is None:
            raise Conflict(f"Container {entry.uuid} has no Pod on a node to measure.")
        await require_agent(self._gw, self._lease_namespace, node, "measured for stats")
        request = caller.request_id

        def answered(asked: dict[str, Any], p: dict[str, Any]) -> bool:
            # This ask's answer, or one given after the answer the Pod had when asked (stats.fresh).
            previous = stats.answer(asked)
            return stats.fresh(stats.answer(p), request=request, before=previous.request if previous else None)

        asked, current = await self._pods.ask_agent(entry.namespace, pod, {stats.WANT: request}, answered,
                                                    timeout=ANSWER_WAIT)
        if current is None:
            raise Conflict(f"The Pod of container {entry.uuid} went away before it could be measured.")
        done = stats.answer(current)
        if done is None or not answered(asked, current):
            raise BackendUnavailable(f"The zunk8s node agent on {node} did not answer within {ANSWER_WAIT:.0f} s.")
        if done.measured is None:
            raise Conflict(f"Cannot measure container {entry.uuid} on {node}: {done.error}")
        return stats.zun_view(entry.record.name, done.measured)
