"""Zun's capsules on Kubernetes (pure): a capsule *is* a Pod.

The template's containers and init containers become the Pod's, sharing its network (one
address: ``localhost`` reaches a sibling) and its volumes; its restart policy is the Pod's. What
Zun keeps in its database (the capsule's name, labels, annotations, who made it, its containers'
uuids and Zun names) is one annotation on the Pod, so the Pod is the whole capsule: two replicas
see the same one, and it survives zunk8s's restarts. A capsule is on its project's default network
in its ``default`` security group, as Zun's capsule (it has no ``nets``), isolated by a
NetworkPolicy of its own (service/isolation.py); its Pod waits behind a scheduling gate until
that policy and its new volumes exist, so it never runs unisolated.

A container's ``ports`` are exposed as a container's ``exposed_ports`` are (open to every Pod),
as Zun turns them into exposed ports. Volumes are claims: ``cinder.size`` a new one (removed
with the capsule when ``autoRemove``), ``cinder.volumeID`` an existing claim of the project
(by name or uid).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from zunk8s.records import Record, RecordStatus
from zunk8s.translate import labels as L
from zunk8s.translate.netports import port_id
from zunk8s.translate.pods import ZONE_LABEL, process_fields, resources
from zunk8s.translate.secgroups import ExposedPort, membership_labels
from zunk8s.translate.status import observe_pod

Obj = dict[str, Any]

CAPSULE_LABEL = f"{L.PREFIX}/capsule"
RECORD_ANNOTATION = f"{L.PREFIX}/capsule-record"
# Removed once the capsule's NetworkPolicy and claims exist (service/capsules.py).
ISOLATION_GATE = f"{L.PREFIX}/isolation"
# Zun's spec.restartPolicy -> its restart policy name; the Pod's is the template's word.
RESTART_NAMES = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
POD_RESTART = {v: k for k, v in RESTART_NAMES.items()}
SORT_KEYS = frozenset({"id", "uuid", "name", "status", "project_id", "user_id", "created_at", "cpu", "memory"})


@dataclass(frozen=True)
class Mount:
    volume: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a template, as schemas/capsules.py checked it."""

    image: str
    name: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    cpu: float | None = None
    memory: str | None = None
    ports: tuple[ExposedPort, ...] = ()
    mounts: tuple[Mount, ...] = ()
    environment: dict[str, str] | None = None
    workdir: str | None = None
    image_pull_policy: str | None = None
    interactive: bool = False
    tty: bool = False


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    claim: str | None = None  # an existing claim (volumeID)
    size: int | None = None  # GiB of a new claim
    auto_remove: bool = False


