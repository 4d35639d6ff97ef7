"""The Zun container view (zun/api/controllers/v1/views/containers_view.py), as a pure function.

Admin-only keys (host, image_pull_policy, privileged, runtime) are absent, not null, for
other callers; ``links`` follows ``uuid`` only where Zun passes a base URL (not in lists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zunk8s.records import Record, RecordStatus
from zunk8s.translate.names import default_hostname
from zunk8s.translate.netports import addresses
from zunk8s.translate.status import status_detail


def container_links(base_url: str, uuid: str) -> list[dict[str, str]]:
    return [
        {"href": f"{base_url}/v1/containers/{uuid}", "rel": "self"},
        {"href": f"{base_url}/containers/{uuid}", "rel": "bookmark"},
    ]


# Zun's view keys (``_basic_keys``): each is shown only where policy ``container:get_one:<key>``
# lets the caller see it (Zun's defaults hide host, image_pull_policy, privileged and runtime
# from non-admins).
VIEW_KEYS = (
    "uuid", "links", "user_id", "project_id", "name", "image", "command", "status", "status_reason",
    "task_state", "cpu", "memory", "environment", "workdir", "ports", "hostname", "labels", "addresses",
    "image_pull_policy", "host", "restart_policy", "status_detail", "interactive", "tty", "image_driver",
    "security_groups", "auto_remove", "runtime", "disk", "auto_heal", "privileged", "healthcheck",
    "cpu_policy", "registry_id", "entrypoint", "created_at", "updated_at",
)


def container_view(
    record: Record, st: RecordStatus, *, now: datetime, base_url: str | None, hidden: frozenset[str]
) -> dict[str, Any]:
    """The container as Zun shows it, without the ``hidden`` keys (those policy hides)."""
    view: dict[str, Any] = {"uuid": record.uuid}
    if base_url is not None:
        view["links"] = container_links(base_url, record.uuid)
    view.update(
        {
            "name": record.name,
            "project_id": record.project_id,
            "user_id": record.user_id,
            "image": record.image,
            "command": record.command,
            "entrypoint": record.entrypoint,
            "cpu": record.cpu,
            "cpu_policy": record.cpu_policy,
            "memory": record.memory,
            "disk": record.disk,
            "status": st.status,
            "status_reason": st.status_reason,
            "status_detail": status_detail(
                status=st.status,
                started_at=st.started_at,
                finished_at=st.finished_at,
                exit_code=st.exit_code,
                now=now,
            ),
            "task_state": st.task_state,
            "environment": record.environment,
            "workdir": record.workdir,
            "auto_remove": record.auto_remove,
            "auto_heal": record.auto_heal,
            # Zun's ports are the container's exposed ones (Docker's ExposedPorts), as numbers.
            "ports": [int(p.split("/")[0]) for p in record.exposed_ports] if record.exposed_ports else None,
            "hostname": record.hostname or default_hostname(record.uuid),
            "labels": record.labels,
            "addresses": addresses(record, st),
            "restart_policy": record.restart_policy,
            "interactive": record.interactive,
            "tty": record.tty,
            "image_driver": record.image_driver,
            "security_groups": record.security_groups,
            "healthcheck": record.healthcheck,
            "registry_id": record.registry_id,
            "created_at": record.created_at,
            # The later of the last spec change (PATCH, rename) and the last status write; both
            # are Zun timestamps, which sort as strings.
            "updated_at": max((t for t in (st.updated_at, record.updated_at) if t), default=None),
        }
    )
    view["host"] = st.host
    view["image_pull_policy"] = record.image_pull_policy
    view["privileged"] = record.privileged
    view["runtime"] = record.runtime
    for key in hidden:
        view.pop(key, None)
    return view
