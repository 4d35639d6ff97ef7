"""The read side: container records from the informer cache, lookups by uuid or name, lists.

Parsed records are memoised per resourceVersion, so listing 1,000 containers costs dict
lookups, not 1,000 pydantic validations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from zunk8s.errors import Conflict, ContainerNotFound
from zunk8s.kube.gateway import Key, KubeGateway
from zunk8s.records import Record, RecordStatus
from zunk8s.service.context import Caller
from zunk8s.translate import labels as L
from zunk8s.translate.names import namespace_for

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def is_uuid_like(value: str) -> bool:
    return bool(_UUID_RE.match(value))


@dataclass(frozen=True)
class Entry:
    record: Record
    status: RecordStatus
    namespace: str
    uid: str
    resource_version: str
    # False until the first status write: the create has not finished yet.
    has_status: bool

    @property
    def uuid(self) -> str:
        return self.record.uuid

    @property
    def key(self) -> Key:
        return (self.namespace, self.record.uuid)


def entry_from_object(obj: dict[str, Any]) -> Entry:
    meta = obj.get("metadata") or {}
    raw_status = obj.get("status")
    return Entry(
        record=Record.model_validate(obj.get("spec") or {}),
        status=RecordStatus.model_validate(raw_status or {}),
        namespace=str(meta.get("namespace")),
        uid=str(meta.get("uid")),
        resource_version=str(meta.get("resourceVersion")),
        has_status=bool(raw_status),
    )


class Registry:
    def __init__(self, gateway: KubeGateway, *, namespace_prefix: str) -> None:
        self._gw = gateway
        self._namespace_prefix = namespace_prefix
        self._parsed: dict[Key, Entry] = {}

    def entry(self, key: Key) -> Entry | None:
        obj = self._gw.cached_record(key)
        if obj is None:
            self._parsed.pop(key, None)
            return None
        rv = str((obj.get("metadata") or {}).get("resourceVersion"))
        cached = self._parsed.get(key)
        if cached is not None and cached.resource_version == rv:
            return cached
        parsed = entry_from_object(obj)
        self._parsed[key] = parsed
        return parsed

    def all_entries(self) -> list[Entry]:
        out = []
        for key in self._gw.record_keys():
            e = self.entry(key)
            if e is not None:
                out.append(e)
        return out

    def visible(self, caller: Caller, *, all_projects: bool) -> list[Entry]:
        entries = self.all_entries()
        if all_projects and caller.is_admin:
            return entries
        return [e for e in entries if e.record.project_id == caller.project_id]

    async def find(self, caller: Caller, ident: str) -> Entry:
        """Zun's get_resource: uuid-like idents match uuids only, others match names.

        Admins see every project in ident lookups (Zun sets all_projects for them). A miss in
        this replica's cache is checked against the API server: a container created a moment
        ago through another replica must not be a 404 here."""
        try:
            return self._match(caller, ident)
        except ContainerNotFound:
            pass
        await self._refresh_for(caller, ident)
        return self._match(caller, ident)

    def _match(self, caller: Caller, ident: str) -> Entry:
        if is_uuid_like(ident):
            matches = self._by_uuid(caller, ident.lower())
        else:
            candidates = self.visible(caller, all_projects=caller.is_admin)
            matches = [e for e in candidates if e.record.name == ident]
        if not matches:
            raise ContainerNotFound(ident)
        if len(matches) > 1:
            raise Conflict("Multiple containers exist with same name. Please use the container uuid instead.")
        return matches[0]

    def _by_uuid(self, caller: Caller, uuid: str) -> list[Entry]:
        """Records are named by their uuid: a lookup in the caller's namespace (admins: a scan
        of the keys), not a parse of every record, so a show costs the same with 10,000."""
        if caller.is_admin:
            keys = [k for k in self._gw.record_keys() if k[1] == uuid]
        else:
            keys = [(namespace_for(caller.project_id, self._namespace_prefix), uuid)]
        entries = [self.entry(k) for k in keys]
        return [e for e in entries if e is not None and (caller.is_admin or e.record.project_id == caller.project_id)]

    async def fresh(self, key: Key) -> Entry | None:
        """The record as the API server has it now (also into the cache): for decisions this
        replica's cache may be too late for, e.g. a stream opened here for a container another
        replica started a moment ago."""
        await self._gw.get_record(*key)
        return self.entry(key)

    async def _refresh_for(self, caller: Caller, ident: str) -> None:
        if is_uuid_like(ident):
            selector = f"{L.UUID}={ident.lower()}"
        elif L.is_valid_label_value(ident):
            selector = f"{L.NAME}={ident}"
        else:
            selector = ""  # names too long for a label: read the whole namespace
        namespace = None if caller.is_admin else namespace_for(caller.project_id, self._namespace_prefix)
        await self._gw.refresh_records(namespace=namespace, label_selector=selector)
