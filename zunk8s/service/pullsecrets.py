"""Zun's /v1/registries: a project's private-registry credentials, kept as a ZunRegistry and the
pull Secret it owns (translate/pullsecrets.py), and what a container created with ``registry``
pulls with."""

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
from zunk8s.service.registry import is_uuid_like
from zunk8s.translate import labels as L
from zunk8s.translate import pullsecrets as P
from zunk8s.translate.names import namespace_for, project_hash
from zunk8s.translate.objects import namespace_body
from zunk8s.translate.paging import page

Obj = dict[str, Any]
# Concurrent updates of one registry: each retried on the registry as it is now.
_UPDATE_TRIES = 5


@dataclass(frozen=True)
class PullWith:
    """What a container created with ``registry`` records: the registry, and the image as the
    kubelet is to pull it (on the registry's domain)."""

    registry_id: str
    image: str


def _bad(e: P.BadRegistry) -> InvalidValue:
    return InvalidValue(str(e))


class Registries:
    def __init__(self, *, gateway: KubeGateway, namespace_prefix: str) -> None:
        self._gw = gateway
        self._prefix = namespace_prefix

    def _namespace(self, project_id: str) -> str:
        return namespace_for(project_id, self._prefix)

    async def page(self, caller: Caller, *, all_projects: bool, filters: Mapping[str, str], sort_key: str,
                   sort_dir: str, marker: str | None, limit: int) -> list[Obj]:
        everywhere = all_projects and caller.is_admin
        objs = await self._gw.list_registries(None if everywhere else self._namespace(caller.project_id))
        rows = [(r, o) for r, o in ((P.row(o), o) for o in objs) if all(r.get(k) == v for k, v in filters.items())]
        by_uuid = {r["uuid"]: o for r, o in rows}
        chosen = page([r for r, _ in rows], sort_key=sort_key, sort_dir=sort_dir, marker=marker, limit=limit,
                      sort_keys=P.SORT_KEYS, missing=RegistryNotFound)
        return [by_uuid[r["uuid"]] for r in chosen]

    async def get(self, caller: Caller, ident: str, *, own_only: bool = False) -> Obj:
        """Zun's get_registry: a uuid-like ident by uuid, another by name (409 when two have it);
        the caller's project's, or any project's for an admin (unless ``own_only``)."""
        everywhere = caller.is_admin and not own_only
        namespace = self._namespace(caller.project_id)
        if is_uuid_like(ident):
            uuid = str(uuidlib.UUID(ident))
            found = await self._gw.get_registry(namespace, uuid)
            if found is None and everywhere:
                found = await self._gw.find_registry(uuid)
            if found is None:
                raise RegistryNotFound(ident)
            return found
        objs = await self._gw.list_registries(None if everywhere else namespace)
        matches = [o for o in objs if P.row(o)["name"] == ident]
        if not matches:
            raise RegistryNotFound(ident)
        if len(matches) > 1:
            raise Conflict("Multiple registries exist with same name. Please use the registry uuid instead.")
        return matches[0]

    async def create(self, caller: Caller, fields: Mapping[str, str]) -> Obj:
        namespace = self._namespace(caller.project_id)
        labels = L.project_labels(project_hash=project_hash(caller.project_id), instance=self._gw.instance)
        body = P.registry_object(namespace=namespace, uuid=str(uuidlib.uuid4()), fields=fields,
                                 project_id=caller.project_id, user_id=caller.user_id, labels=labels,
                                 created=zun_timestamp(now_utc()))
        ns_body = namespace_body(namespace, project_id=caller.project_id, project_hash=labels[L.PROJECT],
                                 instance=self._gw.instance)
        made = await self._gw.in_namespace(ns_body, lambda: self._gw.create_registry(body))
        try:
            await self._gw.write_secret(P.secret_body(made, fields.get("password")))
        except BaseException:
            await self._gw.delete_registry(namespace, made["metadata"]["name"])  # never one without its Secret
            raise
        return made

    async def update(self, found: Obj, changes: Mapping[str, str]) -> Obj:
        meta = found["metadata"]
        registry = found
        for _ in range(_UPDATE_TRIES):
            try:
                patch, data = P.plan_update(registry, changes)
            except P.BadRegistry as e:
                raise _bad(e) from None
            if "domain" in changes and changes["domain"] != registry["spec"].get("domain") and await self._in_use(registry):
                raise Conflict(f"Cannot change the domain of registry {meta['name']} since it is in use: its "
                               "containers' images are on the domain it has.")
            try:
                updated = await self._gw.patch_registry(meta["namespace"], meta["name"], patch)
            except KubeConflict:
                fresh = await self._gw.get_registry(meta["namespace"], meta["name"])
                if fresh is None:
                    raise RegistryNotFound(str(meta["name"])) from None
                registry = fresh
                continue
            if data is not None:
                await self._gw.write_secret({**P.secret_body(updated, None), "data": data})
            return updated
        raise Conflict("The registry is being changed by other requests at this moment; try again.")

    async def _in_use(self, registry: Obj) -> bool:
        """Whether a container names the registry (Zun's database refuses a delete while a row
        points at it): from the records on the API server, not a cache another replica's create
        may not have reached."""
        meta = registry["metadata"]
        return bool(await self._gw.records_labelled(meta["namespace"], f"{L.REGISTRY}={meta['name']}"))

    async def delete(self, found: Obj) -> None:
        meta = found["metadata"]
        if await self._in_use(found):
            raise Conflict(f"Failed to delete registry {meta['name']} since it is in use.")
        await self._gw.delete_registry(meta["namespace"], meta["name"])  # its Secret goes with it

    async def pull_with(self, caller: Caller, ident: str, image: str) -> PullWith:
        """For a create or run naming ``registry``: Zun's lookup in the caller's project (404, 409;
        Kubernetes reads a Pod's pull Secrets from its own namespace), then the image as the
        registry's (translate/pullsecrets.image_on)."""
        row = P.row(await self.get(caller, ident, own_only=True))
        try:
            pulled = P.image_on(str(row["domain"]), image)
        except P.BadRegistry as e:
            raise _bad(e) from None
        return PullWith(registry_id=str(row["uuid"]), image=pulled)

    async def still_there(self, namespace: str, registry_id: str) -> bool:
        """After a create wrote its record: a delete that raced it either saw the record (and
        refused) or is seen here."""
        return await self._gw.get_registry(namespace, registry_id) is not None

    async def image_for(self, namespace: str, registry_id: str, image: str) -> str:
        """A rebuild's image for a container that has a registry: on the registry's domain."""
        found = await self._gw.get_registry(namespace, registry_id)
        if found is None:
            raise RegistryNotFound(registry_id)
        try:
            return P.image_on(str(P.row(found)["domain"]), image)
        except P.BadRegistry as e:
            raise _bad(e) from None
