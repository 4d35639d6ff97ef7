"""KubeGateway: every Kubernetes operation zunk8s performs, on plain dicts.

Opaque: callers get methods for what they need (records and Pods from the watch caches or
the API server, writes, exec/attach streams, logs, events, saved logs, Nodes) and never its HTTP
client or informers. Failures are ``zunk8s.kube.errors.KubeError``s (not Zun errors: the
service decides what each means for a client). AlreadyExists/NotFound on objects we own are
handled here as the idempotent outcomes they are wherever that is the caller's intent.
What the cluster supports is in ``capabilities``, detected at start-up or on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import structlog

from zunk8s.kube.errors import KubeAlreadyExists, KubeNotFound, KubeRejected, KubeUnavailable
from zunk8s.kube.http import KubeHTTP
from zunk8s.kube.streams import ExecStream, open_stream
from zunk8s.kube.watch import Informer
from zunk8s.kube.watch import Key as Key  # callers name records by it
from zunk8s.settings import KubeSettings
from zunk8s.translate import crd
from zunk8s.translate import labels as L
from zunk8s.translate.logtext import tail_lines
from zunk8s.translate.objects import log_archive_data

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
T = TypeVar("T")
MERGE = "application/merge-patch+json"
EventHandler = Callable[[str, Obj], Awaitable[None] | None]
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


# Nodes per list page: a Node carries its image list, often the bulk of it.
NODE_PAGE = 100


def _slim_node(obj: Obj) -> Obj:
    """A Node without what nobody here reads: the images it holds (often hundreds, with every
    digest) and managedFields."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    status = {k: v for k, v in (obj.get("status") or {}).items() if k != "images"}
    return {"metadata": meta, "spec": obj.get("spec") or {}, "status": status}


def pod_path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{namespace}/pods"
    return f"{base}/{name}" if name else base


def _owned_path(kind: str, namespace: str) -> str:
    if kind == "NetworkPolicy":
        return f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
    if kind == "Service":
        return f"/api/v1/namespaces/{namespace}/services"
    if kind == "Secret":
        return f"/api/v1/namespaces/{namespace}/secrets"
    if kind == "PersistentVolumeClaim":
        return f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"
    raise ValueError(kind)


def configmap_path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    return f"{base}/{name}" if name else base


@dataclass
class Capabilities:
    """What this cluster supports, as found at start-up (version) or on first use."""

    kubernetes_version: str | None = None
    exec_protocols: tuple[str, ...] = EXEC_PROTOCOLS
    # Whether pods/log accepts ?stream= (KEP-3288); None until the first log read that asks.
    log_streams: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kubernetes_version": self.kubernetes_version,
            "exec_protocols": list(self.exec_protocols),
            "log_streams": self.log_streams,
        }