@dataclass(frozen=True)
class Template:
    containers: tuple[ContainerSpec, ...]
    init_containers: tuple[ContainerSpec, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    name: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    restart_policy: str = "always"  # Zun's name
    availability_zone: str | None = None


class CapsuleVolume(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str  # the template's
    kube: str  # the Pod's (a DNS label, which Zun's names need not be)
    claim: str
    made: bool = False  # a new claim (zun-capsule-<uuid>-v<n>) of ``size`` GiB
    size: int | None = None
    auto_remove: bool = False


class CapsuleRecord(BaseModel):
    """What Zun's database keeps of a capsule; the Pod's annotation, as JSON."""

    model_config = ConfigDict(extra="ignore")

    uuid: str
    name: str | None = None
    project_id: str
    user_id: str
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    restart_policy: str = "always"
    availability_zone: str | None = None
    networks: list[str]
    security_groups: list[str]
    created_at: str
    containers: list[Record]
    init_containers: list[Record] = []
    # The Kubernetes name of each container, by uuid.
    kube_names: dict[str, str] = {}
    # Which volume each container mounts where: uuid -> [[volume, path, read_only]].
    mounts: dict[str, list[tuple[str, str, bool]]] = {}
    volumes: list[CapsuleVolume] = []

    @property
    def cpu(self) -> float:
        return capsule_total([c.cpu for c in self.containers], [c.cpu for c in self.init_containers])

    @property
    def memory(self) -> str:
        mem = capsule_total([int(c.memory or 0) for c in self.containers],
                            [int(c.memory or 0) for c in self.init_containers])
        return str(int(mem))


def capsule_total(containers: Sequence[float], init_containers: Sequence[float]) -> float:
    """Zun's capsule cpu and memory: its containers' sum, or an init container's if larger
    (init containers run one at a time, before the others)."""
    return max([sum(containers), *init_containers])


def pod_name(uuid: str) -> str:
    return f"zun-capsule-{uuid}"


def claim_name(uuid: str, index: int) -> str:
    return f"zun-capsule-{uuid}-v{index}"


def policy_name(uuid: str) -> str:
    return f"zun-capsule-{uuid}"


def restart_view(name: str) -> dict[str, str]:
    return {"MaximumRetryCount": "0", "Name": name}


def record_of(pod: Mapping[str, Any]) -> CapsuleRecord | None:
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(RECORD_ANNOTATION)
    if not raw:
        return None
    try:
        return CapsuleRecord.model_validate_json(raw)
    except ValueError:
        return None  # not ours to read (edited by hand): listed by nobody


def cached(pods: Iterable[tuple[tuple[str, str], Mapping[str, Any]]]) -> Iterator[tuple[Mapping[str, Any], CapsuleRecord]]:
    """The capsules among cached Pods, each with its record (networks and groups in use...)."""
    for _, pod in pods:
        if CAPSULE_LABEL in ((pod.get("metadata") or {}).get("labels") or {}):
            record = record_of(pod)
            if record is not None:
                yield pod, record


def exposed(record: CapsuleRecord) -> list[ExposedPort]:
    ports: list[ExposedPort] = []
    for c in record.containers:
        for p in c.exposed_ports or []:
            number, _, proto = p.partition("/")
            port = ExposedPort(int(number), "udp" if proto == "udp" else "tcp")
            if port not in ports:
                ports.append(port)
    return ports


def _container(record: CapsuleRecord, c: Record, ratio: float) -> Obj:
    out: Obj = {"name": record.kube_names[c.uuid], "image": c.image_ref or c.image}
    res = resources(cpu=c.cpu if c.cpu else None, memory=c.memory, ratio=ratio)
    if res["limits"]:
        out["resources"] = res
    if c.command:
        # Zun's capsule command is command + args, run as Docker's CMD: the image's entrypoint stays.
        out["args"] = list(c.command)
    out.update(process_fields(c))
    ports = [{"containerPort": int(p.split("/")[0]), "protocol": (p.split("/")[1] if "/" in p else "tcp").upper()}
             for p in c.exposed_ports or []]
    if ports:
        out["ports"] = ports
    kube = {v.name: v.kube for v in record.volumes}
    mounts = [{"name": kube[v], "mountPath": path, **({"readOnly": True} if ro else {})}
              for v, path, ro in record.mounts.get(c.uuid, [])]
    if mounts:
        out["volumeMounts"] = mounts
    out["stdin"], out["tty"] = c.interactive, c.tty
    return out


def capsule_pod(record: CapsuleRecord, *, namespace: str, project_hash: str, instance: str, ratio: float,
                node_selector: Mapping[str, str], tolerations: Sequence[Mapping[str, Any]]) -> Obj:
    user_labels, labels_json = L.split_user_labels(record.labels)
    labels = {**user_labels, **L.project_labels(project_hash=project_hash, instance=instance),
              CAPSULE_LABEL: record.uuid,
              **membership_labels(record.security_groups, record.networks, exposed=bool(exposed(record)))}
    annotations = {RECORD_ANNOTATION: record.model_dump_json()}
    if labels_json is not None:
        annotations[L.ANN_LABELS] = labels_json
    spec: Obj = {
        "containers": [_container(record, c, ratio) for c in record.containers],
        "restartPolicy": POD_RESTART[record.restart_policy],
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "schedulingGates": [{"name": ISOLATION_GATE}],
    }
    if record.init_containers:
        spec["initContainers"] = [_container(record, c, ratio) for c in record.init_containers]
    if record.volumes:
        spec["volumes"] = [{"name": v.kube, "persistentVolumeClaim": {"claimName": v.claim}} for v in record.volumes]
    selector = dict(node_selector)
    if record.availability_zone:
        selector[ZONE_LABEL] = record.availability_zone
    if selector:
        spec["nodeSelector"] = selector
    if tolerations:
        spec["tolerations"] = [dict(t) for t in tolerations]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(record.uuid), "namespace": namespace, "labels": labels,
                         "annotations": annotations},
            "spec": spec}


def new_claims(record: CapsuleRecord, *, namespace: str, labels: Mapping[str, str], owner: Obj) -> list[Obj]:
    """The capsule's new claims; those with autoRemove are owned by its Pod (removed with it)."""
    out = []
    for v in record.volumes:
        if not v.made:
            continue
        meta: Obj = {"name": v.claim, "namespace": namespace, "labels": {**labels, CAPSULE_LABEL: record.uuid}}
        if v.auto_remove:
            meta["ownerReferences"] = [owner]
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{v.size}Gi"}}}})
    return out


def gated(pod: Mapping[str, Any]) -> bool:
    return any(g.get("name") == ISOLATION_GATE for g in (pod.get("spec") or {}).get("schedulingGates") or [])


