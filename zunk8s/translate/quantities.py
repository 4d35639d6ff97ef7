"""Zun quantities (CPU as a float of cores, memory in MiB, disk in GiB) as Kubernetes quantities."""

from __future__ import annotations


def cpu_quantity(cpu: float, ratio: float = 1.0) -> str:
    return f"{max(1, round(cpu * ratio * 1000))}m"


def memory_quantity(mib: str | int, ratio: float = 1.0) -> str:
    value = int(mib)
    if ratio >= 1.0:
        return f"{value}Mi"
    return f"{max(1, round(value * ratio * 1024))}Ki"


def disk_quantity(gib: int) -> str:
    return f"{gib}Gi"
