"""Zun's /v1/images on Kubernetes (pure): a project's images are its ZunImage objects (what it
committed, translate/commit.py, and what an admin pulled onto a node); Zun's view of them, its
pull body, and the short-lived Pod that pulls an image onto a node.

A pull is the kubelet's own: a Pod on the asked node whose only container uses the image, with
a command no image has, so the runtime pulls the image and then fails to start it at once. The
Pod's container status gives the pulled image's id; the Node's image list, its size.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zunk8s.translate import crd
from zunk8s.translate import labels as L

Obj = dict[str, Any]

# Zun's images view (zun/api/controllers/v1/views/images_view.py), in its order.
VIEW_KEYS = ("uuid", "links", "image_id", "project_id", "repo", "tag", "size", "host")
# And Zun's default, ``id`` (its rows' creation order): here the creation time.
SORT_KEYS = (frozenset(VIEW_KEYS) - {"links"}) | {"id"}
PULL_LABEL = f"{L.PREFIX}/image-pull"
# Nothing is at this path in any image: the container fails to start right after its image is in.
NO_COMMAND = "/.zunk8s-pull-only"
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]")
_SIZE = re.compile(r"^[0-9]+[bBkKmMgG]?$")
_PULL_FIELDS = {"repo", "host", "image_id", "tag", "size", "image_pull_policy"}
_POLICIES = {"never", "always", "ifnotpresent", "Never", "Always", "IfNotPresent"}


class BadPull(ValueError):
    """A pull body Zun's schema refuses; the message is Zun's."""


def check_pull(body: Any) -> tuple[str, str]:
    """Zun's pull schema: ``repo`` and ``host`` required, the other fields typed; (repo, host)."""
    if not isinstance(body, dict):
        raise BadPull(f"{body!r} is not of type 'object'")
    extra = sorted(set(body) - _PULL_FIELDS)
    if extra:
        raise BadPull(f"Additional properties are not allowed ('{extra[0]}' was unexpected)")
    for key in ("repo", "host"):
        if key not in body:
            raise BadPull(f"'{key}' is a required property")
    for key in ("repo", "host", "image_id", "tag"):
        value = body.get(key)
        if value is None and key in ("image_id", "tag"):
            continue
        if not isinstance(value, str) or not 2 <= len(value) <= 255 or not _NAME.search(value):
            raise BadPull(f"Invalid input for field '{key}'. Value: '{value}'. It must be a string of 2 to 255 "
                          "characters with two letters, digits or '_.-' in a row.")
    size = body.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, str | int) or not _SIZE.match(str(size))):
        raise BadPull(f"Invalid input for field 'size'. Value: '{size}'. It must match '^[0-9]+[b|B|k|K|m|M|g|G]?$'.")
    policy = body.get("image_pull_policy")
    if policy is not None and policy not in _POLICIES:
        raise BadPull(f"Invalid input for field 'image_pull_policy'. Value: '{policy}'. It is not one of {sorted(_POLICIES)}.")
    # Valid for Zun's schema, but Zun overwrites or drops them (tag, image_pull_policy) or takes
    # them on trust (image_id, size): zunk8s learns them from the pull, and says so.
    given = [k for k in ("tag", "image_id", "size", "image_pull_policy") if body.get(k) is not None]
    if given:
        raise BadPull(f"zunk8s takes {', '.join(given)} from the pull itself: give the image as 'repo' "
                      "(with its ':tag') and the 'host' to pull it onto.")
    return str(body["repo"]), str(body["host"])


def registry_host(name: str) -> str | None:
    """The registry an image name names, by Docker's rule: a first path component with a dot or a
    port, or ``localhost``; None when it names none."""
    first, sep, _ = name.partition("/")
    return first if sep and ("." in first or ":" in first or first == "localhost") else None


def split_repo(repo: str) -> tuple[str, str]:
    """(repository, tag) as Zun's parse_image_name gives them: the tag after the last ':' of the
    last path component, ``latest`` without one; a digest reference keeps its digest as the tag."""
    if "@" in repo:
        name, _, digest = repo.partition("@")
        return name, digest
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = repo.rpartition(":")
        return name, tag
    return repo, "latest"