def _kube_status(pod: Mapping[str, Any], name: str, *, init: bool) -> Obj:
    key = "initContainerStatuses" if init else "containerStatuses"
    for cs in (pod.get("status") or {}).get(key) or []:
        if cs.get("name") == name:
            return dict(cs)
    return {}


def container_status(pod: Mapping[str, Any], kube_name: str, *, init: bool) -> RecordStatus:
    """One container's Zun status from its Pod (translate/status.py's rules, per container)."""
    observed = observe_pod(dict(pod), container=kube_name, init=init)
    status = observed.status
    if init and status == "Restarting" and observed.exit_code == 0:
        status = "Stopped"  # an init container that did its work: the Pod goes on, it is not run again
    return RecordStatus(status=status, status_reason=observed.reason, host=observed.host,
                        pod_ip=observed.pod_ip, started_at=observed.started_at, finished_at=observed.finished_at,
                        exit_code=observed.exit_code, restart_count=observed.restart_count)


def capsule_status(pod: Mapping[str, Any], record: CapsuleRecord) -> tuple[str, str | None]:
    """Zun's capsule status: Creating until the Pod runs (Error when one of its containers cannot
    start or it cannot be scheduled), Running, then Stopped when it ended well, Error when not."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return "Deleting", None
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded":
        return "Stopped", None
    if phase == "Failed":
        return "Error", (status.get("reason") or "") + (f": {status['message']}" if status.get("message") else "") or "Pod failed"
    for c, init in [*((c, True) for c in record.init_containers), *((c, False) for c in record.containers)]:
        st = container_status(pod, record.kube_names[c.uuid], init=init)
        if st.status == "Error":
            return "Error", f"{c.name}: {st.status_reason}"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
            return "Error", f"Unschedulable: {cond.get('message') or ''}".strip()
    if phase == "Running":
        return "Running", None
    return "Creating", None


def addresses(pod: Mapping[str, Any], record: CapsuleRecord) -> dict[str, list[Obj]] | None:
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        return None  # Zun's capsule shows null before it has an address
    version = 6 if ":" in ip else 4
    return {net: [{"addr": ip, "version": version, "port": port_id(record.uuid, net), "subnet_id": None,
                   "preserve_on_delete": False}] for net in record.networks}


def row(pod: Mapping[str, Any], record: CapsuleRecord) -> Obj:
    """The fields a list sorts and pages by."""
    status, _ = capsule_status(pod, record)
    return {"uuid": record.uuid, "name": record.name, "status": status, "project_id": record.project_id,
            "user_id": record.user_id, "created_at": record.created_at, "id": record.created_at,
            "cpu": record.cpu, "memory": int(record.memory)}


def updated_at(pod: Mapping[str, Any]) -> str | None:
    """When the Pod last changed state, as Zun's timestamps read."""
    times = [c.get("lastTransitionTime") for c in (pod.get("status") or {}).get("conditions") or []]
    latest = max((t for t in times if t), default=None)
    return latest.replace("T", " ").rstrip("Z") if latest else None


def view(pod: Mapping[str, Any], record: CapsuleRecord, *, base_url: str, legacy: bool, show_host: bool,
         containers: Sequence[Obj], init_containers: Sequence[Obj]) -> Obj:
    """Zun's capsule view: 1.32+ ``name``, ``labels`` and a restart policy object; before,
    ``meta_name``, ``meta_labels``, the policy's name and the old fields."""
    status, reason = capsule_status(pod, record)
    out: Obj = {
        "uuid": record.uuid,
        "links": [{"href": f"{base_url}/v1/capsules/{record.uuid}", "rel": "self"},
                  {"href": f"{base_url}/capsules/{record.uuid}", "rel": "bookmark"}],
        "user_id": record.user_id, "project_id": record.project_id,
        "created_at": record.created_at, "updated_at": updated_at(pod),
        "addresses": addresses(pod, record), "status": status, "status_reason": reason,
        "annotations": record.annotations, "memory": record.memory, "cpu": record.cpu,
        "containers": list(containers), "init_containers": list(init_containers),
    }
    if legacy:
        out.update({"meta_name": record.name, "meta_labels": record.labels, "restart_policy": record.restart_policy,
                    "volumes_info": {v.name: v.claim for v in record.volumes},
                    "containers_uuids": [c.uuid for c in record.containers],
                    "init_containers_uuids": [c.uuid for c in record.init_containers], "capsule_version": "beta"})
    else:
        out.update({"name": record.name, "labels": record.labels, "restart_policy": restart_view(record.restart_policy)})
    if show_host:
        out["host"] = (pod.get("spec") or {}).get("nodeName")
    return out
