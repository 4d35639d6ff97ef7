"""Neutron security groups of a project, kept as SecurityGroup objects in its namespace.

Neutron's behaviour, reproduced: a project's ``default`` group appears on first use (listing
groups or rules, creating a group) with its four rules; every new group gets the two egress
rules; a duplicate rule is a 409 naming the existing one; the default group cannot be removed
by a non-admin, nor a group in use by a container; deleting a group deletes the rules of other
groups that named it as their remote group. A rule NetworkPolicy cannot enforce is refused
(translate/secgroups.py) rather than stored and silently not enforced.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from typing import Any

import structlog

from zunk8s.clock import kube_now
from zunk8s.errors import (
    BackendUnavailable,
    Conflict,
    InvalidValue,
    SecurityGroupCannotRemoveDefault,
    SecurityGroupDefaultAlreadyExists,
    SecurityGroupInUse,
    SecurityGroupNotFound,
    SecurityGroupRuleExists,
    SecurityGroupRuleNotFound,
)
from zunk8s.kube.errors import KubeConflict
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record
from zunk8s.service.context import Caller
from zunk8s.service.isolation import Isolation, new_rule_ids
from zunk8s.service.ownership import owned, require_owned
from zunk8s.translate import capsules
from zunk8s.translate import labels as L
from zunk8s.translate.isolation import container_groups
from zunk8s.translate.names import namespace_for, project_hash
from zunk8s.translate.neutronfilters import matches
from zunk8s.translate.neutronviews import (
    DEFAULT_NAME,
    group_body,
    group_rules,
    group_view,
    rule_view,
    stored_rule,
)
from zunk8s.translate.objects import namespace_body
from zunk8s.translate.secgroups import PodRanges, Rule, canonical_rule, check_expressible, new_group_rules

Obj = dict[str, Any]
log = structlog.get_logger(__name__)

# Conditional rule writes retried this often (with a random back-off) when another replica
# changed the group meanwhile; writers on one replica take turns (a lock per group) instead.
WRITE_ATTEMPTS = 20


class SecurityGroups:
    def __init__(self, *, gateway: KubeGateway, namespace_prefix: str, pods: PodRanges, isolation: Isolation) -> None:
        self._gw = gateway
        self._isolation = isolation
        self._prefix = namespace_prefix
        self._pods = pods
        self._writing: dict[tuple[str, str], asyncio.Lock] = {}

    def _namespace(self, caller: Caller) -> str:
        return namespace_for(caller.project_id, self._prefix)

    def _labels(self, caller: Caller) -> dict[str, str]:
        return L.project_labels(project_hash=project_hash(caller.project_id), instance=self._gw.instance)

    async def _groups(self, caller: Caller) -> list[Obj]:
        """The project's groups, its default one made first if it has none yet."""
        namespace = self._namespace(caller)
        await self._gw.ensure_namespace(
            namespace_body(namespace, project_id=caller.project_id, project_hash=project_hash(caller.project_id),
                           instance=self._gw.instance)
        )
        groups = await self._gw.list_security_groups(namespace)
        if not any((g.get("spec") or {}).get("name") == DEFAULT_NAME for g in groups):
            groups.append(await self._make_default(caller, namespace))
        for g in groups:
            refused = group_rules(g)[1]
            if refused:
                log.warning("security_group_rules_ignored", group=g["metadata"]["name"], rules=refused)
        return sorted(groups, key=lambda g: (g.get("spec") or {}).get("created_at") or "")

    async def _make_default(self, caller: Caller, namespace: str) -> Obj:
        return await self._isolation.make_default_group(namespace, caller.project_id)

    def _owned(self, group: Obj) -> bool:
        return owned(group, self._gw.instance)

    def _require_owned(self, group: Obj) -> None:
        require_owned(group, self._gw.instance, what="Security group")

    async def _group(self, caller: Caller, group_id: str) -> Obj:
        groups = await self._groups(caller)
        for g in groups:
            if g["metadata"]["name"] == group_id:
                return g
        raise SecurityGroupNotFound(group_id)

    # --- groups -----------------------------------------------------------------------------

    async def list_groups(self, caller: Caller, *, filters: dict[str, list[str]]) -> list[Obj]:
        views = [group_view(g) for g in await self._groups(caller)]
        return [v for v in views if matches(v, filters)]

    async def show_group(self, caller: Caller, group_id: str) -> Obj:
        return group_view(await self._group(caller, group_id))

    async def create_group(self, caller: Caller, *, name: str, description: str) -> Obj:
        if name.lower() == DEFAULT_NAME:
            raise SecurityGroupDefaultAlreadyExists()
        await self._groups(caller)  # Neutron makes the default group first
        group_id = str(uuid.uuid4())
        body = group_body(self._namespace(caller), group_id, name=name, description=description,
                          project_id=caller.project_id, labels=self._labels(caller),
                          rules=new_group_rules(group_id, is_default=False, rule_ids=new_rule_ids()), now=kube_now())
        return group_view(await self._gw.create_security_group(body))

    async def delete_group(self, caller: Caller, group_id: str) -> None:
        if self._in_use(caller, group_id):
            raise SecurityGroupInUse(group_id)
        groups = await self._groups(caller)
        target = next((g for g in groups if g["metadata"]["name"] == group_id), None)
        if target is None:
            raise SecurityGroupNotFound(group_id)
        if (target.get("spec") or {}).get("name") == DEFAULT_NAME and not caller.is_admin:
            raise SecurityGroupCannotRemoveDefault()
        self._require_owned(target)
        namespace = self._namespace(caller)
        await self._gw.delete_security_group(namespace, group_id)
        # Rules of other groups that named it as their remote group go with it (Neutron's cascade).
        for g in groups:
            # (A group made with kubectl keeps its rule: zunk8s does not write what it did not make.)
            if g is not target and self._owned(g) and any(r.remote_group_id == group_id for r in group_rules(g)[0]):
                await self._rewrite(namespace, g["metadata"]["name"],
                                    lambda rules: [r for r in rules if r.remote_group_id != group_id])
                await self._isolation.sync_members(namespace, g["metadata"]["name"])

    def _in_use(self, caller: Caller, group_id: str) -> bool:
        """Whether a container of the project is in the group (its record names it, or names no
        group and the group is the project's default one)."""
        namespace = self._namespace(caller)
        for key in self._gw.record_keys():
            obj = self._gw.cached_record(key) if key[0] == namespace else None
            if obj is not None and group_id in container_groups(Record.model_validate(obj.get("spec") or {}), self._gw.instance):
                return True
        # A capsule is in its project's default group (translate/capsules.py).
        return any(group_id in record.security_groups and pod["metadata"].get("namespace") == namespace
                   for pod, record in capsules.cached(self._gw.cached_pods()))

    async def resolve(self, caller: Caller, idents: list[str]) -> list[str]:
        """Create's ``security_groups`` as group ids, each by id or by name, de-duplicated; Zun's
        400 for one not found and 409 for a name several groups have."""
        groups = await self._groups(caller)
        ids: list[str] = []
        for ident in idents:
            found = [g for g in groups if g["metadata"]["name"] == ident] or [
                g for g in groups if (g.get("spec") or {}).get("name") == ident
            ]
            if not found:
                raise InvalidValue(f"Security group {ident} not found.")
            if len(found) > 1:
                raise Conflict(f"Multiple security group matches found for name {ident}, use an ID to be more specific.")
            group_id = str(found[0]["metadata"]["name"])
            if group_id not in ids:
                ids.append(group_id)
        return ids

    # --- rules ------------------------------------------------------------------------------

    async def list_rules(self, caller: Caller, *, filters: dict[str, list[str]]) -> list[Obj]:
        views = [rule_view(g, r) for g in await self._groups(caller) for r in group_rules(g)[0]]
        return [v for v in views if matches(v, filters)]

    async def _find_rule(self, caller: Caller, rule_id: str) -> tuple[Obj, Rule]:
        for g in await self._groups(caller):
            for r in group_rules(g)[0]:
                if r.id == rule_id:
                    return g, r
        raise SecurityGroupRuleNotFound(rule_id)

    async def show_rule(self, caller: Caller, rule_id: str) -> Obj:
        return rule_view(*await self._find_rule(caller, rule_id))

    async def create_rule(self, caller: Caller, fields: Obj) -> Obj:
        group_id = str(fields.get("security_group_id") or "")
        groups = {g["metadata"]["name"]: g for g in await self._groups(caller)}
        if group_id not in groups:
            raise SecurityGroupNotFound(group_id)
        rule = canonical_rule(fields, rule_id=str(uuid.uuid4()), group_id=group_id)
        if rule.remote_group_id is not None and rule.remote_group_id not in groups:
            raise SecurityGroupNotFound(rule.remote_group_id)
        check_expressible(rule, self._pods)

        def add(rules: list[Rule]) -> list[Rule]:
            for existing in rules:
                if existing.key == rule.key:
                    raise SecurityGroupRuleExists(existing.id)
            return [*rules, rule]

        group = await self._rewrite(self._namespace(caller), group_id, add)
        await self._isolation.sync_members(self._namespace(caller), group_id)
        return rule_view(group, rule)

    async def delete_rule(self, caller: Caller, rule_id: str) -> None:
        group, _ = await self._find_rule(caller, rule_id)

        def remove(rules: list[Rule]) -> list[Rule]:
            if not any(r.id == rule_id for r in rules):
                raise SecurityGroupRuleNotFound(rule_id)
            return [r for r in rules if r.id != rule_id]

        await self._rewrite(self._namespace(caller), group["metadata"]["name"], remove)
        await self._isolation.sync_members(self._namespace(caller), group["metadata"]["name"])

    async def _rewrite(self, namespace: str, group_id: str, change: Callable[[list[Rule]], list[Rule]]) -> Obj:
        """Apply ``change`` to the group's rules as they are now: a write conditional on what was
        read, read again and redone if another writer got there first (no rule is lost)."""
        lock = self._writing.setdefault((namespace, group_id), asyncio.Lock())
        async with lock:
            return await self._rewrite_locked(namespace, group_id, change)

    async def _rewrite_locked(self, namespace: str, group_id: str, change: Callable[[list[Rule]], list[Rule]]) -> Obj:
        for _ in range(WRITE_ATTEMPTS):
            group = await self._gw.get_security_group(namespace, group_id)
            if group is None:
                raise SecurityGroupNotFound(group_id)
            self._require_owned(group)
            rules = change(group_rules(group)[0])
            created = {str(s.get("id")): s.get("created_at") for s in (group.get("spec") or {}).get("rules") or []}
            now = kube_now()
            patch = {
                "metadata": {"resourceVersion": group["metadata"]["resourceVersion"]},
                "spec": {"rules": [{**stored_rule(r, now), "created_at": created.get(r.id) or now} for r in rules]},
            }
            try:
                return await self._gw.patch_security_group(namespace, group_id, patch)
            except KubeConflict:
                await asyncio.sleep(random.uniform(0.01, 0.1))
        raise BackendUnavailable(f"Security group {group_id} kept changing while this request wrote it: try again.")

