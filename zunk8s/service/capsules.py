"""Zun's /v1/capsules: a capsule is one Pod of several containers (translate/capsules.py).

create: the template's volumes resolved (an existing claim by name or uid: Zun's 404 otherwise),
the Pod checked by the API server (a dry run: 400 with its reason), then made behind a
scheduling gate; its new claims and NetworkPolicy are made, owned by the Pod, and the gate
lifted, so the Pod never runs before it is isolated. A create cut short (a replica dying) leaves
a gated Pod that the sweep finishes (``finish_stuck``). delete: the Pod, and with it what it
owns. Every read is live: a capsule is wholly its Pod, and another replica may have just made it.
"""

from __future__ import annotations

import random
import uuid as uuidlib
from datetime import datetime
from typing import Any

import structlog

from zunk8s.clock import now_utc, seconds_since_kube_time, zun_timestamp
from zunk8s.errors import Conflict, ContainerNotFound, InvalidValue, OverQuota, VolumeNotFound
from zunk8s.kube.errors import KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record
from zunk8s.schemas.containers import DEFAULT_CPU, DEFAULT_MEMORY
from zunk8s.service.context import Caller
from zunk8s.service.isolation import Isolation
from zunk8s.service.names_gen import GREEK
from zunk8s.service.networks import Networks
from zunk8s.service.registry import is_uuid_like
from zunk8s.translate import capsules as C
from zunk8s.translate import labels as L
from zunk8s.translate.isolation import owner_reference
from zunk8s.translate.names import is_dns_label, namespace_for, project_hash
from zunk8s.translate.neutronviews import default_group_id
from zunk8s.translate.objects import namespace_body
from zunk8s.translate.paging import page
from zunk8s.translate.quotas import over_message

Obj = dict[str, Any]
log = structlog.get_logger(__name__)
# A gated capsule Pod this old was left by a create that did not finish.
STUCK_AFTER = 60.0


