"""Label and annotation keys zunk8s puts on Kubernetes objects, and user-label handling.

User labels that are valid Kubernetes labels are copied onto the Pod so selectors work;
every user label is also kept whole (JSON) in an annotation, because Zun labels allow keys
and values that Kubernetes labels do not.
"""

from __future__ import annotations

import hashlib
import json
import re

PREFIX = "zunk8s.openstack.org"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "zunk8s"
UUID = f"{PREFIX}/uuid"
PROJECT = f"{PREFIX}/project"
NAME = f"{PREFIX}/name"
GENERATION = f"{PREFIX}/generation"
# The request id of the action that made a Pod (its task_request_id): recovery tells the Pod a
# dead replica's start made from the one it was to replace.
TASK = f"{PREFIX}/task"
# Which zunk8s installation owns the object (derived from its namespace prefix): two installs
# on one cluster never act on each other's containers.
INSTANCE = f"{PREFIX}/instance"
# On a Network that every project sees ("true"): the cluster-wide list selects by it.
SHARED = f"{PREFIX}/shared"
ANN_LABELS = f"{PREFIX}/labels"
# On a project's pull Secrets (Zun's registries): the registry's uuid.
REGISTRY = f"{PREFIX}/registry"
ANN_PROJECT = f"{PREFIX}/project-id"

_NAME_PART = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_RESERVED_PREFIXES = ("kubernetes.io", "k8s.io", PREFIX, "app.kubernetes.io")


def is_valid_label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_NAME_PART.match(value)))


def is_valid_label_key(key: str) -> bool:
    prefix, sep, name = key.rpartition("/")
    if sep:
        if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix):
            return False
        if any(prefix == p or prefix.endswith("." + p) for p in _RESERVED_PREFIXES):
            return False
    return 0 < len(name) <= 63 and bool(_NAME_PART.match(name))


def split_user_labels(labels: dict[str, str] | None) -> tuple[dict[str, str], str | None]:
    """Return (labels valid on Kubernetes, annotation JSON holding all of them or None)."""
    if not labels:
        return {}, None
    valid = {k: v for k, v in labels.items() if is_valid_label_key(k) and is_valid_label_value(v)}
    return valid, json.dumps(labels, sort_keys=True, separators=(",", ":"))


def project_labels(*, project_hash: str, instance: str) -> dict[str, str]:
    """What zunk8s puts on everything of a project it makes (the admission policy checks the
    first two); ``owner_labels`` adds a container's uuid."""
    return {MANAGED_BY: MANAGED_BY_VALUE, INSTANCE: instance, PROJECT: project_hash}


def owner_labels(*, uuid: str, project_hash: str, instance: str) -> dict[str, str]:
    return {**project_labels(project_hash=project_hash, instance=instance), UUID: uuid}


def instance_for(namespace_prefix: str) -> str:
    """A label value naming the installation: its namespace prefix made label-safe (readable),
    then a digest of the exact prefix, so two prefixes that read the same once made safe
    (``rel-`` and ``rel``, ``a b`` and ``a-b``) never name the same installation."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "-", namespace_prefix).strip("-_.")[:40].strip("-_.")
    digest = hashlib.sha256(namespace_prefix.encode()).hexdigest()[:10]
    return f"{readable}-{digest}" if readable else digest


def managed_selector(instance: str) -> str:
    return f"{MANAGED_BY}={MANAGED_BY_VALUE},{INSTANCE}={instance}"


def selector(**pairs: str) -> str:
    return ",".join(f"{k}={v}" for k, v in pairs.items())

