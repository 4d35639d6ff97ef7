"""commit: a container's filesystem made an image by the zunk8s node agent on its Pod's node
(zunk8s/node/committing.py), asked and answered on the Pod (translate/commit.py), pushed to the
configured registry under the project's namespace and recorded as a ZunImage, so that
``run repository:tag`` runs it.

Zun's rules kept: Running, Stopped or Paused (the state table); 202 with ``{"uuid": <image id>}``
before the work, which goes on in the background (Zun's compute does the same); a running
container is paused for the snapshot's diff only and resumed. Zun has no task_state for commit
(it serializes commits on a lock); zunk8s says ``container_committing`` while it runs, which also
keeps a stop or a pause from meeting the agent's own pause. A failed commit leaves the container
as it was, with the reason in status_reason and on the action's log.
"""

from __future__ import annotations

from zunk8s.clock import now_utc, zun_timestamp
from zunk8s.errors import Conflict, InvalidValue
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.freezing import require_agent
from zunk8s.service.operations import ActionFailed, Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate import commit
from zunk8s.translate import labels as L
from zunk8s.translate.names import project_hash
from zunk8s.translate.statuschanges import Changes

# A commit of a large change takes seconds (the diff, then the push); past this the task ends
# with the reason, and the agent's later answer is not recorded.
ANSWER_WAIT = 600.0


async def record_image(gateway: KubeGateway, entry: Entry, ask: commit.Ask, done: commit.Answer) -> None:
    """The ZunImage of a commit the agent finished (also from recovery)."""
    labels = L.project_labels(project_hash=project_hash(entry.record.project_id), instance=gateway.instance)
    await gateway.save_image(commit.image_object(
        namespace=entry.namespace, a=ask, answer=done, project_id=entry.record.project_id, container=entry.uuid,
        host=entry.status.host,
        labels=labels, created=zun_timestamp(now_utc()),
    ))


class Committer:
    def __init__(self, *, gateway: KubeGateway, ops: Operations, pods: PodWork, lease_namespace: str,
                 registry: str) -> None:
        self._gw = gateway
        self._ops = ops
        self._pods = pods
        self._lease_namespace = lease_namespace
        self._registry = registry

    async def commit(self, caller: Caller, entry: Entry, *, repository: str, tag: str | None) -> str:
        """Begin the commit; the committed image's id (what Zun answers with)."""
        check_state("commit", uuid=entry.uuid, status=entry.status.status)
        tag = tag or "latest"  # Zun's compute's default
        if not self._registry:
            raise Conflict("No registry for committed images is configured (images.commit_registry), "
                           "so zunk8s cannot commit containers.")
        try:
            commit.check_names(repository, tag, registry=self._registry)
        except commit.BadName as e:
            raise InvalidValue(str(e)) from None
        node, pod = entry.status.host, entry.status.pod
        live = self._gw.cached_pod(entry.namespace, pod) if pod is not None else None
        if node is None or pod is None or live is None or commit.container_id(live) is None:
            raise Conflict(f"Container {entry.uuid} has no filesystem on a node to commit: it has not run, "
                           "or it was killed (its Pod is gone); start it, then commit.")
        await require_agent(self._gw, self._lease_namespace, node, "committed")
        image = commit.image_uuid(entry.namespace, repository, tag)
        ask = commit.Ask(
            request=caller.request_id, reference=commit.reference(self._registry, entry.namespace, repository, tag),
            config=commit.config_changes(entry.record), comment=f"commit of Zun container {entry.uuid}",
            image=image, repository=repository, tag=tag,
        )
        entry = await self._ops.begin(caller, entry, "commit", "container_committing")

        async def work(e: Entry) -> Changes | None:
            _, current = await self._pods.ask_agent(
                e.namespace, pod, {commit.WANT: commit.ask(ask)},
                lambda _, p: (a := commit.answer(p)) is not None and a.request == ask.request, timeout=ANSWER_WAIT)
            done = commit.answer(current) if current is not None else None
            if current is None:
                raise ActionFailed(why := "the container's Pod went away before it was committed", {"status_reason": why})
            if done is None or done.request != ask.request:
                why = f"the node agent on {node} did not finish the commit in {ANSWER_WAIT:.0f} s"
                raise ActionFailed(why, {"status_reason": f"commit failed: {why}"})
            if done.digest is None:
                raise ActionFailed(str(done.error), {"status_reason": f"commit failed: {done.error}"})
            await record_image(self._gw, e, ask, done)
            return {"status_reason": None}

        self._ops.run(entry, "commit", work)
        return image
