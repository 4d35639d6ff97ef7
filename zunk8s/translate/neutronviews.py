"""SecurityGroup objects and their views in Neutron's API shape (what openstacksdk and the
`openstack security group` commands read)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from zunk8s.errors import Invalid
from zunk8s.translate import crd
from zunk8s.translate.secgroups import Rule, canonical_rule

Obj = dict[str, Any]

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"


def default_group_id(instance: str, project_id: str) -> str:
    """The same id on every replica, so that two replicas making a project's default group at
    once make one (the second create is AlreadyExists)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"zunk8s:{instance}:{project_id}:default-security-group"))


def group_body(
    namespace: str, group_id: str, *, name: str, description: str, project_id: str, labels: Mapping[str, str],
    rules: Sequence[Rule], now: str,
) -> Obj:
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.SG_KIND,
        "metadata": {"name": group_id, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "name": name,
            "description": description,
            "project_id": project_id,
            "created_at": now,
            "rules": [stored_rule(r, now) for r in rules],
        },
    }


def stored_rule(rule: Rule, now: str) -> Obj:
    fields = asdict(rule)
    del fields["security_group_id"]  # the group holds it
    return {**fields, "created_at": now}


def group_rules(obj: Obj) -> tuple[list[Rule], list[Any]]:
    """The group's rules in canonical form, and those left out: a rule someone wrote with
    kubectl that Neutron would refuse allows nothing rather than something unchecked."""
    rules, refused = [], []
    for stored in (obj.get("spec") or {}).get("rules") or []:
        try:
            rules.append(canonical_rule(stored, rule_id=str(stored.get("id") or ""), group_id=obj["metadata"]["name"]))
        except (Invalid, AttributeError, TypeError):
            refused.append(stored)
    return rules, refused


def _created(obj: Obj, rule_id: str | None = None) -> str | None:
    spec = obj.get("spec") or {}
    if rule_id is not None:
        for stored in spec.get("rules") or []:
            if stored.get("id") == rule_id:
                return str(stored.get("created_at") or spec.get("created_at") or "") or None
    return str(spec.get("created_at") or "") or None


def rule_view(obj: Obj, rule: Rule) -> Obj:
    project_id = (obj.get("spec") or {}).get("project_id")
    created = _created(obj, rule.id)
    prefix = rule.remote_ip_prefix
    return {
        "id": rule.id,
        "project_id": project_id,
        "tenant_id": project_id,
        "security_group_id": rule.security_group_id,
        "ethertype": rule.ethertype,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": prefix,
        "normalized_cidr": str(ipaddress.ip_network(prefix)) if prefix else None,
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": None,
        "belongs_to_default_sg": (obj.get("spec") or {}).get("name") == DEFAULT_NAME,
        "description": rule.description,
        "tags": [],
        "created_at": created,
        "updated_at": created,
        "revision_number": 0,
    }


def group_view(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    meta = obj["metadata"]
    created = _created(obj)
    return {
        "id": meta["name"],
        "name": spec.get("name", ""),
        "description": spec.get("description", ""),
        "stateful": True,
        "shared": False,
        "project_id": spec.get("project_id"),
        "tenant_id": spec.get("project_id"),
        "security_group_rules": [rule_view(obj, r) for r in group_rules(obj)[0]],
        "tags": [],
        "created_at": created,
        "updated_at": created,
        "revision_number": int(meta.get("generation") or 0),
    }
