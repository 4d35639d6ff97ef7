"""create: Zun's create-time policies, the fields zunk8s cannot honour yet, the normalised
record (defaults applied as Zun applies them), and the create itself (``Creation``)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from zunk8s.clock import now_utc, zun_timestamp
from zunk8s.errors import (
    Conflict,
    Invalid,
    InvalidValue,
    NotImplementedOnKubernetes,
    OverQuota,
    RegistryNotFound,
    ZunError,
    ZunNetworkNotFound,
)
from zunk8s.kube.errors import KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record
from zunk8s.schemas.containers import DEFAULT_CPU, DEFAULT_MEMORY, ContainerCreate, normalise_restart_policy
from zunk8s.service.actionlog import begun
from zunk8s.service.context import Caller
from zunk8s.service.hosts import Hosts
from zunk8s.service.images import CommittedImages
from zunk8s.service.isolation import Isolation
from zunk8s.service.mounts import Mounts
from zunk8s.service.names_gen import generate_name
from zunk8s.service.networks import Networks
from zunk8s.service.operations import Operations
from zunk8s.service.podwork import PodWork
from zunk8s.service.pullsecrets import PullWith, Registries
from zunk8s.service.quotas import Quotas
from zunk8s.service.registry import Entry, Registry, entry_from_object
from zunk8s.service.secgroups import SecurityGroups
from zunk8s.translate import labels as L
from zunk8s.translate.actionlog import START_EVENT
from zunk8s.translate.isolation import exposed_group_id, normalise_exposed_ports
from zunk8s.translate.names import is_dns_label, namespace_for, pod_name, project_hash
from zunk8s.translate.objects import namespace_body, record_body
from zunk8s.translate.quotas import over_message
from zunk8s.translate.statuschanges import Changes


def create_sub_policies(spec: ContainerCreate) -> list[str]:
    """Zun's container:create:* rules this create must pass, in Zun's order (privileged is
    denied to everybody by default; runtime, image_pull_policy and host are for admins)."""
    rules = []
    if spec.privileged:
        rules.append("container:create:privileged")
    if spec.runtime is not None:
        rules.append("container:create:runtime")
    if spec.image_pull_policy is not None:
        rules.append("container:create:image_pull_policy")
    if spec.host is not None:
        rules.append("container:create:requested_destination")
    return rules


def check_supported(spec: ContainerCreate) -> None:
    """Fields zunk8s cannot honour yet get a clear 501, never a silent success."""
    if spec.hints:
        raise NotImplementedOnKubernetes(
            "zunk8s does not support hints on Kubernetes yet; create the container without them."
        )
    for net in spec.nets or []:
        if net.get("port"):
            raise InvalidValue(
                "zunk8s has no Neutron ports: a container's address is its Pod's, given by the cluster; "
                "attach a network by 'network' instead of 'port'."
            )
        for key in ("v4-fixed-ip", "v6-fixed-ip"):
            if net.get(key):
                raise InvalidValue(
                    f"{key} cannot be honoured on Kubernetes: the cluster's network plugin gives each Pod "
                    "its address, and a Pod that is made again gets a new one."
                )
    if spec.hostname is not None and not is_dns_label(spec.hostname):
        # Zun accepts dots, underscores and capitals; a Pod's hostname must be one DNS label.
        raise Invalid(
            f"hostname {spec.hostname!r} cannot be used on Kubernetes: it must be a DNS label "
            "(at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)."
        )
    if spec.image_driver == "glance":
        raise NotImplementedOnKubernetes(
            "image_driver 'glance' needs an OpenStack image service, and zunk8s has none configured: "
            "Kubernetes pulls images from registries. Use image_driver 'docker' (the default)."
        )
    if spec.cpu_policy == "dedicated":
        raise NotImplementedOnKubernetes(
            "cpu_policy 'dedicated' needs the kubelet's static CPU manager, which zunk8s "
            "cannot detect or guarantee; use 'shared'."
        )


def healthcheck_view(hc: dict[str, Any] | None) -> dict[str, Any] | None:
    """Zun renames healthcheck 'cmd' to 'test'."""
    if hc is None:
        return None
    out = dict(hc)
    if "cmd" in out:
        out["test"] = out.pop("cmd")
    return out


def build_record(caller: Caller, spec: ContainerCreate, *, uuid: str, now: str) -> Record:
    return Record(
        uuid=uuid,
        name=spec.name or generate_name(),
        project_id=caller.project_id,
        user_id=caller.user_id,
        image=spec.image,
        command=spec.command,
        entrypoint=spec.entrypoint,
        cpu=spec.cpu if spec.cpu is not None else DEFAULT_CPU,
        memory=spec.memory if spec.memory is not None else DEFAULT_MEMORY,
        disk=spec.disk or 0,
        cpu_policy=spec.cpu_policy or "shared",
        workdir=spec.workdir,
        environment=spec.environment,
        labels=spec.labels,
        restart_policy=normalise_restart_policy(spec.restart_policy),
        interactive=bool(spec.interactive),
        tty=bool(spec.tty),
        image_driver=spec.image_driver or "docker",
        image_pull_policy=spec.image_pull_policy,
        security_groups=None,
        exposed_ports=normalise_exposed_ports(spec.exposed_ports),
        auto_remove=bool(spec.auto_remove),
        auto_heal=bool(spec.auto_heal),
        runtime=spec.runtime,
        hostname=spec.hostname,
        privileged=bool(spec.privileged),
        healthcheck=healthcheck_view(spec.healthcheck),
        availability_zone=spec.availability_zone,
        requested_host=spec.host,
        created_at=now,
    )


class Creation:
    """create (and run): the record is written at once (202), its first Pod made after."""

    def __init__(
        self,
        *,
        gateway: KubeGateway,
        ops: Operations,
        registry: Registry,
        pods: PodWork,
        hosts: Hosts,
        secgroups: SecurityGroups,
        networks: Networks,
        isolation: Isolation,
        images: CommittedImages,
        mounts: Mounts,
        quotas: Quotas,
        registries: Registries,
        namespace_prefix: str,
    ) -> None:
        self._gw = gateway
        self._ops = ops
        self._registry = registry
        self._pods = pods
        self._hosts = hosts
        self._secgroups = secgroups
        self._networks = networks
        self._isolation = isolation
        self._images = images
        self._mounts = mounts
        self._quotas = quotas
        self._registries = registries
        self._namespace_prefix = namespace_prefix

    async def create(self, caller: Caller, spec: ContainerCreate, *, run: bool) -> Entry:
        check_supported(spec)
        if spec.host is not None:
            # Zun's _validate_host: a requested host that is no host is a 404, before anything
            # is written. The Pod is then bound to it by the scheduler (translate/pods.py).
            await self._hosts.require(spec.host)
        # Zun's order: the registry is looked up (404, 409) before anything else is.
        pull = await self._registries.pull_with(caller, spec.registry, spec.image) if spec.registry else None
        uuid = str(uuidlib.uuid4())
        # Zun's order: the groups are looked up (400 unknown, 409 ambiguous), then the quota is
        # checked (what the body asks for, before defaults), then the networks.
        groups = await self._secgroups.resolve(caller, spec.security_groups) if spec.security_groups else None
        if spec.exposed_ports:
            groups = [*(groups or []), exposed_group_id(uuid)]  # Zun's zun-<uuid> group (prepare makes it)
        await self._quotas.check_create(caller.project_id, cpu=spec.cpu, memory=spec.memory, disk=spec.disk)
        networks = await self._resolve_networks(caller, spec.nets or [])
        mounts = await self._mounts.check(namespace_for(caller.project_id, self._namespace_prefix), spec.mounts)
        # Taken (and let go) before anything is written: with the state store down, the create
        # is refused with a 503 here, instead of acknowledged and then failing.
        async with self._ops.lock(uuid):
            entry = await self._write_record(caller, spec, uuid, groups=groups, networks=networks, mounts=mounts,
                                             pull=pull)
            if pull is not None and not await self._registries.still_there(entry.namespace, pull.registry_id):
                # The registry was deleted while this create ran (its delete did not see the record).
                await self._gw.delete_record(entry.namespace, uuid)
                raise RegistryNotFound(str(spec.registry))
        # The record has no status to begin the logged action on yet (Kubernetes ignores a
        # status in a create): the first status write begins it, the final write ends it.
        logged = begun(caller, "create")

        async def work(e: Entry) -> Changes | None:
            # The container's NetworkPolicy, injected files and new volumes exist before any
            # Pod of it does.
            await self._isolation.prepare(e)
            await self._mounts.prepare(e)
            if run:
                # task_state marks the window in which the record names a Pod that may not
                # exist yet; recovery treats it as an unfinished create. The Pod carries the
                # create's request id, and the log says the container is made and starting.
                return await self._pods.launch(
                    e,
                    status="Creating",
                    task_state="container_creating",
                    task_request_id=caller.request_id,
                    **self._ops.log_begun(e, logged, then=START_EVENT),
                )
            return {"status": "Created", "desired": "created", "status_reason": None}

        self._ops.run(entry, "create", work, logged=logged)
        return entry

    async def _resolve_networks(self, caller: Caller, nets: list[dict[str, Any]]) -> list[str]:
        """create's ``nets`` as network ids (Zun's build_requested_networks); none given: Zun's
        available network (the project's oldest, else the oldest shared one)."""
        if not nets:
            return [await self.default_network(caller)]
        ids: list[str] = []
        for net in nets:
            network_id = await self.find_network(caller, str(net["network"]))
            if network_id not in ids:
                ids.append(network_id)
        return ids

    async def default_network(self, caller: Caller) -> str:
        return await self._networks.default_for(caller)

    async def find_network(self, caller: Caller, ident: str) -> str:
        """A network by name or id, with Zun's errors (404 unknown, 409 ambiguous)."""
        try:
            return await self._networks.resolve(caller, ident)
        except Conflict:
            raise Conflict("Multiple neutron networks exist with same name. Please use the uuid instead.") from None
        except ZunError as e:
            if e.status == 404:
                raise ZunNetworkNotFound(ident) from None
            raise

    async def _write_record(
        self, caller: Caller, spec: ContainerCreate, uuid: str, *, groups: list[str] | None, networks: list[str],
        mounts: list[dict[str, Any]] | None, pull: PullWith | None,
    ) -> Entry:
        record = build_record(caller, spec, uuid=uuid, now=zun_timestamp(now_utc()))
        namespace = namespace_for(caller.project_id, self._namespace_prefix)
        # With a registry, the image is the registry's (its credentials pull it); else a
        # committed image of that name, if any.
        image_ref = pull.image if pull else await self._images.resolve(namespace, record.image)
        record = record.model_copy(update={"security_groups": groups, "networks": networks, "mounts": mounts,
                                           "image_ref": image_ref, "registry_id": pull.registry_id if pull else None})
        phash = project_hash(caller.project_id)
        ns_body = namespace_body(namespace, project_id=caller.project_id, project_hash=phash, instance=self._gw.instance)
        labels = L.owner_labels(uuid=uuid, project_hash=phash, instance=self._gw.instance)
        if L.is_valid_label_value(record.name):
            labels[L.NAME] = record.name
        if record.registry_id:
            labels[L.REGISTRY] = record.registry_id  # a registry's delete finds its users by it
        body = record_body(namespace, uuid, spec=record.model_dump(mode="json"), labels=labels)
        async def write() -> dict[str, Any]:
            await self._check_pod(record, namespace)
            return await self._gw.create_record(body)

        try:
            obj = await self._gw.in_namespace(ns_body, write)
        except KubeRejected as e:
            # The project's ResourceQuota counts its records: a create racing another one past
            # the limit (through another replica) is refused by the API server itself.
            if e.http_status == 403 and "exceeded quota" in e.kube_message:
                raise OverQuota(over_message(["containers"])) from None
            raise
        entry = self._registry.entry((namespace, uuid))
        return entry if entry is not None else entry_from_object(obj)

    async def _check_pod(self, record: Record, namespace: str) -> None:
        """Zun's schema lets through values Kubernetes refuses in a Pod (an environment
        variable named "A=B", an image with a trailing space, an availability zone that is no
        label value, a runtime the cluster has no RuntimeClass for...). The API server is
        asked (a dry run) before the record is written, so such a create is a 400 that says
        why, never a 202 and then an Error."""
        manifest = self._pods.manifest(record, namespace, name=pod_name(record.uuid, 1), generation=1, owner_uid=None)
        try:
            await self._gw.dry_run_pod(manifest)
        except KubeRejected as e:
            raise InvalidValue(f"Kubernetes would refuse this container: {e.kube_message}") from None
