"""Each container's NetworkPolicy, written from its record and its project's security groups
(translate/secgroups.py ``container_policy``), and what its exposed ports need: their group and
Service (translate/isolation.py).

When a policy is written: before a container's first Pod (so no Pod of it is ever unprotected);
after a change to its groups or networks (add/remove_security_group, network_attach/detach);
for every member after a change to a group's rules; and by the leader's sweep, which rewrites a
policy that differs from what the groups and records say now (a group changed with kubectl, a
policy edited or deleted by hand). A capsule (translate/capsules.py) is a member like a
container: its Pod's policy is written before its Pod may be scheduled, and rewritten with its
groups' rules and by the sweep.

One writer per project at a time, across replicas (a lock in the state store): a writer reads
the groups and records after taking the lock, so the last write always comes from the newest
state, whatever order concurrent changes finish in.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from zunk8s.clock import kube_now
from zunk8s.errors import SecurityGroupNotFound
from zunk8s.kube.errors import KubeAlreadyExists
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.registry import Entry, Registry
from zunk8s.state.keys import isolation_lock
from zunk8s.state.protocol import StateStore
from zunk8s.translate import capsules, crd
from zunk8s.translate import labels as L
from zunk8s.translate.isolation import (
    container_groups,
    container_networks,
    exposed_group_id,
    exposed_group_rule_fields,
    exposed_ports,
    exposed_service,
    membership_patch,
    object_name,
    owner_reference,
    pod_membership,
)
from zunk8s.translate.names import project_hash
from zunk8s.translate.neutronviews import DEFAULT_DESCRIPTION, DEFAULT_NAME, default_group_id, group_body, group_rules
from zunk8s.translate.secgroups import (
    ExposedPort,
    NotExpressible,
    PodRanges,
    Rule,
    canonical_rule,
    check_expressible,
    container_policy,
    new_group_rules,
)

Obj = dict[str, Any]
log = structlog.get_logger(__name__)

# A policy write waits this long for another replica's write in the same project.
SYNC_WAIT = 30.0


def new_rule_ids() -> Iterator[str]:
    """Random rule ids, as Neutron gives them."""
    while True:
        yield str(uuidlib.uuid4())


class Isolation:
    def __init__(
        self, *, gateway: KubeGateway, store: StateStore, registry: Registry, pods: PodRanges, lock_ttl: float
    ) -> None:
        self._gw = gateway
        self._store = store
        self._registry = registry
        self._pods = pods
        self._lock_ttl = lock_ttl
        self._batches: dict[str, _Batch] = {}
        self._writers: set[asyncio.Task[None]] = set()

    def _member(self, entry: Entry) -> _Member:
        record = entry.record
        return _Member(name=object_name(entry.uuid), namespace=entry.namespace, project_id=record.project_id,
                       selector={L.UUID: entry.uuid}, labels=self._labels(entry), owner=self._owner(entry),
                       groups=container_groups(record, self._gw.instance),
                       networks=container_networks(record, self._gw.instance), exposed=exposed_ports(record))

    def _capsule_member(self, pod: Mapping[str, Any], record: capsules.CapsuleRecord) -> _Member | None:
        meta = pod.get("metadata") or {}
        if not meta.get("uid"):
            return None
        owner = owner_reference(api_version="v1", kind="Pod", name=str(meta["name"]), uid=str(meta["uid"]))
        labels = {**L.project_labels(project_hash=project_hash(record.project_id), instance=self._gw.instance),
                  capsules.CAPSULE_LABEL: record.uuid}
        return _Member(name=capsules.policy_name(record.uuid), namespace=str(meta["namespace"]),
                       project_id=record.project_id, selector={capsules.CAPSULE_LABEL: record.uuid}, labels=labels,
                       owner=owner, groups=list(record.security_groups), networks=list(record.networks),
                       exposed=capsules.exposed(record))

    def _capsule_members(self) -> dict[str, list[_Member]]:
        """The cached capsules' members, by namespace (one pass over the Pod cache)."""
        out: dict[str, list[_Member]] = {}
        for pod, record in capsules.cached(self._gw.cached_pods()):
            member = self._capsule_member(pod, record)
            if member is not None:
                out.setdefault(member.namespace, []).append(member)
        return out

    def _labels(self, entry: Entry) -> dict[str, str]:
        return L.owner_labels(uuid=entry.uuid, project_hash=project_hash(entry.record.project_id), instance=self._gw.instance)

    def _owner(self, entry: Entry) -> Obj:
        return owner_reference(api_version=crd.API_VERSION, kind=crd.KIND, name=entry.uuid, uid=entry.uid)

    # --- a new container ------------------------------------------------------------------

    async def prepare(self, entry: Entry) -> None:
        """What a container needs before its first Pod: with exposed ports, their group (Zun's
        ``zun-<uuid>``, which the record already names) and Service; then its policy. All are
        owned by the record, so Kubernetes removes them with it."""
        ports = exposed_ports(entry.record)
        if ports:
            group_id = exposed_group_id(entry.uuid)
            now = kube_now()
            # Rule ids derive from the container's: a retried prepare makes the same group.
            rules = [canonical_rule(f, rule_id=_rule_id(entry.uuid, i), group_id=group_id)
                     for i, f in enumerate(exposed_group_rule_fields(group_id, ports))]
            body = group_body(entry.namespace, group_id, name=object_name(entry.uuid), description="",
                              project_id=entry.record.project_id, labels=self._labels(entry), rules=rules, now=now)
            body["metadata"]["ownerReferences"] = [self._owner(entry)]
            try:
                await self._gw.create_security_group(body)
            except KubeAlreadyExists:
                pass
            service = exposed_service(entry.record, entry.namespace, labels=self._labels(entry), owner=self._owner(entry))
            if service is not None:
                await self._gw.apply_owned(service)
        await self.sync(entry.namespace, [entry.uuid])

    async def make_default_group(self, namespace: str, project_id: str) -> Obj:
        """The project's ``default`` group with Neutron's four rules (the same id on every
        replica: a second maker finds the first one's)."""
        group_id = default_group_id(self._gw.instance, project_id)
        rules = new_group_rules(group_id, is_default=True, rule_ids=new_rule_ids())
        labels = L.project_labels(project_hash=project_hash(project_id), instance=self._gw.instance)
        body = group_body(namespace, group_id, name=DEFAULT_NAME, description=DEFAULT_DESCRIPTION,
                          project_id=project_id, labels=labels, rules=rules, now=kube_now())
        try:
            return await self._gw.create_security_group(body)
        except KubeAlreadyExists:  # another replica (or request) made it first
            made = await self._gw.get_security_group(namespace, group_id)
            if made is None:
                raise SecurityGroupNotFound(group_id) from None
            return made

    # --- policies -------------------------------------------------------------------------

    async def sync(self, namespace: str, uuids: Iterable[str]) -> None:
        """Write the policies of these containers from their groups and records as they are now
        (read after this call began). Calls for one project coalesce: while one batch is
        written, the next collects every container asked for meanwhile, and is written by one
        holder of the lock (a thousand creates make a few batches, not a thousand turns)."""
        batch = self._batches.get(namespace)
        if batch is None or batch.started:
            batch = self._batches[namespace] = _Batch(asyncio.get_running_loop().create_future())
            # Its own task: the caller may be cancelled (a client gone) while others wait on it.
            task = asyncio.create_task(self._write_batch(namespace, batch), name=f"isolation:{namespace}")
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)
        batch.uuids.update(uuids)
        await asyncio.shield(batch.done)

    async def _write_batch(self, namespace: str, batch: _Batch) -> None:
        try:
            async with self._store.lock(isolation_lock(namespace), ttl=self._lock_ttl, wait=SYNC_WAIT):
                batch.started = True  # later callers start the next batch: this one reads now
                if self._batches.get(namespace) is batch:
                    del self._batches[namespace]
                fresh = [await self._registry.fresh((namespace, uuid)) for uuid in sorted(batch.uuids)]
                members = [self._member(e) for e in fresh if e is not None]
                rules = await self._group_rules(namespace, members)
                for member in members:
                    await self._gw.apply_owned(self._policy(member, rules))
        except BaseException as e:
            batch.started = True
            if self._batches.get(namespace) is batch:
                del self._batches[namespace]
            if not batch.done.done():
                batch.done.set_exception(e)
            if isinstance(e, asyncio.CancelledError):
                raise
            return
        batch.done.set_result(None)

    async def sync_members(self, namespace: str, group_id: str) -> None:
        """A group's rules changed: rewrite the policies of the containers in it."""
        members = [e.uuid for e in self._entries(namespace) if group_id in container_groups(e.record, self._gw.instance)]
        if members:
            await self.sync(namespace, members)
        capsule_members = [m for m in self._capsule_members().get(namespace, []) if group_id in m.groups]
        if capsule_members:
            await self._write_members(namespace, capsule_members)

    async def apply_capsule(self, pod: Mapping[str, Any]) -> None:
        """A new capsule's policy (before its Pod may be scheduled)."""
        record = capsules.record_of(pod)
        member = None if record is None else self._capsule_member(pod, record)
        if member is None:  # no record or no uid: no policy could be written, and its gate stays
            raise ValueError(f"capsule Pod {(pod.get('metadata') or {}).get('name')} has no readable record")
        await self._write_members(member.namespace, [member])

    async def _write_members(self, namespace: str, members: Sequence[_Member]) -> None:
        async with self._store.lock(isolation_lock(namespace), ttl=self._lock_ttl, wait=SYNC_WAIT):
            rules = await self._group_rules(namespace, members)
            for member in members:
                await self._gw.apply_owned(self._policy(member, rules))

    async def sweep(self) -> None:
        """Rewrite every policy that is not what the groups and records say now (the leader's
        sweep): a group changed with kubectl, a policy edited or deleted by hand."""
        capsule_members = self._capsule_members()
        namespaces = sorted({key[0] for key in self._gw.record_keys()} | set(capsule_members))
        for namespace in namespaces:
            async with self._store.lock(isolation_lock(namespace), ttl=self._lock_ttl, wait=SYNC_WAIT):
                members = [self._member(e) for e in self._entries(namespace)] + capsule_members.get(namespace, [])
                rules = await self._group_rules(namespace, members)
                existing = {p["metadata"]["name"]: p for p in await self._gw.list_owned("NetworkPolicy", namespace)}
                for member in members:
                    wanted = self._policy(member, rules)
                    have = existing.get(wanted["metadata"]["name"])
                    if have is None or have.get("spec") != wanted["spec"]:
                        log.info("network_policy_rewritten", policy=member.name, missing=have is None)
                        await self._gw.apply_owned(wanted)

    def _entries(self, namespace: str) -> list[Entry]:
        entries = (self._registry.entry(key) for key in self._gw.record_keys() if key[0] == namespace)
        return [e for e in entries if e is not None]

    async def _group_rules(self, namespace: str, members: Iterable[_Member]) -> dict[str, list[Rule]]:
        """The rules of the namespace's groups; the project's default group made first when a
        member is in it and it does not exist yet (Neutron makes it on first use too)."""
        groups = {g["metadata"]["name"]: g for g in await self._gw.list_security_groups(namespace)}
        for member in members:
            default = default_group_id(self._gw.instance, member.project_id)
            if default not in groups and default in member.groups:
                groups[default] = await self.make_default_group(namespace, member.project_id)
        return {name: group_rules(g)[0] for name, g in groups.items()}

    def _policy(self, member: _Member, rules: dict[str, list[Rule]]) -> Obj:
        chosen = []
        for group_id in member.groups:
            for rule in rules.get(group_id, []):  # a group gone (deleted with kubectl) allows nothing
                try:
                    check_expressible(rule, self._pods)
                except NotExpressible as e:
                    # Written with kubectl (the API refuses it): it allows nothing, never more.
                    log.warning("security_group_rule_not_enforced", group=group_id, rule=rule.id, reason=e.detail)
                    continue
                chosen.append(rule)
        return container_policy(name=member.name, namespace=member.namespace, pod_selector=member.selector,
                                labels=member.labels, owner=member.owner, rules=chosen, networks=member.networks,
                                pods=self._pods, exposed=member.exposed)

    async def apply(self, entry: Entry) -> None:
        """Make the Pod and the policy say the record's groups and networks (a change to them,
        or recovery finishing one a dead replica began)."""
        await self.relabel(entry)
        await self.sync(entry.namespace, [entry.uuid])

    # --- a running container's Pod ----------------------------------------------------------

    async def relabel(self, entry: Entry) -> None:
        """Make the container's current Pod carry its groups and networks as they now are (the
        Pod runs on: labels change in place)."""
        if entry.status.pod is None:
            return
        pod = await self._gw.live_pod(entry.namespace, entry.status.pod)
        if pod is None:
            return
        current = (pod.get("metadata") or {}).get("labels") or {}
        patch = membership_patch(current, pod_membership(entry.record, self._gw.instance))
        if patch:
            await self._gw.patch_pod(entry.namespace, entry.status.pod, {"metadata": {"labels": patch}})


@dataclass(frozen=True)
class _Member:
    """What one policy is written for: a container's Pod or a capsule's."""

    name: str
    namespace: str
    project_id: str
    selector: dict[str, str]
    labels: dict[str, str]
    owner: Obj
    groups: list[str]
    networks: list[str]
    exposed: list[ExposedPort]


@dataclass
class _Batch:
    """Containers of one project whose policies one writer will write."""

    done: asyncio.Future[None]
    uuids: set[str] = field(default_factory=set)
    # Set once the writer holds the lock: what it writes is read after this.
    started: bool = False


def _rule_id(uuid: str, index: int) -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"zunk8s:{uuid}:exposed-ports:rule:{index}"))
