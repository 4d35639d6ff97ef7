"""Zun's quotas and quota classes on Kubernetes (pure).

A project's quota is a ResourceQuota ``zun-quota`` in its namespace: Zun's four limits as zunk8s
keeps them (an annotation: ``-1`` is unlimited) and, for Kubernetes to enforce across replicas,
``count/zuncontainers.zunk8s.openstack.org`` (containers) and ``limits.cpu`` / ``limits.memory``
of the project's running Pods. Zun's own check at create (``over``) counts every container of
the project, running or not, as Zun does, before anything is written. Disk is checked by zunk8s
only: a ResourceQuota on ephemeral storage would refuse every Pod without a disk limit.

Quota classes live in one ConfigMap ``zun-quota-classes`` in the installation's system
namespace (translate/names.py), a key per class. A project without a quota of its own has the
``default`` class's limits, else the configured defaults (Zun's order); another class's unset
limits are the configured defaults (Zun does not fall back to ``default`` for them either).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from zunk8s.records import Record
from zunk8s.translate import crd

Obj = dict[str, Any]

RESOURCES = ("containers", "memory", "disk", "cpu")  # Zun's order in its answers
QUOTA_NAME = "zun-quota"
CLASSES_NAME = "zun-quota-classes"
DEFAULT_CLASS = "default"
LIMITS_ANNOTATION = "zunk8s.openstack.org/quota"
COUNT_KEY = f"count/{crd.PLURAL}.{crd.GROUP}"
_VALUE = re.compile(r"^-?[0-9]+$")


class BadQuota(ValueError):
    """A quota update Zun's schema refuses; the message is Zun's."""


def check_update(body: Any) -> dict[str, int]:
    """Zun's quota (and quota class) update body: any of the four, an integer or a string of
    digits, at least -1; nothing else."""
    if not isinstance(body, dict):
        raise BadQuota(f"{body!r} is not of type 'object'")
    out: dict[str, int] = {}
    for key, value in body.items():
        if key not in RESOURCES:
            raise BadQuota(f"Additional properties are not allowed ('{key}' was unexpected)")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise BadQuota(f"Invalid input for field '{key}'. Value: '{value}'. {value!r} is not of type 'integer', 'string'")
        text = str(value)
        if not _VALUE.match(text) or len(text) > 12:
            raise BadQuota(f"Invalid input for field '{key}'. Value: '{value}'. {value!r} does not match '^-?[0-9]+$'")
        if int(text) < -1:
            raise BadQuota(f"Invalid input for field '{key}'. Value: '{value}'. {value!r} is less than the minimum of -1")
        out[key] = int(text)
    return out


def _limits(data: Any) -> dict[str, int]:
    """Limits as stored (JSON), unknown or broken entries dropped."""
    try:
        parsed = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {k: int(v) for k, v in parsed.items() if k in RESOURCES and isinstance(v, int) and not isinstance(v, bool)}


def project_limits(quota: Obj | None) -> dict[str, int] | None:
    """The limits a project's ResourceQuota holds; None without one."""
    if quota is None:
        return None
    return _limits(((quota.get("metadata") or {}).get("annotations") or {}).get(LIMITS_ANNOTATION))


def class_limits(classes: Obj | None, name: str) -> dict[str, int]:
    return _limits(((classes or {}).get("data") or {}).get(name))


def resolve(defaults: Mapping[str, int], *, project: Mapping[str, int] | None, default_class: Mapping[str, int]) -> dict[str, int]:
    """A project's limits: its own, else the ``default`` class's, else the configured defaults,
    resource by resource."""
    return {r: (project or {}).get(r, default_class.get(r, defaults[r])) for r in RESOURCES}


def class_view(defaults: Mapping[str, int], limits: Mapping[str, int]) -> dict[str, int]:
    return {r: limits.get(r, defaults[r]) for r in RESOURCES}


def usage(records: Iterable[Record]) -> dict[str, float]:
    """What a project's containers use, as Zun counts it: every container (not only running
    ones), their cpu, memory (MiB) and disk (GiB)."""
    out: dict[str, float] = {"containers": 0, "memory": 0, "disk": 0, "cpu": 0.0}
    for r in records:
        out["containers"] += 1
        out["cpu"] += r.cpu or 0.0
        out["memory"] += int(r.memory) if r.memory and str(r.memory).isdigit() else 0
        out["disk"] += r.disk or 0
    out["cpu"] = round(out["cpu"], 3)
    return out


def over(limits: Mapping[str, int], used: Mapping[str, float], deltas: Mapping[str, float]) -> list[str]:
    """The resources a change of ``deltas`` would take past their limits (sorted, as Zun says them)."""
    return sorted(r for r, d in deltas.items()
                  if limits[r] >= 0 and used.get(r, 0) + d > limits[r] + (1e-9 if r == "cpu" else 0))


def over_message(resources: list[str]) -> str:
    return f"Quota exceeded for resources: {resources!r}"


def quota_view(limits: Mapping[str, int], used: Mapping[str, float] | None) -> Obj:
    if used is None:
        return {r: limits[r] for r in RESOURCES}
    return {r: {"limit": limits[r], "in_use": used[r]} for r in RESOURCES}


def resource_quota(namespace: str, limits: Mapping[str, int], *, labels: Mapping[str, str]) -> Obj:
    """The project's ResourceQuota: its limits (annotation) and what Kubernetes enforces of them."""
    hard: dict[str, str] = {}
    if limits.get("containers", -1) >= 0:
        hard[COUNT_KEY] = str(limits["containers"])
    if limits.get("cpu", -1) >= 0:
        hard["limits.cpu"] = str(limits["cpu"])
    if limits.get("memory", -1) >= 0:
        hard["limits.memory"] = f"{limits['memory']}Mi"
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": namespace, "labels": dict(labels),
                     "annotations": {LIMITS_ANNOTATION: json.dumps(dict(limits), sort_keys=True)}},
        "spec": {"hard": hard},
    }


def classes_body(namespace: str, classes: Mapping[str, Mapping[str, int]], *, labels: Mapping[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CLASSES_NAME, "namespace": namespace, "labels": dict(labels)},
        "data": {name: json.dumps(dict(limits), sort_keys=True) for name, limits in classes.items()},
    }

