"""create's mounts (translate/mounts.py): checked before anything is written (Zun's 400s, the
404 of a volume the project does not have, the 409 of a bind mount with no helper image
configured), and what they need made before the container's first Pod: the Secret of its
injected files and the claims of its new volumes, owned by the record (removed with it)."""

from __future__ import annotations

from typing import Any

from zunk8s.errors import Conflict, InvalidValue, VolumeNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.registry import Entry
from zunk8s.translate import crd, mounts
from zunk8s.translate import labels as L
from zunk8s.translate.isolation import owner_reference
from zunk8s.translate.names import project_hash


class Mounts:
    def __init__(self, *, gateway: KubeGateway, helper_image: str) -> None:
        self._gw = gateway
        self._helper_image = helper_image

    async def check(self, namespace: str, requested: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if not requested:
            return None
        try:
            checked = mounts.check_mounts(requested)
        except mounts.BadMount as e:
            raise InvalidValue(str(e)) from None
        if any(m["type"] == "bind" for m in checked) and not self._helper_image:
            raise Conflict("Bind mounts (injected files) need images.helper_image (zunk8s's own image, whose "
                           "`zunk8s inject` copies them into the container's filesystem), and none is configured.")
        for m in checked:
            if m["type"] == "volume" and "source" in m and await self._gw.get_claim(namespace, m["source"]) is None:
                raise VolumeNotFound(m["source"])
        return checked

    async def prepare(self, entry: Entry) -> None:
        """The injected files' Secret and the new claims (idempotent: a retried create, or
        recovery of one, finds them made)."""
        if not entry.record.mounts:
            return
        labels = L.owner_labels(uuid=entry.uuid, project_hash=project_hash(entry.record.project_id), instance=self._gw.instance)
        owner = owner_reference(api_version=crd.API_VERSION, kind=crd.KIND, name=entry.uuid, uid=entry.uid)
        secret = mounts.files_secret(entry.record, entry.namespace, labels=labels, owner=owner)
        for body in [*([secret] if secret else []), *mounts.new_claims(entry.record, entry.namespace, labels=labels, owner=owner)]:
            await self._gw.create_owned(body)
