"""Replicas' heartbeats in the in-process store: listed, judged, forgotten, left."""

from __future__ import annotations

from typing import cast

from zunk8s.clock import now_utc
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.replicas import FORGET_AFTER, Replicas
from zunk8s.state.keys import replicas_group
from zunk8s.state.memory import MemoryStore
from zunk8s.translate.replicas import Heartbeat


class StubGateway:
    instance = "inst-1"
    reachable = True


async def test_a_replica_lists_itself_and_leaves() -> None:
    store, gw = MemoryStore(), StubGateway()
    replicas = Replicas(store=store, gateway=cast(KubeGateway, gw), host="pod-a", interval=10)
    await replicas.beat()
    await replicas.beat()
    views = await replicas.views()
    assert [(v["host"], v["binary"], v["state"], v["report_count"]) for v in views] == [
        ("pod-a", "zun-api", "up", 2), ("pod-a", "zun-compute", "up", 2),
    ]
    gw.reachable = False  # Kubernetes unreachable: the compute's last_seen_up stays put
    await replicas.beat()
    after = await replicas.views()
    assert after[1]["last_seen_up"] == views[1]["last_seen_up"] and after[1]["report_count"] == 3
    await replicas.leave()
    assert await replicas.views() == []


async def test_peers_are_listed_and_the_long_dead_forgotten() -> None:
    store = MemoryStore()
    replicas = Replicas(store=store, gateway=cast(KubeGateway, StubGateway()), host="pod-a", interval=10)
    await replicas.beat()
    now = now_utc().timestamp()
    group = replicas_group("inst-1")
    dead = Heartbeat(host="pod-dead", started_at=now - 500, seen_at=now - 60, report_count=3, compute_seen_at=now - 60)
    gone = Heartbeat(host="pod-gone", started_at=now - 9999, seen_at=now - FORGET_AFTER - 1, report_count=1, compute_seen_at=None)
    await store.put_member(group, "dead", dead.model_dump(), ttl=FORGET_AFTER)
    await store.put_member(group, "gone", gone.model_dump(), ttl=FORGET_AFTER)
    views = await replicas.views()
    assert [(v["id"], v["host"], v["state"]) for v in views] == [
        (1, "pod-dead", "down"), (2, "pod-dead", "down"), (3, "pod-a", "up"), (4, "pod-a", "up"),
    ]
    assert set(await store.members(group)) == {"dead", replicas.member}
