"""create's ``mounts`` (Zun 1.11; ``type`` 1.23) on Kubernetes (pure).

- ``type: bind`` injects a file: ``source`` is its content, base64-encoded by the client. Zun
  writes it to a file on the host and bind-mounts it, read-write. Here the contents go to a
  Secret owned by the record (``files_secret``), and an init container copies them into an
  emptyDir that the container mounts file by file (``subPath``) at each destination: readable
  and writable, as in Zun (a Secret volume itself is read-only). The init container runs
  ``zunk8s inject`` in ``images.helper_image`` (zunk8s's own image). A change to
  the file lasts as long as the Pod: start and rebuild, which make a new Pod, bring back the
  injected content.
- ``type: volume`` (the default) with ``source`` mounts the project's PersistentVolumeClaim of
  that name (Zun: a Cinder volume by name or id); with ``size`` (GiB) a new claim
  ``zun-<uuid>-v<n>`` of the cluster's default StorageClass is made, owned by the record and so
  removed with the container (Zun: auto_remove of the new volume).

The record keeps the mounts with the injected contents (never shown: Zun's view has no mounts).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from zunk8s.records import Record
from zunk8s.translate.names import is_dns_subdomain

Obj = dict[str, Any]

SRC = "/zunk8s/src"
FILES = "/zunk8s/files"
FILES_VOLUME = "zun-files"
SOURCE_VOLUME = "zun-files-src"
INIT_NAME = "zun-inject"
# A new volume's largest size, GiB (64 TiB: more than any single claim a cluster provisions).
MAX_SIZE = 65536
# Mounted by the runtime or the kubelet over whatever is there: an injected file would vanish.
_RESERVED = ("/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


class BadMount(ValueError):
    """A mount that cannot be made; the message says why."""


def _destination(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise BadMount(f"Invalid mount destination {value!r}: it must be an absolute path in the container.")
    path = posixpath.normpath("/" + value.lstrip("/"))
    if path == "/" or any(path == r or path.startswith(r + "/") for r in _RESERVED):
        raise BadMount(f"Invalid mount destination {value!r}: the runtime mounts its own filesystem there.")
    if "\x00" in path or len(path) > 4096:
        raise BadMount(f"Invalid mount destination {value!r}.")
    return path


def _size(value: Any) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise BadMount(f"Invalid mount size {value!r}: a whole number of GiB.")
    size = int(value) if len(str(value)) <= 12 else MAX_SIZE + 1
    if size < 1:
        raise BadMount(f"Invalid mount size {value!r}: at least 1 GiB.")
    if size > MAX_SIZE:
        raise BadMount(f"Invalid mount size {value!r}: at most {MAX_SIZE} GiB.")
    return size


def check_mounts(mounts: Sequence[Mapping[str, Any]]) -> list[Obj]:
    """Zun's mounts as the record keeps them: ``{type, destination}`` and ``source`` (bind: the
    base64 content; volume: a claim's name) or ``size`` (volume: GiB of a new claim)."""
    out: list[Obj] = []
    for m in mounts:
        kind = m.get("type", "volume")
        if kind not in ("bind", "volume"):
            raise BadMount(f"Invalid mount type {kind!r}: 'volume' or 'bind'.")
        dest = _destination(m.get("destination"))
        if any(o["destination"] == dest for o in out):
            raise BadMount(f"Two mounts have the destination {dest}.")
        if kind == "bind":
            if "size" in m:
                raise BadMount("A bind mount injects a file: 'size' is for type 'volume'.")
            source = m.get("source")
            try:
                content = base64.b64decode(str(source), validate=True) if isinstance(source, str) else None
            except binascii.Error:
                content = None
            if content is None:
                raise BadMount(f"Invalid bind mount to {dest}: its source must be the file's content in base64 "
                               "(the client reads and encodes the file).")
            out.append({"type": "bind", "destination": dest, "source": base64.b64encode(content).decode()})
        elif "source" in m and "size" in m:
            raise BadMount(f"A volume mount to {dest} takes a 'source' (an existing volume) or a 'size' (a new one), not both.")
        elif "source" in m:
            name = m["source"]
            if not isinstance(name, str) or not is_dns_subdomain(name):
                raise BadMount(f"Invalid volume {name!r}: the name of a PersistentVolumeClaim of the project.")
            out.append({"type": "volume", "destination": dest, "source": name})
        else:
            out.append({"type": "volume", "destination": dest, "size": _size(m.get("size"))})
    return out


def files_secret_name(uuid: str) -> str:
    return f"zun-{uuid}-files"


def claim_name(uuid: str, index: int) -> str:
    return f"zun-{uuid}-v{index}"


def _binds(record: Record) -> list[Obj]:
    return [m for m in record.mounts or [] if m.get("type") == "bind"]


def files_secret(record: Record, namespace: str, *, labels: Mapping[str, str], owner: Obj) -> Obj | None:
    """The injected files' contents (keys ``f0``, ``f1``... in the order given); None without any."""
    binds = _binds(record)
    if not binds:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": files_secret_name(record.uuid), "namespace": namespace, "labels": dict(labels),
                     "ownerReferences": [owner]},
        "type": "Opaque",
        "immutable": True,
        "data": {f"f{i}": m["source"] for i, m in enumerate(binds)},
    }


def new_claims(record: Record, namespace: str, *, labels: Mapping[str, str], owner: Obj) -> list[Obj]:
    """The claims of ``size`` mounts, owned by the record."""
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim_name(record.uuid, i), "namespace": namespace, "labels": dict(labels),
                         "ownerReferences": [owner]},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{m['size']}Gi"}}},
        }
        for i, m in enumerate(record.mounts or [])
        if m.get("type") == "volume" and "size" in m
    ]


def pod_parts(record: Record, *, helper_image: str) -> tuple[list[Obj], list[Obj], list[Obj]]:
    """(volumes, the container's volumeMounts, init containers) for the record's mounts."""
    volumes: list[Obj] = []
    mounts: list[Obj] = []
    binds = _binds(record)
    for i, m in enumerate(record.mounts or []):
        if m.get("type") != "volume":
            continue
        claim = str(m["source"]) if "source" in m else claim_name(record.uuid, i)
        volumes.append({"name": f"zun-v{i}", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": f"zun-v{i}", "mountPath": m["destination"]})
    if not binds:
        return volumes, mounts, []
    volumes += [
        {"name": SOURCE_VOLUME, "secret": {"secretName": files_secret_name(record.uuid), "defaultMode": 0o444}},
        {"name": FILES_VOLUME, "emptyDir": {}},
    ]
    mounts += [{"name": FILES_VOLUME, "mountPath": m["destination"], "subPath": f"f{i}"} for i, m in enumerate(binds)]
    init = {
        "name": INIT_NAME,
        "image": helper_image,
        # zunk8s's own image: its entrypoint is ``zunk8s`` (node/inject.py); no shell.
        "args": ["inject", SRC, FILES],
        "volumeMounts": [{"name": SOURCE_VOLUME, "mountPath": SRC, "readOnly": True},
                         {"name": FILES_VOLUME, "mountPath": FILES}],
        # Root, as Zun's host writes the file; nothing else.
        "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        # Python and zunk8s's imports come near 32 MiB: at that limit the kernel killed it at times.
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "96Mi"}},
    }
    return volumes, mounts, [init]
