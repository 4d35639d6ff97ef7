"""Zun's /v1/registries: a project's private-registry credentials, kept as image pull Secrets
(translate/pullsecrets.py), and what a container created with ``registry`` pulls with."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zunk8s.clock import now_utc, zun_timestamp
from zunk8s.errors import Conflict, InvalidValue, RegistryNotFound
from zunk8s.kube.errors import KubeConflict
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.registry import Registry, is_uuid_like
from zunk8s.translate import labels as L
from zunk8s.translate import pullsecrets as P
from zunk8s.translate.names import namespace_for, project_hash
from zunk8s.translate.objects import namespace_body
from zunk8s.translate.paging import page

Obj = dict[str, Any]
# Concurrent updates of one registry: each retried on the Secret as it is now.
_UPDATE_TRIES = 5


@dataclass(frozen=True)
class PullWith:
    """What a container created with ``registry`` records: the registry, and the image as the
    kubelet is to pull it (on the registry's domain)."""

    registry_id: str
    image: str


class Registries:
    def __init__(self, *, gateway: KubeGateway, records: Registry, namespace_prefix: str) -> None:
        self._gw = gateway
        self._records = records
        self._prefix = namespace_prefix

    def _namespace(self, project_id: str) -> str:
        return namespace_for(project_id, self._prefix)

    async def page(self, caller: Caller, *, all_projects: bool, filters: Mapping[str, str], sort_key: str,
                   sort_dir: str, marker: str | None, limit: int) -> list[Obj]:
        everywhere = all_projects and caller.is_admin
        objs = await self._gw.list_registries(None if everywhere else self._namespace(caller.project_id))
        rows = [(P.row(o), o) for o in objs]
        rows = [(r, o) for r, o in rows if all(r.get(k) == v for k, v in filters.items())]
        by_uuid = {r["uuid"]: o for r, o in rows}
        chosen = page([r for r, _ in rows], sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                      sort_keys=P.SORT_KEYS, missing=RegistryNotFound)
        return [by_uuid[r["uuid"]] for r in chosen]

    async def get(self, caller: Caller, ident: str) -> Obj:
        """Zun's get_registry: a uuid-like ident by uuid, another by name (409 when two have it);
        the caller's project's, or any project's for an admin."""
        if is_uuid_like(ident):
            uuid = str(uuidlib.UUID(ident))
            found = await self._gw.get_secret(self._namespace(caller.project_id), P.secret_name(uuid))
            if found is None and caller.is_admin:
                found = await self._gw.find_registry(uuid)
            if found is None or P.row(found)["uuid"] != uuid:
                raise RegistryNotFound(ident)
            return found
        objs = await self._gw.list_registries(None if caller.is_admin else self._namespace(caller.project_id))
        matches = [o for o in objs if P.row(o)["name"] == ident]
        if not matches:
            raise RegistryNotFound(ident)
        if len(matches) > 1:
            raise Conflict("Multiple registries exist with same name. Please use the registry uuid instead.")
        return matches[0]

    async def create(self, caller: Caller, fields: Mapping[str, str]) -> Obj:
        namespace = self._namespace(caller.project_id)
        labels = L.project_labels(project_hash=project_hash(caller.project_id), instance=self._gw.instance)
        body = P.secret_body(namespace=namespace, uuid=str(uuidlib.uuid4()), fields=fields,
                             project_id=caller.project_id, user_id=caller.user_id, labels=labels,
                             created=zun_timestamp(now_utc()))
        ns_body = namespace_body(namespace, project_id=caller.project_id, project_hash=labels[L.PROJECT],
                                 instance=self._gw.instance)
        return await self._gw.in_namespace(ns_body, lambda: self._gw.create_secret(body))

    async def update(self, found: Obj, changes: Mapping[str, str]) -> Obj:
        meta = found["metadata"]
        secret = found
        for _ in range(_UPDATE_TRIES):
            try:
                return await self._gw.patch_secret(meta["namespace"], meta["name"], P.update_patch(secret, changes))
            except KubeConflict:
                fresh = await self._gw.get_secret(meta["namespace"], meta["name"])
                if fresh is None:
                    raise RegistryNotFound(str(P.row(found)["uuid"])) from None
                secret = fresh
        raise Conflict("The registry is being changed by other requests at this moment; try again.")

    async def delete(self, found: Obj) -> None:
        uuid = str(P.row(found)["uuid"])
        meta = found["metadata"]
        # Zun's database refuses (a container's foreign key); here the records say it.
        if any(e.record.registry_id == uuid and e.namespace == meta["namespace"] for e in self._records.all_entries()):
            raise Conflict(f"Failed to delete registry {uuid} since it is in use.")
        await self._gw.delete_secret(meta["namespace"], meta["name"])

    async def pull_with(self, caller: Caller, ident: str, image: str) -> PullWith:
        """For a create or run naming ``registry``: Zun's lookup (404, 409), then the image as the
        registry's (translate/pullsecrets.image_on)."""
        found = await self.get(caller, ident)
        row = P.row(found)
        if found["metadata"].get("namespace") != self._namespace(caller.project_id):
            raise InvalidValue(
                f"Registry {ident} belongs to project {row['project_id']}: a container can use only its own "
                "project's registries (Kubernetes reads a Pod's pull Secrets from the Pod's own namespace)."
            )
        try:
            pulled = P.image_on(str(row["domain"]), image)
        except P.BadRegistry as e:
            raise InvalidValue(str(e)) from None
        return PullWith(registry_id=str(row["uuid"]), image=pulled)

    async def image_for(self, namespace: str, registry_id: str, image: str) -> str:
        """A rebuild's image for a container that has a registry: on the registry's domain as it
        is now (an update may have moved it)."""
        found = await self._gw.get_secret(namespace, P.secret_name(registry_id))
        if found is None:
            raise RegistryNotFound(registry_id)
        try:
            return P.image_on(str(P.row(found)["domain"]), image)
        except P.BadRegistry as e:
            raise InvalidValue(str(e)) from None