class KubeGateway:
    def __init__(self, http: KubeHTTP, *, instance: str) -> None:
        self._http = http
        self.instance = instance
        selector = L.managed_selector(instance)
        self._records = Informer(
            http, path=crd.ALL_RECORDS_PATH, label_selector=selector, name="records", transform=Informer.slim_record
        )
        self._pods = Informer(http, path="/api/v1/pods", label_selector=selector, name="pods", transform=Informer.slim_pod)
        self._namespaces: set[str] = set()
        self.capabilities = Capabilities()

    @classmethod
    async def connect(cls, settings: KubeSettings) -> KubeGateway:
        return cls(await KubeHTTP.connect(settings), instance=L.instance_for(settings.namespace_prefix))

    async def close(self) -> None:
        await self._http.close()

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests sent so far, by (verb, resource)."""
        return dict(self._http.calls)

    def request_seconds(self) -> dict[tuple[str, str], float]:
        """Seconds spent in those requests so far, by (verb, resource)."""
        return dict(self._http.seconds)

    def watch_stats(self) -> dict[str, tuple[int, float | None]]:
        """Per watch cache: how often its watch restarted, and seconds since its last event or
        bookmark (None before the first)."""
        now = asyncio.get_running_loop().time()
        return {
            inf.name: (inf.restarts, None if inf.last_event_at is None else now - inf.last_event_at)
            for inf in (self._records, self._pods)
        }

    @property
    def reachable(self) -> bool:
        """False while the API server is found unreachable (actions then answer 503 at once)."""
        return self._http.reachable

    def unavailable_error(self) -> KubeUnavailable:
        """The error that says since when and why the API server is unreachable."""
        return self._http.unavailable_error()

    # --- start-up and the watch caches ---------------------------------------------------

    async def discover(self) -> Capabilities:
        version = await self._http.request("GET", "/version")
        self.capabilities.kubernetes_version = version.get("gitVersion")
        return self.capabilities

    def informer_loops(self) -> dict[str, Awaitable[None]]:
        """The watch loops that keep the caches current, by name: the caller runs and owns them."""
        return {"informer:records": self._records.run(), "informer:pods": self._pods.run()}

    @property
    def synced(self) -> bool:
        """Whether both caches have done their first list (they are kept current after it)."""
        return self._records.synced.is_set() and self._pods.synced.is_set()

    async def wait_synced(self) -> None:
        """Until both caches hold the cluster's truth (their first list is done)."""
        await asyncio.gather(self._records.synced.wait(), self._pods.synced.wait())

    def on_pod_event(self, handler: EventHandler) -> None:
        """Call ``handler(kind, pod)`` for every Pod watch event (ADDED/MODIFIED/DELETED)."""
        self._pods.add_handler(handler)

    def on_record_event(self, handler: EventHandler) -> None:
        """Call ``handler(kind, record)`` for every record watch event."""
        self._records.add_handler(handler)

    async def ensure_crd(self, *, create: bool) -> None:
        """Wait until every CRD is Established; create them first when ``create`` (else they
        must exist: the Helm chart installs them)."""
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        for manifest in crd.crd_manifests():
            name = manifest["metadata"]["name"]
            if create:
                try:
                    await self._http.request("POST", path, body=manifest)
                    log.info("crd_created", crd=name)
                except KubeAlreadyExists:
                    pass
            await self._wait_established(f"{path}/{name}", name)
            spec = manifest["spec"]
            await self._wait_served(f"/apis/{spec['group']}/{spec['versions'][0]['name']}/{spec['names']['plural']}", name)

    async def _wait_served(self, path: str, name: str) -> None:
        """Established is not yet served: for a moment after it the API server answers 429
        "storage is (re)initializing" (or 404) for the new resource. Wait until a list works,
        so that the first request a client makes does not meet that."""
        for _ in range(100):
            try:
                await self._http.request("GET", path, params={"limit": 1})
                return
            except (KubeNotFound, KubeUnavailable):
                await asyncio.sleep(0.1)
        raise RuntimeError(f"CRD {name} is Established but its resources are not served after 10 s")

    async def _wait_established(self, path: str, name: str) -> None:
        for _ in range(100):
            try:
                obj = await self._http.request("GET", path)
            except KubeNotFound:
                raise RuntimeError(
                    f"CRD {name} is not installed and kube.manage_crd is off: install it "
                    "(the Helm chart's crds/) or let zunk8s create it"
                ) from None
            conditions = (obj.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"CRD {name} did not become Established")

    async def ensure_namespace(self, body: Obj) -> None:
        """Create the namespace ``body`` describes unless this replica already made or saw it."""
        name = body["metadata"]["name"]
        if name in self._namespaces:
            return
        try:
            await self._http.request("POST", "/api/v1/namespaces", body=body)
        except KubeAlreadyExists:
            pass
        self._namespaces.add(name)

    def forget_namespace(self, name: str) -> None:
        self._namespaces.discard(name)

    async def in_namespace(self, body: Obj, write: Callable[[], Awaitable[T]]) -> T:
        """``write`` into the namespace ``body`` describes, made first unless this replica made
        or saw it. Deleted behind our back since (the write's KubeNotFound): made again, and
        the write done once more."""
        await self.ensure_namespace(body)
        try:
            return await write()
        except KubeNotFound:
            self.forget_namespace(body["metadata"]["name"])
            await self.ensure_namespace(body)
            return await write()

    # --- reads and deletes the kinds below share ------------------------------------------

    async def _get_or_none(self, path: str) -> Obj | None:
        try:
            obj: Obj = await self._http.request("GET", path)
        except KubeNotFound:
            return None
        return obj

    async def _items(self, path: str, params: dict[str, str | int | bool | list[str]] | None = None) -> list[Obj]:
        body = await self._http.request("GET", path, params=params)
        items: list[Obj] = body.get("items") or []
        return items

    async def _find(self, all_path: str, name: str) -> Obj | None:
        """This installation's object of that name in whichever namespace (an admin's lookup by
        id). ``name`` must be a valid object name: it goes into a field selector."""
        params: dict[str, str | int | bool | list[str]] = {
            "labelSelector": L.managed_selector(self.instance), "fieldSelector": f"metadata.name={name}"}
        items = await self._items(all_path, params)
        return items[0] if items else None

    async def _patch_or_create(self, path: str, name: str, patch: Obj, body: Obj) -> Obj:
        """Merge ``patch`` into the object ``name`` of collection ``path``, or make it from ``body``
        when it is missing (made meanwhile by another writer: patched after all)."""
        try:
            obj: Obj = await self._http.request("PATCH", f"{path}/{name}", body=patch, content_type=MERGE)
        except KubeNotFound:
            try:
                obj = await self._http.request("POST", path, body=body)
            except KubeAlreadyExists:
                obj = await self._http.request("PATCH", f"{path}/{name}", body=patch, content_type=MERGE)
        return obj

    async def _delete_quietly(self, path: str) -> None:
        """Delete; already gone is done."""
        try:
            await self._http.request("DELETE", path)
        except KubeNotFound:
            pass

    # --- security groups (read live: few per project, and rule changes must see the latest) ----

    async def list_security_groups(self, namespace: str) -> list[Obj]:
        """Every SecurityGroup in a project's namespace (also those made with kubectl)."""
        return await self._items(crd.security_group_path(namespace))

    async def get_security_group(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(crd.security_group_path(namespace, name))

    async def create_security_group(self, body: Obj) -> Obj:
        """KubeAlreadyExists when a group of that id exists (a default group another replica made)."""
        obj: Obj = await self._http.request("POST", crd.security_group_path(body["metadata"]["namespace"]), body=body)
        return obj

    async def patch_security_group(self, namespace: str, name: str, patch: Obj) -> Obj:
        """A merge patch; with metadata.resourceVersion in it, KubeConflict if the group changed
        since it was read (the caller reads again and retries)."""
        obj: Obj = await self._http.request(
            "PATCH", crd.security_group_path(namespace, name), body=patch, content_type=MERGE
        )
        return obj

    async def delete_security_group(self, namespace: str, name: str) -> None:
        await self._delete_quietly(crd.security_group_path(namespace, name))

    # --- networks (read live, like security groups; shared ones from every namespace) --------

    async def list_networks(self, namespace: str) -> list[Obj]:
        """Every Network in a project's namespace (also those made with kubectl)."""
        return await self._items(crd.network_path(namespace))

    async def list_shared_networks(self) -> list[Obj]:
        """This installation's shared Networks, in every namespace (by their labels)."""
        return await self._items(crd.ALL_NETWORKS_PATH, {"labelSelector": f"{L.managed_selector(self.instance)},{L.SHARED}=true"})

    async def find_network(self, name: str) -> Obj | None:
        return await self._find(crd.ALL_NETWORKS_PATH, name)

    async def get_network(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(crd.network_path(namespace, name))

    async def create_network(self, body: Obj) -> Obj:
        """KubeAlreadyExists when a network of that id exists (a default network another replica made)."""
        obj: Obj = await self._http.request("POST", crd.network_path(body["metadata"]["namespace"]), body=body)
        return obj

    async def patch_network(self, namespace: str, name: str, patch: Obj) -> Obj:
        """A merge patch; KubeNotFound when the network is gone."""
        obj: Obj = await self._http.request("PATCH", crd.network_path(namespace, name), body=patch, content_type=MERGE)
        return obj

    async def delete_network(self, namespace: str, name: str) -> None:
        await self._delete_quietly(crd.network_path(namespace, name))

    # --- committed images (read live: one GET when a create names an image without a registry)

    async def get_image(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(crd.image_path(namespace, name))

    async def list_images(self, namespace: str) -> list[Obj]:
        return await self._items(crd.image_path(namespace))

    async def find_image(self, name: str) -> Obj | None:
        return await self._find(crd.ALL_IMAGES_PATH, name)

    async def patch_image(self, namespace: str, name: str, patch: Obj) -> None:
        await self._http.request("PATCH", crd.image_path(namespace, name), body=patch, content_type=MERGE)

    async def delete_image(self, namespace: str, name: str) -> None:
        await self._delete_quietly(crd.image_path(namespace, name))

    async def save_image(self, body: Obj) -> Obj:
        """Make the ZunImage ``body`` describes, or make an existing one (a commit to the same
        name again) say what it says."""
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        try:
            obj: Obj = await self._http.request("POST", crd.image_path(namespace), body=body)
        except KubeAlreadyExists:
            patch = {"metadata": {"labels": body["metadata"].get("labels") or {}}, "spec": body["spec"]}
            obj = await self._http.request("PATCH", crd.image_path(namespace, name), body=patch, content_type=MERGE)
        return obj

    # --- Zun's registries: ZunRegistry objects (read live: few, changed rarely) and the pull
    # Secrets they own, which are written and never read ---------------------------------------

    async def list_registries(self, namespace: str | None) -> list[Obj]:
        """This installation's registries in a namespace, or in every one (an admin's)."""
        return await self._items(crd.registry_path(namespace) if namespace else crd.ALL_REGISTRIES_PATH,
                                 {"labelSelector": L.managed_selector(self.instance)})

    async def get_registry(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(crd.registry_path(namespace, name))

    async def find_registry(self, name: str) -> Obj | None:
        return await self._find(crd.ALL_REGISTRIES_PATH, name)

    async def create_registry(self, body: Obj) -> Obj:
        obj: Obj = await self._http.request("POST", crd.registry_path(body["metadata"]["namespace"]), body=body)
        return obj

    async def patch_registry(self, namespace: str, name: str, patch: Obj) -> Obj:
        """A merge patch; one carrying a resourceVersion fails (KubeConflict) if it changed."""
        obj: Obj = await self._http.request("PATCH", crd.registry_path(namespace, name), body=patch, content_type=MERGE)
        return obj

    async def delete_registry(self, namespace: str, name: str) -> None:
        await self._delete_quietly(crd.registry_path(namespace, name))

    async def write_secret(self, body: Obj) -> None:
        """Make the Secret ``body`` describes, or replace its data (it is never read)."""
        path = _owned_path("Secret", body["metadata"]["namespace"])
        try:
            await self._http.request("POST", path, body=body)
        except KubeAlreadyExists:
            await self._http.request("PATCH", f"{path}/{body['metadata']['name']}", body={"data": body["data"]},
                                     content_type=MERGE)

    async def records_labelled(self, namespace: str, selector: str) -> list[Obj]:
        """This installation's records in a namespace with these labels, from the API server."""
        return await self._items(crd.record_path(namespace),
                                 {"labelSelector": f"{L.managed_selector(self.instance)},{selector}"})

    # --- quotas: a project's ResourceQuota, the quota classes' ConfigMap (read live) ---------

    async def get_resource_quota(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(f"/api/v1/namespaces/{namespace}/resourcequotas/{name}")

    async def save_resource_quota(self, body: Obj, *, hard_keys: Iterable[str]) -> None:
        """Make the ResourceQuota ``body`` describes, or make the existing one say it (its
        ``hard_keys`` that ``body`` lacks are removed)."""
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        path = f"/api/v1/namespaces/{namespace}/resourcequotas"
        hard = body["spec"]["hard"]
        patch = {"metadata": {"labels": body["metadata"]["labels"], "annotations": body["metadata"]["annotations"]},
                 "spec": {"hard": {k: hard.get(k) for k in {*hard_keys, *hard}}}}
        await self._patch_or_create(path, name, patch, body)

    async def delete_resource_quota(self, namespace: str, name: str) -> None:
        await self._delete_quietly(f"/api/v1/namespaces/{namespace}/resourcequotas/{name}")

    async def get_configmap(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(configmap_path(namespace, name))

    async def merge_configmap(self, body: Obj) -> Obj:
        """Merge ``body``'s data keys into the ConfigMap (made if missing): other keys are kept,
        so writers of different keys never undo each other."""
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        patch = {"metadata": {"labels": body["metadata"]["labels"]}, "data": body["data"]}
        return await self._patch_or_create(configmap_path(namespace), name, patch, body)

    # --- a container's injected files and new volumes (made once, removed with the record) ---

    async def create_owned(self, body: Obj) -> None:
        """Make the Secret or PersistentVolumeClaim ``body`` describes; one made before (by a
        retried create) is kept: neither changes after the container is made."""
        path = _owned_path(body["kind"], body["metadata"]["namespace"])
        try:
            await self._http.request("POST", path, body=body)
        except KubeAlreadyExists:
            pass

    async def get_claim(self, namespace: str, name: str) -> Obj | None:
        return await self._get_or_none(_owned_path("PersistentVolumeClaim", namespace) + f"/{name}")

    async def list_claims(self, namespace: str) -> list[Obj]:
        """A namespace's claims, whoever made them (a capsule's volumeID may name one by uid)."""
        return await self._items(_owned_path("PersistentVolumeClaim", namespace))

    # --- capsules: their Pods, read live (few; a capsule made through another replica a moment
    # ago must be found) -----------------------------------------------------------------------

    async def list_capsule_pods(self, namespace: str | None, label: str) -> list[Obj]:
        path = pod_path(namespace) if namespace else "/api/v1/pods"
        return await self._items(path, {"labelSelector": f"{L.managed_selector(self.instance)},{label}"})

    async def find_pod(self, name: str) -> Obj | None:
        """This installation's Pod of that name in whichever namespace (an admin's lookup)."""
        return await self._find("/api/v1/pods", name)

    # --- a container's NetworkPolicy and Service (written whole, read only by the sweep) ----

    async def apply_owned(self, body: Obj) -> None:
        """Make the NetworkPolicy or Service ``body`` describes, or make an existing one say what
        ``body`` says (a merge patch of its labels and spec: each list in the spec is replaced)."""
        path = _owned_path(body["kind"], body["metadata"]["namespace"])
        name = body["metadata"]["name"]
        patch = {"metadata": {"labels": body["metadata"].get("labels") or {}}, "spec": body["spec"]}
        await self._patch_or_create(path, name, patch, body)

    async def list_owned(self, kind: Literal["NetworkPolicy", "Service"], namespace: str) -> list[Obj]:
        """This installation's objects of ``kind`` in a namespace."""
        body = await self._http.request(
            "GET", _owned_path(kind, namespace), params={"labelSelector": L.managed_selector(self.instance)}
        )
        items: list[Obj] = body.get("items") or []
        return items


    # --- node agents ------------------------------------------------------------------------

    async def get_lease(self, namespace: str, name: str) -> Obj | None:
        """A node agent's Lease (translate/freeze.py): whether it serves its node."""
        return await self._get_or_none(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")

    # --- records ------------------------------------------------------------------------

    def cached_record(self, key: Key) -> Obj | None:
        """A record from the watch cache (this replica's view; may lag another replica's write)."""
        return self._records.store.get(key)

    def record_keys(self) -> list[Key]:
        """(namespace, uuid) of every cached record."""
        return list(self._records.store)

    async def create_record(self, body: Obj) -> Obj:
        namespace = body["metadata"]["namespace"]
        obj: Obj = await self._http.request("POST", crd.record_path(namespace), body=body)
        self._records.upsert_local(obj)
        return obj

    async def get_record(self, namespace: str, name: str) -> Obj | None:
        """Read a record from the API server (not the cache): the authoritative copy, for
        decisions taken under a lock that another replica may have just released."""
        try:
            obj: Obj = await self._http.request("GET", crd.record_path(namespace, name))
        except KubeNotFound:
            self._records.remove_local((namespace, name))
            return None
        self._records.upsert_local(obj)
        return obj

    async def refresh_records(self, *, namespace: str | None, label_selector: str) -> None:
        """Read matching records from the API server into the cache (this installation's only)."""
        path = crd.record_path(namespace) if namespace else crd.ALL_RECORDS_PATH
        selector = L.managed_selector(self.instance) + (f",{label_selector}" if label_selector else "")
        body = await self._http.request("GET", path, params={"labelSelector": selector})
        for obj in body.get("items") or []:
            self._records.upsert_local(obj)

    async def patch_record(self, namespace: str, name: str, patch: Obj, *, status: bool = False) -> Obj:
        path = crd.record_path(namespace, name) + ("/status" if status else "")
        obj: Obj = await self._http.request("PATCH", path, body=patch, content_type=MERGE)
        self._records.upsert_local(obj)
        return obj

    async def delete_record(self, namespace: str, name: str) -> None:
        try:
            # Background propagation: the garbage collector removes the Pods it owns.
            await self._http.request(
                "DELETE", crd.record_path(namespace, name), body={"propagationPolicy": "Background"}
            )
        except KubeNotFound:
            pass
        self._records.remove_local((namespace, name))

    # --- pods ---------------------------------------------------------------------------

    async def create_pod(self, manifest: Obj) -> Obj:
        namespace = manifest["metadata"]["namespace"]
        obj: Obj = await self._http.request("POST", pod_path(namespace), body=manifest)
        self._pods.upsert_local(obj)
        return obj

    async def dry_run_pod(self, manifest: Obj) -> None:
        """Have the API server validate and admit a Pod without creating it (KubeRejected if
        it would refuse it): validation, RuntimeClass, LimitRange and quota admission."""
        namespace = manifest["metadata"]["namespace"]
        await self._http.request("POST", pod_path(namespace), params={"dryRun": "All"}, body=manifest)

    async def patch_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        obj: Obj = await self._http.request("PATCH", pod_path(namespace, name), body=patch, content_type=MERGE)
        self._pods.upsert_local(obj)
        return obj

    async def delete_pod(self, namespace: str, name: str, *, grace_seconds: int | None = None) -> None:
        body: Obj = {"propagationPolicy": "Background"}
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        try:
            await self._http.request("DELETE", pod_path(namespace, name), body=body)
        except KubeNotFound:
            pass

    def cached_pod(self, namespace: str, name: str) -> Obj | None:
        return self._pods.store.get((namespace, name))

    def cached_pods(self) -> list[tuple[Key, Obj]]:
        """Every cached Pod of this installation."""
        return list(self._pods.store.items())

    def pods_of(self, namespace: str, uuid: str) -> list[Obj]:
        """The cached Pods of one container (any generation)."""
        return [
            p
            for (ns, _), p in self._pods.store.items()
            if ns == namespace and ((p.get("metadata") or {}).get("labels") or {}).get(L.UUID) == uuid
        ]

    async def resize_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        """In-place resize through the pods/resize subresource (Kubernetes 1.33+). Strategic
        merge, so the containers list is merged by name, not replaced."""
        obj: Obj = await self._http.request(
            "PATCH",
            pod_path(namespace, name) + "/resize",
            body=patch,
            content_type="application/strategic-merge-patch+json",
        )
        self._pods.upsert_local(obj)
        return obj

    async def open_stream(
        self,
        kind: Literal["exec", "attach"],
        *,
        namespace: str,
        pod: str,
        container: str,
        command: list[str] | None = None,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
    ) -> ExecStream:
        """An exec or attach stream into a container (v5.channel.k8s.io, else v4)."""
        return await open_stream(
            self._http,
            kind=kind,
            namespace=namespace,
            pod=pod,
            container=container,
            command=command,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            tty=tty,
        )

    async def live_pod(self, namespace: str, name: str) -> Obj | None:
        """The Pod from the cache, or else from the API server: a Pod another replica made a
        moment ago may not have reached this replica's watch yet, and a decision taken on its
        absence (stop it? delete it? is it gone?) must not be taken on a lagging cache."""
        cached = self.cached_pod(namespace, name)
        if cached is not None:
            return cached
        try:
            obj: Obj = await self._http.request("GET", pod_path(namespace, name))
        except KubeNotFound:
            return None
        self._pods.upsert_local(obj)
        return self.cached_pod(namespace, name)

    async def whole_pod(self, namespace: str, name: str) -> Obj | None:
        """The Pod as the API server has it, every field (the cache keeps a slim copy)."""
        return await self._get_or_none(pod_path(namespace, name))

    async def pod_events(self, namespace: str, name: str) -> list[Obj]:
        """The events Kubernetes recorded about one Pod (kubelet probe failures, kills)."""
        body = await self._http.request(
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
        limit_bytes: int | None = None,
        stream: Literal["Stdout", "Stderr"] | None = None,
    ) -> bytes:
        """A container's log. ``stream``: one of stdout/stderr alone where the cluster can split
        them (KEP-3288, feature gate PodLogsQuerySplitStreams); both, merged, where it cannot
        (learned on the first try, kept in ``capabilities.log_streams``)."""
        params: dict[str, str | int | bool | list[str]] = {"container": container, "timestamps": timestamps}
        if since_seconds is not None:
            params["sinceSeconds"] = since_seconds
        if limit_bytes is not None:
            params["limitBytes"] = limit_bytes
        path = pod_path(namespace, pod) + "/log"
        if stream is not None and self.capabilities.log_streams is not False:
            try:
                # The API refuses tailLines together with stream (for now), so tail is cut here.
                data = await self._read_all(path, {**params, "stream": stream})
                self.capabilities.log_streams = True
                return tail_lines(data, tail)
            except KubeRejected as e:
                if "stream" not in e.fields:
                    raise
                self.capabilities.log_streams = False
        if tail is not None:
            params["tailLines"] = tail
        return await self._read_all(path, params)

    async def _read_all(self, path: str, params: dict[str, str | int | bool | list[str]]) -> bytes:
        chunks: list[bytes] = []
        async with self._http.stream(path, params=params, read_timeout=60) as resp:
            async for chunk in resp.content.iter_chunked(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    # --- nodes (Zun's hosts) -------------------------------------------------------------

    async def list_nodes(self) -> list[Obj]:
        """Every Node, read a page at a time, slimmed (``_slim_node``). Not cached: only the
        admin's host list and show and a create with a requested host read them."""
        nodes: list[Obj] = []
        params: dict[str, str | int | bool | list[str]] = {"limit": NODE_PAGE}
        while True:
            body = await self._http.request("GET", "/api/v1/nodes", params=params)
            nodes.extend(_slim_node(n) for n in body.get("items") or [])
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return nodes
            params["continue"] = str(token)

    async def get_node(self, name: str) -> Obj | None:
        """One Node by name (slimmed), or None if there is no such Node."""
        try:
            obj: Obj = await self._http.request("GET", f"/api/v1/nodes/{quote(name, safe='')}")
        except KubeNotFound:
            return None
        return _slim_node(obj)

    async def node_images(self, name: str) -> list[Obj]:
        """The images a Node reports it holds (names, size), as its kubelet last said."""
        node = await self._get_or_none(f"/api/v1/nodes/{quote(name, safe='')}")
        images: list[Obj] = ((node or {}).get("status") or {}).get("images") or []
        return images

    # --- configmaps (saved logs) ---------------------------------------------------------

    async def save_log_archive(self, body: Obj) -> None:
        """Create or replace the ConfigMap ``body`` describes (translate/objects.py)."""
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        try:
            await self._http.request("POST", configmap_path(namespace), body=body)
        except KubeAlreadyExists:
            await self._http.request("PUT", configmap_path(namespace, name), body=body)

    async def read_log_archive(self, namespace: str, name: str) -> bytes | None:
        """The saved logs, or None if there is no such ConfigMap."""
        try:
            obj: Obj = await self._http.request("GET", configmap_path(namespace, name))
        except KubeNotFound:
            return None
        return log_archive_data(obj)
