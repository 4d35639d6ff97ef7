"""A network's create and update bodies (``{"network": {...}}``), checked as Neutron's API layer
checks them, and refused where a zunk8s network cannot be what they ask: it is a Kubernetes
isolation domain, so provider attributes, external routing, a disabled network, port security
off or another MTU would be stored and silently not true. Pure: the handlers call these on the
fields ``_resource`` found (which also refused another project's ``project_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zunk8s.errors import NeutronBadRequest
from zunk8s.translate.networkviews import MTU

_WHY = "zunk8s networks are Kubernetes isolation domains"
# Accepted when they say what every zunk8s network is (what `openstack network create` sends
# by default, or --internal, --enable-port-security, --mtu 1500).
_ONLY = {"admin_state_up": True, "port_security_enabled": True, "router:external": False}
# Neutron attributes (core and the usual extensions) a zunk8s network does not have.
_UNSUPPORTED = frozenset({
    "provider:network_type", "provider:physical_network", "provider:segmentation_id", "segments",
    "qos_policy_id", "dns_domain", "is_default", "vlan_transparent", "vlan_qinq", "pvlan", "tags",
})
_OWNER = frozenset({"project_id", "tenant_id"})  # checked by the handler: the caller's only
KNOWN = frozenset({"name", "description", "shared", "mtu", "availability_zone_hints", *_ONLY, *_UNSUPPORTED, *_OWNER})


@dataclass(frozen=True)
class NewNetwork:
    name: str
    description: str
    shared: bool


def new_network(fields: Mapping[str, Any]) -> NewNetwork:
    """What a create body asks for; NeutronBadRequest for what Neutron or zunk8s refuses."""
    _check_fixed(fields)
    return NewNetwork(
        name=_text(fields, "name"), description=_text(fields, "description"), shared=_bool(fields, "shared", False)
    )


def network_changes(fields: Mapping[str, Any]) -> dict[str, Any]:
    """What an update body changes (``name``, ``description``, ``shared``); the rest must say
    what the network already is."""
    _check_fixed(fields)
    changes: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in fields:
            changes[key] = _text(fields, key)
    if "shared" in fields:
        changes["shared"] = _bool(fields, "shared", False)
    return changes


def _not_supported(field: str, detail: str = "", *, are: bool = False) -> NeutronBadRequest:
    return NeutronBadRequest(f"{_WHY}: {field} {'are' if are else 'is'} not supported{detail}.")


def _check_fixed(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - KNOWN)
    if unknown:
        raise NeutronBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    # Falsy is "none of that" (`--no-default`, `--no-transparent-vlan`, no QoS policy): accepted.
    asked = sorted(f for f in _UNSUPPORTED & set(fields) if fields[f] not in (None, False, "", []))
    if asked:
        raise _not_supported(", ".join(asked), are=len(asked) > 1)
    for field, only in _ONLY.items():
        if field in fields and _bool(fields, field, only) is not only:
            raise _not_supported(f"{field}={str(not only).lower()}", f" (a zunk8s network is always {field}={str(only).lower()})")
    mtu = fields.get("mtu")
    if mtu is not None:
        if isinstance(mtu, bool) or str(mtu).strip() != str(MTU):
            raise _not_supported(f"mtu={mtu}", f" (a zunk8s network's MTU is the Pods' network's: reported as {MTU})")
    if fields.get("availability_zone_hints"):
        raise _not_supported("availability_zone_hints", " (Kubernetes schedules Pods, not networks)")


def _text(fields: Mapping[str, Any], key: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 255:
        raise NeutronBadRequest(f"Invalid input for {key}. Reason: '{value}' is not a valid string of at most 255 characters.")
    return value


def _bool(fields: Mapping[str, Any], key: str, default: bool) -> bool:
    """Neutron's convert_to_boolean: a JSON boolean, or "true"/"false"/"1"/"0" (any case), 1 or 0."""
    value = fields.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise NeutronBadRequest(f"Invalid input for {key}. Reason: '{value}' cannot be converted to boolean.")
