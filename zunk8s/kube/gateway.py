"""KubeGateway: every Kubernetes operation zunk8s performs, on plain dicts.

Owns the HTTP client and the two informers (ZunContainer records and the Pods behind them).
Callers get dicts and zunk8s errors; AlreadyExists/NotFound on objects we own are handled
here as the idempotent outcomes they are wherever that is the caller's intent.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import structlog

from zunk8s.kube import crd
from zunk8s.kube.errors import KubeAlreadyExists, KubeNotFound
from zunk8s.kube.http import KubeHTTP
from zunk8s.kube.watch import Informer
from zunk8s.settings import KubeSettings
from zunk8s.translate import labels as L

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
MERGE = "application/merge-patch+json"


def pod_path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{namespace}/pods"
    return f"{base}/{name}" if name else base


class KubeGateway:
    def __init__(self, http: KubeHTTP, *, instance: str) -> None:
        self.http = http
        self.instance = instance
        selector = L.managed_selector(instance)
        self.records = Informer(
            http, path=crd.ALL_RECORDS_PATH, label_selector=selector, name="records", transform=Informer.slim_record
        )
        self.pods = Informer(http, path="/api/v1/pods", label_selector=selector, name="pods", transform=Informer.slim_pod)
        self._namespaces: set[str] = set()
        self.server_version: dict[str, Any] = {}
        # Whether pods/log accepts ?stream= (learned from the first answer; None = not yet known).
        self.log_streams: bool | None = None

    @classmethod
    async def connect(cls, settings: KubeSettings) -> KubeGateway:
        return cls(await KubeHTTP.connect(settings), instance=L.instance_for(settings.namespace_prefix))

    async def close(self) -> None:
        await self.http.close()

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests sent so far, by (verb, resource)."""
        return dict(self.http.calls)

    # --- start-up -----------------------------------------------------------------------

    async def discover(self) -> dict[str, Any]:
        self.server_version = await self.http.request("GET", "/version")
        return self.server_version

    async def ensure_crd(self) -> None:
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        try:
            await self.http.request("POST", path, body=crd.crd_manifest())
            log.info("crd_created", crd=crd.CRD_NAME)
        except KubeAlreadyExists:
            pass
        for _ in range(100):
            obj = await self.http.request("GET", f"{path}/{crd.CRD_NAME}")
            conditions = (obj.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"CRD {crd.CRD_NAME} did not become Established")

    async def ensure_namespace(self, name: str, *, project_id: str, project_hash: str) -> None:
        if name in self._namespaces:
            return
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {L.MANAGED_BY: L.MANAGED_BY_VALUE, L.INSTANCE: self.instance, L.PROJECT: project_hash},
                "annotations": {L.ANN_PROJECT: project_id},
            },
        }
        try:
            await self.http.request("POST", "/api/v1/namespaces", body=body)
        except KubeAlreadyExists:
            pass
        self._namespaces.add(name)

    def forget_namespace(self, name: str) -> None:
        self._namespaces.discard(name)

    # --- records ------------------------------------------------------------------------

    async def create_record(self, namespace: str, name: str, *, spec: Obj, labels: dict[str, str]) -> Obj:
        body = {
            "apiVersion": crd.API_VERSION,
            "kind": crd.KIND,
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec,
        }
        obj: Obj = await self.http.request("POST", crd.record_path(namespace), body=body)
        self.records.upsert_local(obj)
        return obj

    async def get_record(self, namespace: str, name: str) -> Obj | None:
        """Read a record from the API server (not the cache): the authoritative copy, for
        decisions taken under a lock that another replica may have just released."""
        try:
            obj: Obj = await self.http.request("GET", crd.record_path(namespace, name))
        except KubeNotFound:
            self.records.remove_local((namespace, name))
            return None
        self.records.upsert_local(obj)
        return obj

    async def refresh_records(self, *, namespace: str | None, label_selector: str) -> None:
        """Read matching records from the API server into the cache (this installation's only)."""
        path = crd.record_path(namespace) if namespace else crd.ALL_RECORDS_PATH
        selector = L.managed_selector(self.instance) + (f",{label_selector}" if label_selector else "")
        body = await self.http.request("GET", path, params={"labelSelector": selector})
        for obj in body.get("items") or []:
            self.records.upsert_local(obj)

    async def patch_record(self, namespace: str, name: str, patch: Obj, *, status: bool = False) -> Obj:
        path = crd.record_path(namespace, name) + ("/status" if status else "")
        obj: Obj = await self.http.request("PATCH", path, body=patch, content_type=MERGE)
        self.records.upsert_local(obj)
        return obj

    async def delete_record(self, namespace: str, name: str) -> None:
        try:
            # Background propagation: the garbage collector removes the Pods it owns.
            await self.http.request(
                "DELETE", crd.record_path(namespace, name), body={"propagationPolicy": "Background"}
            )
        except KubeNotFound:
            pass
        self.records.remove_local((namespace, name))

    # --- pods ---------------------------------------------------------------------------

    async def create_pod(self, manifest: Obj) -> Obj:
        namespace = manifest["metadata"]["namespace"]
        obj: Obj = await self.http.request("POST", pod_path(namespace), body=manifest)
        self.pods.upsert_local(obj)
        return obj

    async def dry_run_pod(self, manifest: Obj) -> None:
        """Have the API server validate and admit a Pod without creating it (KubeRejected if
        it would refuse it): validation, RuntimeClass, LimitRange and quota admission."""
        namespace = manifest["metadata"]["namespace"]
        await self.http.request("POST", pod_path(namespace), params={"dryRun": "All"}, body=manifest)

    async def patch_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        obj: Obj = await self.http.request("PATCH", pod_path(namespace, name), body=patch, content_type=MERGE)
        self.pods.upsert_local(obj)
        return obj

    async def delete_pod(self, namespace: str, name: str, *, grace_seconds: int | None = None) -> None:
        body: Obj = {"propagationPolicy": "Background"}
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        try:
            await self.http.request("DELETE", pod_path(namespace, name), body=body)
        except KubeNotFound:
            pass

    def cached_pod(self, namespace: str, name: str) -> Obj | None:
        return self.pods.store.get((namespace, name))

    async def live_pod(self, namespace: str, name: str) -> Obj | None:
        """The Pod from the cache, or else from the API server: a Pod another replica made a
        moment ago may not have reached this replica's watch yet, and a decision taken on its
        absence (stop it? delete it? is it gone?) must not be taken on a lagging cache."""
        cached = self.cached_pod(namespace, name)
        if cached is not None:
            return cached
        try:
            obj: Obj = await self.http.request("GET", pod_path(namespace, name))
        except KubeNotFound:
            return None
        self.pods.upsert_local(obj)
        return self.cached_pod(namespace, name)

    async def pod_events(self, namespace: str, name: str) -> list[Obj]:
        """The events Kubernetes recorded about one Pod (kubelet probe failures, kills)."""
        body = await self.http.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/events",
            params={"fieldSelector": f"involvedObject.kind=Pod,involvedObject.name={name}"},
        )
        return list(body.get("items") or [])

    async def read_logs(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        tail: int | None,
        since_seconds: int | None,
        timestamps: bool,
        previous: bool = False,
        limit_bytes: int | None = None,
        stream: str | None = None,
    ) -> bytes:
        params: dict[str, str | int | bool | list[str]] = {"container": container, "timestamps": timestamps}
        if stream is not None:
            params["stream"] = stream  # "Stdout" / "Stderr" (KEP-3288, feature gate PodLogsQuerySplitStreams)
        if tail is not None:
            params["tailLines"] = tail
        if since_seconds is not None:
            params["sinceSeconds"] = since_seconds
        if previous:
            params["previous"] = True
        if limit_bytes is not None:
            params["limitBytes"] = limit_bytes
        chunks: list[bytes] = []
        async with self.http.stream(pod_path(namespace, pod) + "/log", params=params, read_timeout=60) as resp:
            async for chunk in resp.content.iter_chunked(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def configmap_path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    return f"{base}/{name}" if name else base


async def save_log_archive(
    gw: KubeGateway, namespace: str, name: str, *, data: bytes, owner: Obj, labels: dict[str, str]
) -> None:
    """Keep a removed Pod's logs on a ConfigMap owned by the record (GC'd with it)."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner]},
        "binaryData": {"log": base64.b64encode(data).decode()},
    }
    try:
        await gw.http.request("POST", configmap_path(namespace), body=body)
    except KubeAlreadyExists:
        await gw.http.request("PUT", configmap_path(namespace, name), body=body)


async def read_log_archive(gw: KubeGateway, namespace: str, name: str) -> bytes | None:
    try:
        obj = await gw.http.request("GET", configmap_path(namespace, name))
    except KubeNotFound:
        return None
    raw = (obj.get("binaryData") or {}).get("log")
    return base64.b64decode(raw) if raw else b""


async def resize_pod(gw: KubeGateway, namespace: str, name: str, patch: Obj) -> Obj:
    """In-place resize through the pods/resize subresource (Kubernetes 1.33+).

    Strategic merge so the containers list is merged by name, not replaced."""
    obj: Obj = await gw.http.request(
        "PATCH", pod_path(namespace, name) + "/resize", body=patch, content_type="application/strategic-merge-patch+json"
    )
    gw.pods.upsert_local(obj)
    return obj
