"""What a create request becomes: Zun's create-time policies, the fields zunk8s cannot honour
yet, and the normalised record (defaults applied as Zun applies them)."""

from __future__ import annotations

from typing import Any

from zunk8s.errors import Invalid, NotImplementedOnKubernetes, PolicyNotAuthorized
from zunk8s.records import Record
from zunk8s.schemas.containers import DEFAULT_CPU, DEFAULT_MEMORY, ContainerCreate, normalise_restart_policy
from zunk8s.service.context import Caller
from zunk8s.service.names_gen import generate_name
from zunk8s.translate.names import is_dns_label


def check_create_policy(caller: Caller, spec: ContainerCreate) -> None:
    """Zun's container:create:* sub-policies (privileged is denied to everybody by default)."""
    if spec.privileged:
        raise PolicyNotAuthorized("container:create:privileged")
    if spec.runtime is not None and not caller.is_admin:
        raise PolicyNotAuthorized("container:create:runtime")
    if spec.image_pull_policy is not None and not caller.is_admin:
        raise PolicyNotAuthorized("container:create:image_pull_policy")
    if spec.host is not None and not caller.is_admin:
        raise PolicyNotAuthorized("container:create:requested_destination")


def check_supported(spec: ContainerCreate) -> None:
    """Fields zunk8s cannot honour yet get a clear 501, never a silent success."""
    unsupported = {
        "security_groups": bool(spec.security_groups),
        "exposed_ports": bool(spec.exposed_ports),
        "nets": bool(spec.nets),
        "mounts": bool(spec.mounts),
        "hints": bool(spec.hints),
        "registry": spec.registry is not None,
        "host": spec.host is not None,
    }
    names = [k for k, v in unsupported.items() if v]
    if names:
        raise NotImplementedOnKubernetes(
            f"zunk8s does not support {', '.join(names)} on Kubernetes yet; create the container without them."
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
        auto_remove=bool(spec.auto_remove),
        auto_heal=bool(spec.auto_heal),
        runtime=spec.runtime,
        hostname=spec.hostname,
        privileged=bool(spec.privileged),
        healthcheck=healthcheck_view(spec.healthcheck),
        availability_zone=spec.availability_zone,
        created_at=now,
    )
