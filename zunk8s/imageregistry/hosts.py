"""Which registries are spoken to in plain HTTP: one on loopback (the local cluster's, or one a
node runs for itself) and those named as plain; HTTPS otherwise."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def plain_http(host: str, insecure: Iterable[str] = ()) -> bool:
    if host in set(insecure):
        return True
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
