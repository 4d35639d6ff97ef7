"""rebuild: the container made anew from its record, with the given image or its own (Zun's
``container_rebuild``): same uuid, name and settings; status ``Rebuilding`` while it happens;
run again if it was running, else left Created.

The previous Pod is stopped (SIGTERM, then a kill after the stop timeout, as a stop is) and
removed, its logs saved first as for every retired Pod (README: logs); the next Pod is a new
generation from the record, so nothing of the old container's writable layer survives, as with
Docker's rebuild. A new image Kubernetes would refuse is a 400 before anything changes (the same
dry run create uses).
"""

from __future__ import annotations

from zunk8s.errors import InvalidValue, NotImplementedOnKubernetes
from zunk8s.kube.errors import KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.images import CommittedImages
from zunk8s.service.operations import Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.pullsecrets import Registries
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate.names import pod_name
from zunk8s.translate.statuschanges import Changes


class Rebuilds:
    def __init__(self, *, gateway: KubeGateway, ops: Operations, pods: PodWork, images: CommittedImages,
                 registries: Registries, stop_timeout: int) -> None:
        self._gw = gateway
        self._ops = ops
        self._pods = pods
        self._images = images
        self._registries = registries
        self._stop_timeout = stop_timeout

    async def rebuild(self, caller: Caller, entry: Entry, *, image: str | None, image_driver: str | None) -> None:
        check_state("rebuild", uuid=entry.uuid, status=entry.status.status)
        if image_driver == "glance":
            raise NotImplementedOnKubernetes(
                "image_driver 'glance' needs an OpenStack image service, and zunk8s has none configured: "
                "Kubernetes pulls images from registries. Use image_driver 'docker' (the default)."
            )
        # A new image, or the same name again: a committed image of that name may be newer; with
        # a registry, the image on the registry's domain as it is now.
        name, registry_id = image or entry.record.image, entry.record.registry_id
        image_ref = (await self._registries.image_for(entry.namespace, registry_id, name) if registry_id
                     else await self._images.resolve(entry.namespace, name))
        if image is not None and image != entry.record.image:
            await self._check_image(entry, image, image_ref)
        was_running = entry.status.status == "Running"
        entry = await self._ops.begin(caller, entry, "rebuild", "container_rebuilding", status="Rebuilding")

        async def work(e: Entry) -> Changes | None:
            if (image is not None and image != e.record.image) or image_ref != e.record.image_ref:
                e = await self._ops.write_spec(e, {"image": image or e.record.image, "image_ref": image_ref})
            if e.status.pod is not None:
                await self._pods.stop(e, self._stop_timeout)
                e = await self._pods.retire(self._ops.cached(e))
            if was_running:
                return await self._pods.launch(e, status="Rebuilding")
            return {"status": "Created", "desired": "created", "pod": None, "status_reason": None, "exit_code": None,
                    "started_at": None, "finished_at": None}

        self._ops.run(entry, "rebuild", work)

    async def _check_image(self, entry: Entry, image: str, image_ref: str | None) -> None:
        record = entry.record.model_copy(update={"image": image, "image_ref": image_ref})
        manifest = self._pods.manifest(record, entry.namespace, name=pod_name(entry.uuid, entry.status.generation + 1),
                                       generation=entry.status.generation + 1, owner_uid=None)
        try:
            await self._gw.dry_run_pod(manifest)
        except KubeRejected as e:
            raise InvalidValue(f"Kubernetes would refuse this image: {e.kube_message}") from None