class Capsules:
    def __init__(self, *, gateway: KubeGateway, isolation: Isolation, networks: Networks, namespace_prefix: str,
                 request_ratio: float, node_selector: dict[str, str], tolerations: list[dict[str, Any]]) -> None:
        self._gw = gateway
        self._isolation = isolation
        self._networks = networks
        self._prefix = namespace_prefix
        self._ratio = request_ratio
        self._node_selector = node_selector
        self._tolerations = tolerations

    def _namespace(self, project_id: str) -> str:
        return namespace_for(project_id, self._prefix)

    # --- reads --------------------------------------------------------------------------------

    async def _listed(self, namespace: str | None) -> list[tuple[Obj, C.CapsuleRecord]]:
        """The capsules of a namespace (or every one), each Pod with its record read once; a Pod
        whose record is unreadable (edited by hand) is nobody's capsule."""
        pods = await self._gw.list_capsule_pods(namespace, C.CAPSULE_LABEL)
        return [(p, r) for p in pods if (r := C.record_of(p)) is not None]

    async def page(self, caller: Caller, *, all_projects: bool, sort_key: str, sort_dir: str, marker: str | None,
                   limit: int) -> list[tuple[Obj, C.CapsuleRecord]]:
        everywhere = all_projects and caller.is_admin
        found = await self._listed(None if everywhere else self._namespace(caller.project_id))
        by_uuid = {r.uuid: (p, r) for p, r in found}
        chosen = page([C.row(p, r) for p, r in found], sort_key=sort_key, sort_dir=sort_dir, marker=marker,
                      limit=limit, sort_keys=C.SORT_KEYS, missing=ContainerNotFound)
        return [by_uuid[row["uuid"]] for row in chosen]

    async def get(self, caller: Caller, ident: str) -> tuple[Obj, C.CapsuleRecord]:
        """Zun's lookup: a uuid-like ident by uuid, another by name (409 when two have it); the
        caller's project's, any project's for an admin. Zun's capsules are rows of its
        containers table: a miss is its 404 "Container X could not be found."."""
        if is_uuid_like(ident):
            name = C.pod_name(str(uuidlib.UUID(ident)))
            pod = await self._gw.whole_pod(self._namespace(caller.project_id), name)
            if pod is None and caller.is_admin:
                pod = await self._gw.find_pod(name)
            record = C.record_of(pod) if pod is not None else None
            found = [(pod, record)] if pod is not None and record is not None else []
        else:
            listed = await self._listed(None if caller.is_admin else self._namespace(caller.project_id))
            found = [(p, r) for p, r in listed if r.name == ident]
        if not found:
            raise ContainerNotFound(ident)
        if len(found) > 1:
            raise Conflict("Multiple containers exist with same name. Please use the container uuid instead.")
        return found[0]

    # --- create ---------------------------------------------------------------------------------

    async def create(self, caller: Caller, template: C.Template) -> tuple[Obj, C.CapsuleRecord]:
        uuid = str(uuidlib.uuid4())
        namespace = self._namespace(caller.project_id)
        volumes = await self._volumes(namespace, uuid, template)
        record = self._record(caller, template, uuid=uuid, volumes=volumes,
                              network=await self._networks.default_for(caller))
        phash = project_hash(caller.project_id)
        pod = C.capsule_pod(record, namespace=namespace, project_hash=phash, instance=self._gw.instance,
                            ratio=self._ratio, node_selector=self._node_selector, tolerations=self._tolerations)
        ns_body = namespace_body(namespace, project_id=caller.project_id, project_hash=phash, instance=self._gw.instance)

        async def write() -> Obj:
            try:
                await self._gw.dry_run_pod(pod)
            except KubeRejected as e:
                if e.http_status == 403 and "exceeded quota" in e.kube_message:
                    # Zun does not count capsules; the project's ResourceQuota still bounds its Pods.
                    raise OverQuota(f"{over_message(['cpu', 'memory'])}: {e.kube_message}") from None
                raise InvalidValue(f"Kubernetes would refuse this capsule: {e.kube_message}") from None
            return await self._gw.create_pod(pod)

        made = await self._gw.in_namespace(ns_body, write)
        await self.finish(made)
        return made, record

    async def _volumes(self, namespace: str, uuid: str, template: C.Template) -> list[C.CapsuleVolume]:
        """Each volume's claim: an existing one of the project by name or uid (volumeID), or a new
        one (size)."""
        claims: list[Obj] | None = None
        out = []
        for index, v in enumerate(template.volumes):
            kube = v.name if is_dns_label(v.name) else f"volume-{index}"
            if v.claim is None:
                out.append(C.CapsuleVolume(name=v.name, kube=kube, claim=C.claim_name(uuid, index), made=True,
                                           size=v.size, auto_remove=v.auto_remove))
                continue
            if claims is None:
                claims = await self._gw.list_claims(namespace)
            match = [c["metadata"]["name"] for c in claims
                     if v.claim in (c["metadata"].get("name"), c["metadata"].get("uid"))]
            if not match:
                raise VolumeNotFound(v.claim)
            out.append(C.CapsuleVolume(name=v.name, kube=kube, claim=match[0]))
        return out

    def _record(self, caller: Caller, t: C.Template, *, uuid: str, volumes: list[C.CapsuleVolume],
                network: str) -> C.CapsuleRecord:
        now = zun_timestamp(now_utc())
        rng = random.SystemRandom()
        kube_names: dict[str, str] = {}
        mounts: dict[str, list[tuple[str, str, bool]]] = {}
        policy = C.restart_view(t.restart_policy)
        groups = [default_group_id(self._gw.instance, caller.project_id)]
        # The Pod's container names: the user's where they are DNS labels, else made up, never
        # one of the user's (the schema refused two alike).
        taken = {s.name for s in (*t.containers, *t.init_containers) if s.name and is_dns_label(s.name)}

        def kube_name(spec: C.ContainerSpec, base: str) -> str:
            if spec.name and is_dns_label(spec.name):
                return spec.name
            name, n = base, 0
            while name in taken:
                n += 1
                name = f"{base}-{n}"
            taken.add(name)
            return name

        def container(spec: C.ContainerSpec, index: int, *, init: bool) -> Record:
            cuuid = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"zunk8s:{uuid}:{'init' if init else 'container'}:{index}"))
            # Zun's name for it; the user's, when given (Zun drops it).
            name = spec.name or f"capsule-{t.name or uuid}-{rng.choice(GREEK)}-{rng.randint(1, 24)}"
            kube_names[cuuid] = kube_name(spec, f"{'init' if init else 'container'}-{index}")
            mounts[cuuid] = [(m.volume, m.path, m.read_only) for m in spec.mounts]
            command = [*(spec.command or []), *(spec.args or [])] or None
            return Record(
                uuid=cuuid, name=name, project_id=caller.project_id, user_id=caller.user_id, image=spec.image,
                # Without requests, a Zun container's defaults: a project's ResourceQuota needs limits.
                command=command, cpu=spec.cpu or DEFAULT_CPU, memory=spec.memory or DEFAULT_MEMORY, workdir=spec.workdir,
                environment=spec.environment, labels={}, restart_policy=policy, interactive=spec.interactive,
                tty=spec.tty, image_pull_policy=spec.image_pull_policy, security_groups=groups, networks=[network],
                exposed_ports=[f"{p.port}/{p.protocol}" for p in spec.ports] or None,
                hostname=C.pod_name(uuid), created_at=now,
            )

        containers = [container(s, i, init=False) for i, s in enumerate(t.containers)]
        inits = [container(s, i, init=True) for i, s in enumerate(t.init_containers)]
        return C.CapsuleRecord(
            uuid=uuid, name=t.name, project_id=caller.project_id, user_id=caller.user_id, labels=t.labels,
            annotations=t.annotations, restart_policy=t.restart_policy, availability_zone=t.availability_zone,
            networks=[network], security_groups=groups, created_at=now, containers=containers,
            init_containers=inits, kube_names=kube_names, mounts=mounts, volumes=volumes,
        )

    async def finish(self, pod: Obj) -> None:
        """The capsule's new claims and its NetworkPolicy (owned by the Pod), then the gate
        lifted. Idempotent: the sweep calls it again for a create cut short."""
        record = C.record_of(pod)
        meta = pod["metadata"]
        if record is None:
            return
        owner = owner_reference(api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"])
        labels = L.project_labels(project_hash=project_hash(record.project_id), instance=self._gw.instance)
        for claim in C.new_claims(record, namespace=meta["namespace"], labels=labels, owner=owner):
            await self._gw.create_owned(claim)  # one made before (a create finished by the sweep) is kept
        await self._isolation.apply_capsule(pod)
        if C.gated(pod):
            await self._gw.patch_pod(meta["namespace"], meta["name"], {"spec": {"schedulingGates": []}})

    async def finish_stuck(self, now: datetime) -> None:
        """The sweep's: a capsule whose create stopped before its gate was lifted."""
        for (_, _), pod in self._gw.cached_pods():
            meta = pod.get("metadata") or {}
            if C.CAPSULE_LABEL not in (meta.get("labels") or {}) or not C.gated(pod):
                continue
            created = meta.get("creationTimestamp")
            if not created or seconds_since_kube_time(created, now) < STUCK_AFTER or meta.get("deletionTimestamp"):
                continue
            whole = await self._gw.whole_pod(meta["namespace"], meta["name"])
            if whole is not None and C.gated(whole):
                log.info("finishing_capsule", namespace=meta["namespace"], pod=meta["name"])
                await self.finish(whole)

    # --- delete ---------------------------------------------------------------------------------

    async def delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        await self._gw.delete_pod(meta["namespace"], meta["name"])
