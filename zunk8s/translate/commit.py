"""commit between zunk8s and its node agent, and the image it makes (pure).

Like pause (translate/freeze.py), zunk8s writes the ask on the container's Pod (``WANT``, one
line of JSON: the request id, where to push the image, the image config's changes) and the agent
on the Pod's node answers there (``DONE``: the request id and the pushed manifest's digest and
size, or the reason it could not).

The image is the container's image plus one layer: the container's changes as containerd's
snapshotter diff gives them (new and changed files, whiteouts for deleted ones), without the
stubs of what was mounted over the container's filesystem (``mount_points``: /etc/hosts, the
volumes...). Its config is the base image's, with what the container ran instead (Zun's
``command`` and ``entrypoint``, its environment and workdir), as ``docker commit`` gives it, and
one more history entry. Zun pushes to Glance; zunk8s pushes to its configured registry, under
the project's namespace (``reference``), so one project cannot overwrite another's images.
"""

from __future__ import annotations

import json
import posixpath
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zunk8s.records import Record
from zunk8s.translate import images
from zunk8s.translate import labels as L

Obj = dict[str, Any]

WANT = f"{L.PREFIX}/want-commit"
DONE = f"{L.PREFIX}/commit"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_LIST)
# A base image's layers keep their bytes; only the media type's spelling changes in an OCI manifest.
_LAYER_TYPES = {
    "application/vnd.docker.image.rootfs.diff.tar": OCI_LAYER,
    "application/vnd.docker.image.rootfs.diff.tar.gzip": OCI_LAYER + "+gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}

# Mounted over the container's filesystem by the kubelet and the runtime: what the diff shows
# there is the empty mount point, never the container's own data.
RUNTIME_MOUNTS = (
    "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/var/run/secrets/kubernetes.io",
)
# Docker's reference grammar: lower-case path components, a tag of word characters.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_REF_LIMIT = 255


class BadName(ValueError):
    """A repository or tag that no registry takes; the message says why."""


@dataclass(frozen=True)
class Ask:
    request: str
    reference: str  # registry/namespace/repository:tag
    config: Obj  # the config's changes: Cmd, Entrypoint, Env, WorkingDir (only those set)
    comment: str
    # For zunk8s (its image record, also when recovery finishes a commit); the agent ignores them.
    image: str = ""  # the image's id (image_uuid)
    repository: str = ""
    tag: str = ""


@dataclass(frozen=True)
class Answer:
    request: str
    digest: str | None  # the pushed manifest's; None: the agent could not commit
    size: int = 0  # the image's bytes: config and every layer, as pushed
    error: str | None = None


def check_names(repository: str, tag: str, *, registry: str) -> None:
    """Zun's schema takes any string; a registry does not, and zunk8s says so before the 202."""
    if images.registry_host(repository) is not None:
        raise BadName(
            f"Repository {repository!r} names a registry; zunk8s commits only to its own ({registry}): "
            "give a repository name without a registry host."
        )
    if not _REPOSITORY.match(repository):
        raise BadName(
            f"Invalid repository {repository!r}: lower-case letters, digits and separators (. _ - /) "
            "between them, as an image name."
        )
    if not _TAG.match(tag):
        raise BadName(f"Invalid tag {tag!r}: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.")
    if len(reference(registry, "x" * 63, repository, tag)) > _REF_LIMIT:
        raise BadName(f"Repository {repository!r} is too long for an image reference.")


def reference(registry: str, namespace: str, repository: str, tag: str) -> str:
    return f"{registry.rstrip('/')}/{namespace}/{repository}:{tag}"


def image_uuid(namespace: str, repository: str, tag: str) -> str:
    """The id of a project's committed image ``repository:tag`` (what commit answers): the same
    name is the same image, committed again over (as a tag moves in a registry)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"zunk8s-image:{namespace}/{repository}:{tag}"))


def split_image(image: str) -> tuple[str, str] | None:
    """``repository[:tag]`` of an image name that names no registry (one a commit could have
    made), else None. A digest is not a tag a commit makes."""
    if "@" in image:
        return None
    name, tag = images.split_repo(image)
    if images.registry_host(name) is not None or not _REPOSITORY.match(name) or not _TAG.match(tag or "latest"):
        return None
    return name, tag or "latest"


def config_changes(record: Record) -> Obj:
    """What the container ran that differs from its image, as ``docker commit`` keeps it."""
    changes: Obj = {}
    if record.entrypoint:
        changes["Entrypoint"] = list(record.entrypoint)
        changes["Cmd"] = list(record.command or [])  # Kubernetes: a new entrypoint drops the image's CMD
    elif record.command:
        changes["Cmd"] = list(record.command)
    if record.environment:
        changes["Env"] = [f"{k}={v}" for k, v in record.environment.items()]
    if record.workdir:
        changes["WorkingDir"] = record.workdir
    return changes


def ask(a: Ask) -> str:
    return json.dumps({"request": a.request, "reference": a.reference, "config": a.config, "comment": a.comment,
                       "image": a.image, "repository": a.repository, "tag": a.tag}, separators=(",", ":"))


def _annotations(pod: Obj | None) -> Obj:
    return ((pod or {}).get("metadata") or {}).get("annotations") or {}


def _json(value: Any) -> Obj | None:
    try:
        data = json.loads(str(value)) if value else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("request"), str) else None


def wanted(pod: Obj | None) -> Ask | None:
    data = _json(_annotations(pod).get(WANT))
    if data is None or not isinstance(data.get("reference"), str) or not isinstance(data.get("config"), dict):
        return None
    return Ask(request=data["request"], reference=data["reference"], config=data["config"],
               comment=str(data.get("comment") or ""), image=str(data.get("image") or ""),
               repository=str(data.get("repository") or ""), tag=str(data.get("tag") or ""))


def answer(pod: Obj | None) -> Answer | None:
    data = _json(_annotations(pod).get(DONE))
    if data is None:
        return None
    if "error" in data:
        return Answer(request=data["request"], digest=None, error=str(data["error"]) or "the node agent failed")
    digest, size = data.get("digest"), data.get("size")
    if not isinstance(digest, str) or not isinstance(size, int):
        return None
    return Answer(request=data["request"], digest=digest, size=size)


def done_value(request: str, digest: str, size: int) -> str:
    return json.dumps({"request": request, "digest": digest, "size": size}, separators=(",", ":"))


def error_value(request: str, why: str) -> str:
    return json.dumps({"request": request, "error": " ".join(why.split())[:400]}, separators=(",", ":"))


def container_id(pod: Obj) -> str | None:
    """The runtime's id of the Pod's container, running or ended (an ended container's
    filesystem is still the runtime's until the Pod goes)."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        cid = str(cs.get("containerID") or "")
        state = cs.get("state") or {}
        if ("running" in state or "terminated" in state) and "://" in cid:
            return cid.split("://", 1)[1]
    return None


def image_names(pod: Obj) -> list[str]:
    """The names the runtime's image store may know the container's image by, likeliest first:
    the image id the kubelet reports (a repository digest: when one image was imported under one
    name and pulled under another, the pulled one's, whose layers the runtime may have dropped
    after unpacking), then the image as the status and the Pod name it."""
    names: list[str] = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        for name in (str(cs.get("imageID") or "").removeprefix("docker-pullable://"), str(cs.get("image") or "")):
            if name and name not in names:
                names.append(name)
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("image") and c["image"] not in names:
            names.append(str(c["image"]))
    return names


def mount_points(pod: Obj) -> list[str]:
    """Where something was mounted over the container's filesystem: the runtime's own mounts and
    the Pod's volumes (zunk8s's injected files among them) and termination log."""
    points = list(RUNTIME_MOUNTS)
    for c in (pod.get("spec") or {}).get("containers") or []:
        points += [str(m["mountPath"]) for m in c.get("volumeMounts") or [] if m.get("mountPath")]
        points.append(str(c.get("terminationMessagePath") or "/dev/termination-log"))
    return [posixpath.normpath("/" + p.lstrip("/")) for p in points]


def entry_name(name: str) -> str:
    """A tar entry's path as kept_entries names it: relative, without ./ or a trailing /."""
    return posixpath.normpath("/" + name.lstrip("/")).lstrip("/")


def kept_entries(entries: Sequence[tuple[str, bool]], points: Iterable[str]) -> set[str]:
    """The diff's entries (name, is a directory) that belong in the image: none at or under a
    mount point, and no directory that is there only to hold one."""
    mounts = {entry_name(p) for p in points}

    def under_mount(name: str) -> bool:
        return any(name == m or name.startswith(m + "/") for m in mounts)

    def holds_mount(name: str) -> bool:
        return any(m.startswith(name + "/") for m in mounts)

    names = [(entry_name(n), is_dir) for n, is_dir in entries]
    kept = {n for n, _ in names if not under_mount(n)}
    # A directory on a mount point's path stays when something else of the diff is under it
    # (the user's changes there), or when it is a change of its own that is not a mere stub.
    content = {n for n in kept if not holds_mount(n)}
    for n, is_dir in names:
        if n in kept and is_dir and holds_mount(n) and not any(c.startswith(n + "/") for c in content):
            kept.discard(n)
    return kept


def platform_manifest(index: Obj, *, architecture: str, os: str = "linux") -> Obj | None:
    """The descriptor of an index's manifest for this node's platform."""
    for m in index.get("manifests") or []:
        platform = m.get("platform") or {}
        if platform.get("architecture") == architecture and platform.get("os") == os:
            return dict(m)
    return None


def image_config(base: Mapping[str, Any], *, diff_id: str, changes: Mapping[str, Any], created: str, comment: str) -> Obj:
    """The new image's config: the base's, the container's changes, the layer and its history."""
    config: Obj = json.loads(json.dumps(base))
    inner = dict(config.get("config") or {})
    if "Env" in changes:
        names = {e.split("=", 1)[0] for e in changes["Env"]}
        inner["Env"] = [e for e in inner.get("Env") or [] if e.split("=", 1)[0] not in names] + list(changes["Env"])
    for key in ("Cmd", "Entrypoint", "WorkingDir"):
        if key in changes:
            inner[key] = changes[key]
    config["config"] = inner
    config.pop("container_config", None)  # Docker's record of the build step, not the image's
    rootfs = dict(config.get("rootfs") or {"type": "layers"})
    rootfs["diff_ids"] = [*(rootfs.get("diff_ids") or []), diff_id]
    config["rootfs"] = rootfs
    config["history"] = [*(config.get("history") or []), {"created": created, "created_by": "zunk8s commit", "comment": comment}]
    config["created"] = created
    return config


def layer_descriptor(d: Mapping[str, Any]) -> Obj:
    """A base image's layer in an OCI manifest (the same bytes, OCI's spelling of its type)."""
    out = {"mediaType": _LAYER_TYPES.get(str(d.get("mediaType")), str(d.get("mediaType"))), "digest": d["digest"], "size": d["size"]}
    if d.get("urls"):
        out["urls"] = list(d["urls"])
    return out


def manifest(*, config_digest: str, config_size: int, layers: Sequence[Mapping[str, Any]]) -> Obj:
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [dict(x) for x in layers],
    }


def pinned(reference: str, digest: str) -> str:
    """``host/name:tag`` -> ``host/name@digest``: what a Pod runs, so a later commit to the same
    tag, or a node's older copy of it, never changes what this container runs."""
    return f"{images.split_repo(reference)[0]}@{digest}"


def image_object(*, namespace: str, a: Ask, answer: Answer, project_id: str, container: str, host: str | None,
                 labels: Mapping[str, str], created: str) -> Obj:
    """The ZunImage of a finished commit (translate/images.py's, with its id and size, and where
    it was pushed)."""
    obj = images.image_object(namespace=namespace, uuid=a.image, repo=a.repository, tag=a.tag, host=host,
                              project_id=project_id, labels=labels, created=created)
    obj["spec"].update(image_id=answer.digest, size=answer.size, container_uuid=container, reference=a.reference,
                       image_ref=pinned(a.reference, str(answer.digest)))
    return obj


def committed_ref(obj: Obj | None) -> str | None:
    """What a Pod runs for a committed image, from its ZunImage."""
    ref = ((obj or {}).get("spec") or {}).get("image_ref")
    return str(ref) if ref else None
