"""Zun quantities (CPU as a float of cores, memory in MiB, disk in GiB) as Kubernetes quantities,
and Kubernetes quantities read back as numbers."""

from __future__ import annotations

import re
from decimal import Decimal


def cpu_quantity(cpu: float, ratio: float = 1.0) -> str:
    return f"{max(1, round(cpu * ratio * 1000))}m"


def memory_quantity(mib: str | int, ratio: float = 1.0) -> str:
    value = int(mib)
    if ratio >= 1.0:
        return f"{value}Mi"
    return f"{max(1, round(value * ratio * 1024))}Ki"


def disk_quantity(gib: int) -> str:
    return f"{gib}Gi"


# Kubernetes' quantity suffixes (k8s.io/apimachinery resource.Quantity): binary, then decimal.
_SUFFIXES = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
    "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_QUANTITY_RE = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)")


def parse_quantity(text: object) -> Decimal | None:
    """A Kubernetes quantity as a number (``"1k"`` CPUs: 1000; ``"24683652Ki"`` bytes), or None
    when it is missing or not one. Nodes report capacity in whatever form the kubelet chose."""
    match = _QUANTITY_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    if exponent:
        return Decimal(number + exponent)
    return Decimal(number) * _SUFFIXES[suffix or ""]