def reference(repo: str, tag: str) -> str:
    return f"{repo}@{tag}" if tag.startswith("sha256:") else f"{repo}:{tag}"


def image_object(*, namespace: str, uuid: str, repo: str, tag: str, host: str | None, project_id: str,
                 labels: Mapping[str, str], created: str) -> Obj:
    """An image's ZunImage without its id and size (a pull's before it is done, as in Zun)."""
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.IMG_KIND,
        "metadata": {"name": uuid, "namespace": namespace, "labels": dict(labels)},
        "spec": {"uuid": uuid, "repo": repo, "tag": tag, "image_id": None, "size": None, "project_id": project_id,
                 "host": host, "created_at": created},
    }


def view(obj: Mapping[str, Any], base_url: str) -> Obj:
    spec = obj.get("spec") or {}
    uuid = str(spec.get("uuid") or (obj.get("metadata") or {}).get("name"))
    size = spec.get("size")
    fields = {
        "uuid": uuid,
        "links": [{"href": f"{base_url}/v1/images/{uuid}", "rel": "self"},
                  {"href": f"{base_url}/images/{uuid}", "rel": "bookmark"}],
        "image_id": spec.get("image_id"), "project_id": spec.get("project_id"), "repo": spec.get("repo"),
        "tag": spec.get("tag"), "size": None if size is None else str(size), "host": spec.get("host"),
    }
    return {k: fields[k] for k in VIEW_KEYS}


def row(obj: Mapping[str, Any]) -> Obj:
    """The fields a list sorts and pages by (``view`` without links, and ``id``)."""
    v = view(obj, "")
    v.pop("links")
    v["id"] = str((obj.get("spec") or {}).get("created_at") or (obj.get("metadata") or {}).get("creationTimestamp") or "")
    return v


def pull_pod(*, name: str, namespace: str, image: str, host: str, uuid: str, labels: Mapping[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {**labels, PULL_LABEL: uuid}},
        "spec": {
            "nodeName": host,
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],  # the asked node, whatever its taints
            "containers": [{
                "name": "pull", "image": image, "imagePullPolicy": "Always", "command": [NO_COMMAND],
                "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"cpu": "10m", "memory": "16Mi"}},
            }],
        },
    }


@dataclass(frozen=True)
class Pulled:
    image_id: str | None  # the runtime's id of the pulled image; None: the pull failed
    error: str | None = None


_FAILED_PULLS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable")


def pull_ended(pod: Mapping[str, Any] | None) -> bool:
    """Whether the pull is over, from what zunk8s's Pod cache keeps of a Pod (its container's
    state: started or failed to start, both after the image is in; or a failed pull)."""
    if pod is None:
        return True
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "running" in state or "terminated" in state or (state.get("waiting") or {}).get("reason") in _FAILED_PULLS:
            return True
    return False


def pulled(pod: Mapping[str, Any] | None) -> Pulled | None:
    """The pull's outcome from its whole Pod (the cache keeps no image id); None while it goes on."""
    if pod is None:
        return Pulled(image_id=None, error="the pull's Pod went away")
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in _FAILED_PULLS:
            return Pulled(image_id=None, error=f"{waiting.get('reason')}: {waiting.get('message') or ''}".strip())
        if cs.get("imageID"):  # the image is in; the container itself need not start
            return Pulled(image_id=str(cs["imageID"]))
    return None


def node_image_size(node_images: Sequence[Mapping[str, Any]], image_id: str, ref: str) -> int | None:
    """The size the Node reports for the image (by its id or its name), if it lists it yet."""
    for img in node_images:
        names = img.get("names") or []
        if image_id in names or ref in names or any(n.endswith("/" + ref) for n in names):
            size = img.get("sizeBytes")
            return int(size) if isinstance(size, int) else None
    return None
