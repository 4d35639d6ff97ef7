"""Kubernetes object names derived from Zun identifiers."""

from __future__ import annotations

import hashlib
import re

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CONTAINER_NAME = "main"


def project_hash(project_id: str) -> str:
    """A label-safe, stable token for a project id (which may hold any characters)."""
    return hashlib.sha256(project_id.encode()).hexdigest()[:20]


# zunk8s's own namespace of an installation (what is not a project's: the quota classes).
SYSTEM_SUFFIX = "zunk8s-system"


def namespace_for(project_id: str, prefix: str) -> str:
    """One namespace per project: prefix + id when that is a DNS label (and not the system
    namespace's name), else prefix + hash."""
    candidate = (prefix + project_id).lower()
    if (project_id == project_id.lower() and len(candidate) <= 63 and _DNS_LABEL.match(candidate)
            and project_id != SYSTEM_SUFFIX):
        return candidate
    return f"{prefix}{project_hash(project_id)}"


def system_namespace(prefix: str) -> str:
    return prefix + SYSTEM_SUFFIX


def pod_name(uuid: str, generation: int) -> str:
    """Each start makes a new Pod, so an old one still terminating never blocks the new one."""
    return f"zun-{uuid}-{generation}"


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_dns_subdomain(value: str) -> bool:
    """A name Kubernetes allows for a Node (RFC 1123 subdomain): dot-separated DNS labels."""
    return 0 < len(value) <= 253 and all(_DNS_LABEL.match(part) for part in value.split("."))


def default_hostname(uuid: str) -> str:
    # Docker's default hostname is the first 12 hex digits of the container id.
    return uuid.replace("-", "")[:12]
