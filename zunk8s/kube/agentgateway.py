"""What the node agent asks of Kubernetes, and nothing more: its own node's Pods of its
installation (a watch cache), the answer annotation on one of them, and its Lease."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from zunk8s.kube.errors import KubeNotFound
from zunk8s.kube.http import KubeHTTP
from zunk8s.kube.watch import Informer
from zunk8s.settings import KubeSettings
from zunk8s.translate import labels as L

Obj = dict[str, Any]
MERGE = "application/merge-patch+json"


class AgentGateway:
    def __init__(self, http: KubeHTTP, *, instance: str, node: str) -> None:
        self._http = http
        self.instance = instance
        self.node = node
        self._pods = Informer(http, path="/api/v1/pods", label_selector=L.managed_selector(instance), name="node-pods",
                              field_selector=f"spec.nodeName={node}")

    @classmethod
    async def connect(cls, settings: KubeSettings, *, node: str) -> AgentGateway:
        return cls(await KubeHTTP.connect(settings), instance=L.instance_for(settings.namespace_prefix), node=node)

    async def close(self) -> None:
        await self._http.close()

    def informer_loop(self) -> Awaitable[None]:
        return self._pods.run()

    def on_pod_event(self, handler: Any) -> None:
        self._pods.add_handler(handler)

    def pods(self) -> list[Obj]:
        return list(self._pods.store.values())

    async def annotate_pod(self, namespace: str, name: str, annotations: dict[str, str]) -> None:
        try:
            pod = await self._http.request("PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}",
                                           body={"metadata": {"annotations": annotations}}, content_type=MERGE)
        except KubeNotFound:
            return  # gone meanwhile: nothing to answer
        # Read our own answer at once: the next look at this Pod must not take the ask as unanswered.
        self._pods.upsert_local(pod)

    async def renew_lease(self, body: Obj) -> None:
        """Create the agent's Lease, or renew it (a merge patch of its spec)."""
        meta = body["metadata"]
        path = f"/apis/coordination.k8s.io/v1/namespaces/{meta['namespace']}/leases"
        try:
            await self._http.request("PATCH", f"{path}/{meta['name']}", body={"spec": body["spec"]}, content_type=MERGE)
        except KubeNotFound:
            await self._http.request("POST", path, body=body)
