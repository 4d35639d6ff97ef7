"""Request bodies for the Kubernetes objects zunk8s creates besides Pods (translate/pods.py):
a project's Namespace, a container's ZunContainer record, the ConfigMap holding the logs of
its earlier runs, and the ownerReference that ties Pods and ConfigMaps to the record.

Pure: dicts in, dicts out (golden tests in tests/unit/translate/test_objects.py).
"""

from __future__ import annotations

import base64
from typing import Any

from zunk8s.translate import crd
from zunk8s.translate import labels as L

Obj = dict[str, Any]


def namespace_body(name: str, *, project_id: str, project_hash: str, instance: str) -> Obj:
    """A project's namespace; the project id itself (which may not be a label value) is kept
    in an annotation."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": L.project_labels(project_hash=project_hash, instance=instance),
            "annotations": {L.ANN_PROJECT: project_id},
        },
    }


def record_body(namespace: str, uuid: str, *, spec: Obj, labels: dict[str, str]) -> Obj:
    """A ZunContainer named by the container's uuid; its spec is the Zun record verbatim."""
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.KIND,
        "metadata": {"name": uuid, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def record_owner(uuid: str, uid: str) -> Obj:
    """The ownerReference to a container's record: Kubernetes' garbage collector deletes what
    carries it once the record is gone. blockOwnerDeletion False: a record's deletion never
    waits for its Pods (zunk8s has no RBAC on the record's finalizers)."""
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.KIND,
        "name": uuid,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": False,
    }


def log_archive_configmap(namespace: str, name: str, *, data: bytes, owner: Obj, labels: dict[str, str]) -> Obj:
    """The logs of a container's earlier runs (binary: logs need not be UTF-8)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner]},
        "binaryData": {"log": base64.b64encode(data).decode()},
    }


def log_archive_data(configmap: Obj) -> bytes:
    """The saved logs a ConfigMap made by ``log_archive_configmap`` holds."""
    raw = (configmap.get("binaryData") or {}).get("log")
    return base64.b64decode(raw) if raw else b""


def merge_patch(*, status: Obj | None = None, spec: Obj | None = None, labels: dict[str, str | None] | None = None,
                resource_version: str | None = None) -> Obj:
    """A JSON merge patch of a record: status fields (to the status subresource), spec fields
    and labels (to the object); ``resource_version`` makes the write conditional (409 if the
    record changed since)."""
    patch: Obj = {}
    if status is not None:
        patch["status"] = status
    if spec is not None:
        patch["spec"] = spec
    metadata: Obj = {}
    if labels is not None:
        metadata["labels"] = labels
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    if metadata:
        patch["metadata"] = metadata
    return patch
