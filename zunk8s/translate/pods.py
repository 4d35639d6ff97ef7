"""Build the Pod that runs a Zun container, from the record alone.

The Pod is disposable: start and reboot make a new one from the record, so nothing here
may depend on a previous Pod. Docker semantics map as: Zun ``entrypoint`` -> container
``command`` (image ENTRYPOINT), Zun ``command`` -> ``args`` (image CMD).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zunk8s.records import Record
from zunk8s.translate import labels as L
from zunk8s.translate.isolation import pod_membership
from zunk8s.translate.mounts import pod_parts
from zunk8s.translate.names import CONTAINER_NAME, default_hostname
from zunk8s.translate.pullsecrets import secret_name as registry_secret
from zunk8s.translate.quantities import cpu_quantity, disk_quantity, memory_quantity

# The Node label create's ``availability_zone`` selects by (and /v1/availability_zones lists).
ZONE_LABEL = "topology.kubernetes.io/zone"
PULL_POLICY = {"always": "Always", "ifnotpresent": "IfNotPresent", "never": "Never"}
RESTART_POLICY = {"no": "Never", "always": "Always", "on-failure": "OnFailure", "unless-stopped": "Always"}


@dataclass(frozen=True)
class PodOptions:
    """Cluster-wide knobs from Settings that shape every Pod."""

    instance: str = "default"
    request_ratio: float = 1.0
    stop_timeout: int = 10
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    # The image of the init container that copies injected files (translate/mounts.py).
    helper_image: str = ""


@dataclass(frozen=True)
class Owner:
    """The ZunContainer object that owns the Pod (so Kubernetes GC removes orphans)."""

    api_version: str
    kind: str
    name: str
    uid: str


def resources(*, cpu: float | None, memory: str | None, ratio: float) -> dict[str, dict[str, str]]:
    """Limits as asked; requests = limits x ratio (1.0: Guaranteed QoS). Also used for in-place resize."""
    out: dict[str, dict[str, str]] = {"limits": {}, "requests": {}}
    if cpu is not None:
        out["limits"]["cpu"] = cpu_quantity(cpu)
        out["requests"]["cpu"] = cpu_quantity(cpu, ratio)
    if memory is not None:
        out["limits"]["memory"] = memory_quantity(memory)
        out["requests"]["memory"] = memory_quantity(memory, ratio)
    return out


def process_fields(record: Record) -> dict[str, Any]:
    """A container's working directory, environment and pull policy, as Kubernetes spells them
    (a Zun container's, and each of a capsule's)."""
    out: dict[str, Any] = {}
    if record.workdir:
        out["workingDir"] = record.workdir
    if record.environment:
        out["env"] = [{"name": k, "value": v} for k, v in record.environment.items()]
    if record.image_pull_policy:
        out["imagePullPolicy"] = PULL_POLICY[record.image_pull_policy.lower()]
    return out


def retry_limit(record: Record) -> int:
    """N of restart_policy on-failure:N (0: no limit, or another policy)."""
    policy = record.restart_policy or {}
    if policy.get("Name") != "on-failure":
        return 0
    count = str(policy.get("MaximumRetryCount") or "0")
    return int(count) if count.isascii() and count.isdigit() else 0


def zunk8s_restarts(record: Record) -> bool:
    """on-failure:N is carried out by zunk8s, one new Pod per retry (restartPolicy Never): the
    kubelet would retry forever, lose all but the last run's logs, and the exit code of the
    last failure once zunk8s stopped it."""
    return retry_limit(record) > 0


def pod_restart_policy(record: Record) -> str:
    if zunk8s_restarts(record):
        return "Never"
    name = (record.restart_policy or {}).get("Name", "no")
    return RESTART_POLICY.get(name, "Never")


def build_pod(
    record: Record,
    *,
    name: str,
    namespace: str,
    project_hash: str,
    generation: int,
    options: PodOptions,
    owner: Owner | None,
    task: str | None = None,
) -> dict[str, Any]:
    user_labels, labels_annotation = L.split_user_labels(record.labels)
    labels = {**user_labels, **L.owner_labels(uuid=record.uuid, project_hash=project_hash, instance=options.instance)}
    labels[L.GENERATION] = str(generation)
    # Its groups and networks, for other containers' NetworkPolicies to select it by.
    labels.update(pod_membership(record, options.instance))
    if task and L.is_valid_label_value(task):
        labels[L.TASK] = task
    annotations: dict[str, str] = {}
    if labels_annotation is not None:
        annotations[L.ANN_LABELS] = labels_annotation

    res = resources(cpu=record.cpu, memory=record.memory, ratio=options.request_ratio)
    limits, requests = res["limits"], res["requests"]
    if record.disk:
        limits["ephemeral-storage"] = requests["ephemeral-storage"] = disk_quantity(record.disk)

    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": record.image_ref or record.image,
        "resources": {"limits": limits, "requests": requests},
        "stdin": record.interactive,
        "tty": record.tty,
        # Docker keeps stdin open across attaches; stdinOnce would close it after the first.
        "stdinOnce": False,
    }
    if record.entrypoint is not None:
        container["command"] = list(record.entrypoint)
    if record.command is not None:
        container["args"] = list(record.command)
    container.update(process_fields(record))
    if record.healthcheck:
        container["livenessProbe"] = build_probe(record.healthcheck)
    volumes, volume_mounts, init_containers = pod_parts(record, helper_image=options.helper_image)
    if volume_mounts:
        container["volumeMounts"] = volume_mounts

    spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": pod_restart_policy(record),
        "hostname": record.hostname or default_hostname(record.uuid),
        # Service env vars slow start-up in busy namespaces (knative#8498) and Docker has none.
        "enableServiceLinks": False,
        # A Zun container has no business with the Kubernetes API.
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": options.stop_timeout,
    }
    if volumes:
        spec["volumes"] = volumes
    if init_containers:
        spec["initContainers"] = init_containers
    if record.runtime:
        spec["runtimeClassName"] = record.runtime
    if record.registry_id:
        # The kubelet pulls with the registry's credentials (Zun's registry, a pull Secret).
        spec["imagePullSecrets"] = [{"name": registry_secret(record.registry_id)}]
    node_selector = dict(options.node_selector)
    if record.availability_zone:
        node_selector[ZONE_LABEL] = record.availability_zone
    if node_selector:
        spec["nodeSelector"] = node_selector
    if record.requested_host:
        spec["affinity"] = requested_host_affinity(record.requested_host)
    if options.tolerations:
        spec["tolerations"] = [dict(t) for t in options.tolerations]

    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner.api_version,
                "kind": owner.kind,
                "name": owner.name,
                "uid": owner.uid,
                "controller": True,
                "blockOwnerDeletion": False,
            }
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def requested_host_affinity(node: str) -> dict[str, Any]:
    """Zun's requested host: only the Node of that name qualifies, and the scheduler still
    decides whether the container fits there (Zun's scheduler filters a requested host too;
    a container that does not fit is Unschedulable, so Error with the scheduler's reason, as
    Zun's NoValidHost is). A field match on the Node's name, as the DaemonSet controller pins
    its Pods: ``spec.nodeName`` would skip the scheduler (no fit check, taints ignored, the
    kubelet refusing a Pod that does not fit), and the ``kubernetes.io/hostname`` label is the
    machine's host name, which Kubernetes' well-known-labels page warns may differ from the
    Node's name (cloud providers name Nodes their own way)."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def build_probe(healthcheck: dict[str, Any]) -> dict[str, Any]:
    """Zun's healthcheck (Docker CMD-SHELL semantics) as an exec liveness probe."""
    test = healthcheck.get("test", healthcheck.get("cmd"))
    command = ["/bin/sh", "-c", str(test)] if isinstance(test, str) else [str(x) for x in test or []]
    probe: dict[str, Any] = {"exec": {"command": command}}
    for zun_key, k8s_key in (("interval", "periodSeconds"), ("timeout", "timeoutSeconds"), ("retries", "failureThreshold")):
        value = healthcheck.get(zun_key)
        # 0 means "the default", as in Docker (validated as whole numbers at create).
        if isinstance(value, int) and value > 0:
            probe[k8s_key] = value
    return probe


def build_stop_patch() -> dict[str, Any]:
    """Stop a Pod but keep it (and its logs): the kubelet ends a Pod whose active deadline has
    passed, sending SIGTERM and SIGKILL after terminationGracePeriodSeconds. activeDeadlineSeconds
    is one of the few Pod spec fields that may be set on a running Pod."""
    return {"spec": {"activeDeadlineSeconds": 1}}
