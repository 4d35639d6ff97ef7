"""A project's images (ZunImage objects): committed ones found again by name when a container is
created or rebuilt, so that ``run repo:tag`` after ``commit c repo:tag`` runs the committed
image, as it does on Zun's Docker host (translate/commit.py); and Zun's /v1/images
(translate/images.py)."""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from typing import Any

import structlog

from zunk8s.clock import now_utc, zun_timestamp
from zunk8s.errors import (
    BackendUnavailable,
    ImageAlreadyExists,
    ImageNotFound,
    InvalidValue,
    NotImplementedOnKubernetes,
    ZunError,
)
from zunk8s.imageregistry.catalog import Catalog, CatalogError
from zunk8s.imageregistry.hosts import plain_http
from zunk8s.kube.errors import KubeError
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.hosts import Hosts
from zunk8s.service.podwork import PodWork
from zunk8s.service.registry import is_uuid_like
from zunk8s.service.tasks import TaskRunner
from zunk8s.translate import commit, images, imagesearch
from zunk8s.translate import labels as L
from zunk8s.translate.names import namespace_for, project_hash
from zunk8s.translate.objects import namespace_body
from zunk8s.translate.paging import page

Obj = dict[str, Any]
log = structlog.get_logger(__name__)
# A pull of a large image over a slow link takes minutes; past this the image stays without an id.
PULL_WAIT = 600.0
# The kubelet updates its Node's image list every 10 s or so (nodeStatusUpdateFrequency).
SIZE_TRIES, SIZE_WAIT = 7, 5.0


class CommittedImages:
    def __init__(self, *, gateway: KubeGateway, registry: str) -> None:
        self._gw = gateway
        self._registry = registry

    async def resolve(self, namespace: str, image: str) -> str | None:
        """The pinned reference the Pods run for ``image`` when the project committed an image of
        that name; None for any other image (the kubelet pulls it as named). Only names without
        a registry can be committed ones: they cost one GET, others none."""
        if not self._registry:
            return None
        name = commit.split_image(image)
        if name is None:
            return None
        found = await self._gw.get_image(namespace, commit.image_uuid(namespace, *name))
        return commit.committed_ref(found)


