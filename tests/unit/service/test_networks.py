"""Networks over a stand-in gateway (namespaced objects in a dict, merge patches, the records
cache): the default network, shared ones, Neutron's policy and 409s, name resolution, Zun's
choice of a default network."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from zunk8s.errors import (
    Conflict,
    InvalidSharedSetting,
    NetworkInUse,
    NetworkNotFound,
    NeutronPolicyNotAuthorized,
)
from zunk8s.kube.errors import KubeAlreadyExists, KubeNotFound
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.context import Caller
from zunk8s.service.networks import Networks
from zunk8s.translate import labels as L
from zunk8s.translate.names import namespace_for
from zunk8s.translate.networkviews import default_network_id

Obj = dict[str, Any]
PREFIX = "zt-"
INSTANCE = L.instance_for(PREFIX)


class StubGateway:
    instance = INSTANCE

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Obj] = {}
        self.records: dict[tuple[str, str], Obj] = {}
        self.clock = 0

    async def ensure_namespace(self, body: Obj) -> None:
        pass

    async def list_networks(self, namespace: str) -> list[Obj]:
        return [copy.deepcopy(o) for (ns, _), o in self.objects.items() if ns == namespace]

    def _ours(self, obj: Obj) -> bool:
        labels = obj["metadata"].get("labels") or {}
        return labels.get(L.MANAGED_BY) == "zunk8s" and labels.get(L.INSTANCE) == INSTANCE

    async def list_shared_networks(self) -> list[Obj]:
        return [copy.deepcopy(o) for o in self.objects.values()
                if self._ours(o) and (o["metadata"].get("labels") or {}).get(L.SHARED) == "true"]

    async def find_network(self, name: str) -> Obj | None:
        return next((copy.deepcopy(o) for (_, n), o in self.objects.items() if n == name and self._ours(o)), None)

    async def get_network(self, namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(self.objects.get((namespace, name)))

    async def create_network(self, body: Obj) -> Obj:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.objects:
            raise KubeAlreadyExists(str(key))
        self.clock += 1
        obj = copy.deepcopy(body)
        obj["metadata"]["generation"] = 1
        # Distinct, ordered creation times (the service stamps them with the real clock).
        obj["spec"]["created_at"] = f"2026-01-01T00:00:{self.clock:02d}Z"
        self.objects[key] = obj
        return copy.deepcopy(obj)

    async def patch_network(self, namespace: str, name: str, patch: Obj) -> Obj:
        obj = self.objects.get((namespace, name))
        if obj is None:
            raise KubeNotFound(name)
        obj["spec"].update(patch.get("spec") or {})
        labels = obj["metadata"].setdefault("labels", {})
        for k, v in ((patch.get("metadata") or {}).get("labels") or {}).items():
            if v is None:
                labels.pop(k, None)
            else:
                labels[k] = v
        obj["metadata"]["generation"] += 1
        return copy.deepcopy(obj)

    async def delete_network(self, namespace: str, name: str) -> None:
        self.objects.pop((namespace, name), None)

    def record_keys(self) -> list[tuple[str, str]]:
        return list(self.records)

    def cached_record(self, key: tuple[str, str]) -> Obj | None:
        return self.records.get(key)

    def cached_pods(self) -> list[tuple[tuple[str, str], Obj]]:
        return []  # no capsules here


def caller(project: str, *roles: str) -> Caller:
    return Caller(project_id=project, user_id="u", roles=frozenset(roles or ("member",)), request_id="r",
                  is_admin="admin" in roles)


ALICE, BOB, ADMIN = caller("alice"), caller("bob"), caller("ops", "admin")


@pytest.fixture
def gw() -> StubGateway:
    return StubGateway()


@pytest.fixture
def nets(gw: StubGateway) -> Networks:
    return Networks(gateway=cast(KubeGateway, gw), namespace_prefix=PREFIX)


def names(views: list[Obj]) -> list[str]:
    return [v["name"] for v in views]


async def test_default_network_on_first_use_once(nets: Networks, gw: StubGateway) -> None:
    (default,) = await nets.list_networks(ALICE, filters={})
    assert (default["id"], default["name"], default["project_id"], default["shared"]) == (
        default_network_id(INSTANCE, "alice"), "default", "alice", False)
    assert [v["id"] for v in await nets.list_networks(ALICE, filters={})] == [default["id"]]
    # A default network another replica made meanwhile is taken, not made twice.
    gw.objects.clear()
    before = gw.create_network

    async def racing(body: Obj) -> Obj:
        await before(copy.deepcopy(body))
        return await before(body)

    gw.create_network = racing  # type: ignore[method-assign]
    assert (await nets.show_network(ALICE, default["id"]))["name"] == "default"


async def test_create_makes_the_default_first_and_only_admins_share(nets: Networks) -> None:
    web = await nets.create_network(ALICE, name="web", description="w", shared=False)
    assert names(await nets.list_networks(ALICE, filters={})) == ["default", "web"]
    with pytest.raises(NeutronPolicyNotAuthorized) as err:
        await nets.create_network(ALICE, name="pub", description="", shared=True)
    assert err.value.detail == "(rule:create_network:shared) is disallowed by policy" and err.value.status == 403
    pub = await nets.create_network(ADMIN, name="pub", description="", shared=True)
    # Another project sees the shared network, not alice's own.
    assert names(await nets.list_networks(BOB, filters={})) == ["pub", "default"]  # oldest first: bob's is new
    assert (await nets.show_network(BOB, pub["id"]))["shared"] is True
    with pytest.raises(NetworkNotFound) as missing:
        await nets.show_network(BOB, web["id"])
    assert missing.value.detail == f"Network {web['id']} could not be found."
    assert (await nets.show_network(ADMIN, web["id"]))["project_id"] == "alice"  # an admin reaches any by id
    assert names(await nets.list_networks(BOB, filters={"shared": ["true"]})) == ["pub"]


async def test_updates_follow_neutrons_policy(nets: Networks, gw: StubGateway) -> None:
    web = await nets.create_network(ALICE, name="web", description="", shared=False)
    changed = await nets.update_network(ALICE, web["id"], {"name": "www", "description": "d"})
    assert (changed["name"], changed["description"], changed["revision_number"]) == ("www", "d", 2)
    with pytest.raises(NeutronPolicyNotAuthorized, match=r"rule:update_network:shared"):
        await nets.update_network(ALICE, web["id"], {"shared": True})
    shared = await nets.update_network(ADMIN, web["id"], {"shared": True})
    assert shared["shared"] is True
    assert gw.objects[(namespace_for("alice", PREFIX), web["id"])]["metadata"]["labels"][L.SHARED] == "true"
    # bob sees it now, and may not change or delete it.
    assert "www" in names(await nets.list_networks(BOB, filters={}))
    with pytest.raises(NeutronPolicyNotAuthorized, match=r"rule:update_network\)"):
        await nets.update_network(BOB, web["id"], {"name": "mine"})
    with pytest.raises(NeutronPolicyNotAuthorized, match=r"rule:delete_network\)"):
        await nets.delete_network(BOB, web["id"])
    # A bob container on it: alice's network cannot be unshared, nor deleted.
    gw.records[(namespace_for("bob", PREFIX), "c1")] = {"spec": {"project_id": "bob", "networks": [web["id"]]}}
    with pytest.raises(InvalidSharedSetting):
        await nets.update_network(ADMIN, web["id"], {"shared": False})
    with pytest.raises(NetworkInUse) as in_use:
        await nets.delete_network(ALICE, web["id"])
    assert in_use.value.detail == (f"Unable to complete operation on network {web['id']}. "
                                   "There are one or more ports still in use on the network.")
    del gw.records[(namespace_for("bob", PREFIX), "c1")]
    assert (await nets.update_network(ADMIN, web["id"], {"shared": False}))["shared"] is False
    assert L.SHARED not in gw.objects[(namespace_for("alice", PREFIX), web["id"])]["metadata"]["labels"]
    assert "www" not in names(await nets.list_networks(BOB, filters={}))
    await nets.delete_network(ALICE, web["id"])
    with pytest.raises(NetworkNotFound):
        await nets.show_network(ALICE, web["id"])


async def test_a_record_naming_no_networks_is_on_the_default_one(nets: Networks, gw: StubGateway) -> None:
    default = default_network_id(INSTANCE, "alice")
    await nets.list_networks(ALICE, filters={})
    gw.records[(namespace_for("alice", PREFIX), "old")] = {"spec": {"project_id": "alice"}}
    with pytest.raises(NetworkInUse):
        await nets.delete_network(ALICE, default)
    gw.records[(namespace_for("alice", PREFIX), "old")]["spec"]["networks"] = []
    await nets.delete_network(ALICE, default)
    assert (await nets.show_network(ALICE, default))["name"] == "default"  # made again on next use


async def test_a_network_made_with_kubectl_is_seen_not_written(nets: Networks, gw: StubGateway) -> None:
    namespace = namespace_for("alice", PREFIX)
    gw.objects[(namespace, "team")] = {"metadata": {"name": "team", "namespace": namespace},
                                       "spec": {"name": "team-net", "created_at": "2020-01-01T00:00:00Z"}}
    assert names(await nets.list_networks(ALICE, filters={})) == ["team-net"]  # no default: alice has a network
    for write in (nets.update_network(ALICE, "team", {"name": "x"}), nets.delete_network(ALICE, "team")):
        with pytest.raises(Conflict, match="not made by this zunk8s"):
            await write


async def test_resolve_by_id_then_by_unique_name(nets: Networks) -> None:
    a = await nets.create_network(ALICE, name="dup", description="", shared=False)
    b = await nets.create_network(ADMIN, name="dup", description="", shared=True)
    odd = await nets.create_network(ALICE, name=b["id"], description="", shared=False)
    assert await nets.resolve(ALICE, a["id"]) == a["id"]
    assert await nets.resolve(ALICE, b["id"]) == b["id"]  # an id wins over a network named like it
    assert await nets.resolve(ALICE, odd["id"]) == odd["id"]
    assert await nets.resolve(ALICE, "default") == default_network_id(INSTANCE, "alice")
    with pytest.raises(Conflict) as many:
        await nets.resolve(ALICE, "dup")
    assert many.value.detail == "Multiple network matches found for name 'dup', use an ID to be more specific."
    assert await nets.resolve(BOB, "dup") == b["id"]  # bob sees only the shared one
    with pytest.raises(NetworkNotFound, match="Network nope could not be found."):
        await nets.resolve(ALICE, "nope")
    assert (await nets.show(BOB, b["id"]))["name"] == "dup"


async def test_default_for_is_zuns_choice(nets: Networks, gw: StubGateway) -> None:
    assert await nets.default_for(ALICE) == default_network_id(INSTANCE, "alice")  # made on first use
    # A project whose only network is shared (an admin made it there): the oldest shared one.
    pub = await nets.create_network(ADMIN, name="pub", description="", shared=True)
    ops_namespace = namespace_for("ops", PREFIX)
    await nets.delete_network(ADMIN, default_network_id(INSTANCE, "ops"))
    assert [k for k in gw.objects if k[0] == ops_namespace] == [(ops_namespace, pub["id"])]
    assert await nets.default_for(ADMIN) == pub["id"]
    # Otherwise the project's oldest network that is not shared.
    mine = await nets.create_network(ADMIN, name="mine", description="", shared=False)
    await nets.create_network(ADMIN, name="later", description="", shared=False)
    assert await nets.default_for(ADMIN) == mine["id"]
    assert await nets.default_for(BOB) == default_network_id(INSTANCE, "bob")
