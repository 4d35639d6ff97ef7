"""A project's committed images (ZunImage objects, translate/commit.py): found again by name when
a container is created or rebuilt, so that ``run repo:tag`` after ``commit c repo:tag`` runs the
committed image, as it does on Zun's Docker host."""

from __future__ import annotations

from zunk8s.kube.gateway import KubeGateway
from zunk8s.translate import commit


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