class Images:
    """/v1/images: a project's ZunImages listed, shown, pulled onto a node, deleted (Zun's
    admin-only image API; translate/images.py says how a pull is made)."""

    def __init__(self, *, gateway: KubeGateway, pods: PodWork, hosts: Hosts, tasks: TaskRunner, namespace_prefix: str,
                 search_registry: str = "", commit_registry: str = "") -> None:
        self._gw = gateway
        self._pods = pods
        self._hosts = hosts
        self._tasks = tasks
        self._prefix = namespace_prefix
        commit_host = commit_registry.strip("/").partition("/")[0]
        self._search = imagesearch.search_place(search_registry, commit_registry, plain=plain_http(commit_host))

    async def search(self, caller: Caller, image: str, *, exact: bool) -> list[Obj]:
        """translate/imagesearch.py: the registry's repositories that match, with their tags."""
        place = self._search
        if place is None:
            raise NotImplementedOnKubernetes(
                "zunk8s has no registry to search: Zun searches Docker Hub, which is outside the cluster, and no "
                "registry is configured here (ZUNK8S_IMAGES__SEARCH_REGISTRY or ZUNK8S_IMAGES__COMMIT_REGISTRY)."
            )
        try:
            term, tag = imagesearch.parse_term(image, place)
        except imagesearch.BadSearch as e:
            raise InvalidValue(str(e)) from None
        own = namespace_for(caller.project_id, self._prefix)
        catalog = Catalog(place.url)
        try:
            repos = [r for r in await catalog.repositories()
                     if imagesearch.visible(r, place, own_namespace=own, namespace_prefix=self._prefix)
                     and imagesearch.matches(r, term, place, exact=exact, own_namespace=own)]
            repos = sorted(repos)[:imagesearch.MAX_RESULTS]
            tags = await catalog.tags(repos)
        except CatalogError as e:
            raise BackendUnavailable(f"Image search failed: {e.detail}.") from None
        if tag is not None:
            repos = [r for r in repos if tag in tags.get(r, [])]
        return imagesearch.results(repos, tags, place)

    async def page(self, caller: Caller, *, sort_key: str, sort_dir: str, marker: str | None, limit: int) -> list[Obj]:
        """The caller's project's images (Zun lists only the caller's, admins' too)."""
        objs = await self._gw.list_images(namespace_for(caller.project_id, self._prefix))
        rows = [(images.row(o), o) for o in objs]
        by_uuid = {r["uuid"]: o for r, o in rows}
        chosen = page([r for r, _ in rows], sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                      sort_keys=images.SORT_KEYS, missing=ImageNotFound)
        return [by_uuid[r["uuid"]] for r in chosen]

    async def get(self, caller: Caller, ident: str) -> Obj:
        """One image by id: the caller's project's, or any project's for an admin (Zun's
        get_resource); Zun's 400 for an unknown one."""
        if is_uuid_like(ident):
            name = str(uuidlib.UUID(ident))  # Zun's uuids match without dashes and in capitals too
            found = await self._gw.get_image(namespace_for(caller.project_id, self._prefix), name)
            if found is None and caller.is_admin:
                found = await self._gw.find_image(name)
            if found is not None:
                return found
        raise ImageNotFound(ident)

    async def pull(self, caller: Caller, repo_arg: str, host: str) -> Obj:
        """``repo_arg`` and ``host`` as images.check_pull passed them."""
        hostname = await self._hosts.hostname(host)
        if hostname is None:
            raise InvalidValue(f"The host {host} does not exist.")
        host = hostname  # Zun keeps the compute node's name
        repo, tag = images.split_repo(repo_arg)
        namespace = namespace_for(caller.project_id, self._prefix)
        if any((o.get("spec") or {}).get("repo") == repo and (o.get("spec") or {}).get("tag") == tag
               and (o.get("spec") or {}).get("host") == host for o in await self._gw.list_images(namespace)):
            raise ImageAlreadyExists(repo, tag)
        uuid = str(uuidlib.uuid4())
        labels = L.project_labels(project_hash=project_hash(caller.project_id), instance=self._gw.instance)
        ns_body = namespace_body(namespace, project_id=caller.project_id, project_hash=labels[L.PROJECT],
                                 instance=self._gw.instance)
        image = images.image_object(namespace=namespace, uuid=uuid, repo=repo, tag=tag, host=host,
                                    project_id=caller.project_id, labels=labels, created=zun_timestamp(now_utc()))
        obj = await self._gw.in_namespace(ns_body, lambda: self._gw.save_image(image))
        pod = images.pull_pod(name=f"zun-pull-{uuid}", namespace=namespace, image=images.reference(repo, tag), host=host,
                              uuid=uuid, labels=labels)
        self._tasks.spawn(self._pull(namespace, uuid, pod), name=f"pull:{uuid}")
        return obj

    async def _pull(self, namespace: str, uuid: str, pod: Obj) -> None:
        """The kubelet pulls; the image's id and size go on its ZunImage, and the Pod goes. A pull
        that fails leaves them unset, as Zun's does (it only logs why)."""
        name = pod["metadata"]["name"]
        try:
            await self._gw.create_pod(pod)
            await self._pods.wait_pod(namespace, name, images.pull_ended, timeout=PULL_WAIT)
            outcome = images.pulled(await self._gw.whole_pod(namespace, name))
            if outcome is None or outcome.image_id is None:
                log.warning("image_pull_failed", image=uuid, error=outcome.error if outcome else f"no answer in {PULL_WAIT:.0f} s")
                return
            ref = pod["spec"]["containers"][0]["image"]
            await self._gw.patch_image(namespace, uuid, {"spec": {"image_id": outcome.image_id}})
            # The kubelet lists a new image in its Node's status at its next status update.
            for _ in range(SIZE_TRIES):
                size = images.node_image_size(await self._gw.node_images(pod["spec"]["nodeName"]), outcome.image_id, ref)
                if size is not None:
                    await self._gw.patch_image(namespace, uuid, {"spec": {"size": size}})
                    break
                await asyncio.sleep(SIZE_WAIT)
            log.info("image_pulled", image=uuid, ref=ref, image_id=outcome.image_id)
        except (KubeError, ZunError) as e:
            log.warning("image_pull_failed", image=uuid, error=repr(e))
        finally:
            try:
                await self._gw.delete_pod(namespace, name, grace_seconds=0)
            except KubeError as e:
                log.warning("image_pull_pod_left", pod=name, error=repr(e))  # the sweep removes it later

    async def delete(self, caller: Caller, ident: str) -> None:
        """The image's record goes; the node's copy is the kubelet's to collect (its image
        garbage collection), and a committed image stays in the registry."""
        found = await self.get(caller, ident)
        await self._gw.delete_image(found["metadata"]["namespace"], found["metadata"]["name"])
