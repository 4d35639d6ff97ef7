"""Redis faults, against a Redis of this module's own (never the shared one): Redis down
during a create, restarted under an open attach session, flushed under two replicas, the
first call after a restart, and the readiness probe."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from zunk8s.app import create_app
from zunk8s.appkeys import SERVICES
from zunk8s.service.reconciler import Reconciler
from zunk8s.settings import Settings
from zunk8s.state.keys import channel_key, leader_lock, lock_key, stream_id_for
from zunk8s.state.protocol import LockHandle
from zunk8s.state.redis import RedisStore
from zunk8s.translate.labels import instance_for

pytestmark = pytest.mark.asyncio(loop_scope="session")
P = "proj-rf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """Debian's redis-server on a free loopback port, nothing persisted: a restart loses
    everything, as a Redis without a volume does."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10, check=False
        )
        return out.stdout.strip()

    async def start(self) -> None:
        assert self.proc is None
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while self.cli("ping") != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            assert self.proc.poll() is None, (self.workdir / "redis.log").read_text()
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        deadline = time.monotonic() + 10
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
            await asyncio.sleep(0.05)
        self.proc = None

    async def restart(self, *, down_for: float = 0.0) -> None:
        await self.stop()
        await asyncio.sleep(down_for)
        await self.start()


@pytest.fixture(scope="module")
async def redis_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def redis_up(redis_server: RedisServer) -> AsyncIterator[RedisServer]:
    """Each test starts, and leaves, with Redis running (even when it fails half-way)."""
    if redis_server.proc is None:
        await redis_server.start()
    yield redis_server
    if redis_server.proc is None:
        await redis_server.start()


def _settings(cluster: Cluster, prefix: str, redis_url: str, *, lock_ttl: float, sweep_interval: float) -> Settings:
    return make_settings(cluster, prefix).model_copy(
        update={"redis_url": redis_url, "lock_ttl": lock_ttl, "sweep_interval": sweep_interval}
    )


class Replica:
    def __init__(self, client: TestClient[web.Request, web.Application], image: str, settings: Settings) -> None:
        self.client = client
        self.zun = ZunAPI(client, image=image)
        # The installation this replica serves: its reconcilers compete for leader_lock(instance).
        self.instance = instance_for(settings.kube.namespace_prefix)

    @property
    def reconciler(self) -> Reconciler:
        return self.client.app[SERVICES].reconciler


@pytest.fixture(scope="module")
async def pair(cluster: Cluster, ns_prefix: str, redis_server: RedisServer) -> AsyncIterator[tuple[Replica, Replica]]:
    # Quiet background Redis use (renewals every 10 s, lock tries every 30 s): the requests
    # under test are then the first to meet a connection that a restart left stale.
    settings = _settings(cluster, f"{ns_prefix}rf-", redis_server.url, lock_ttl=30, sweep_interval=30)
    async with TestClient(TestServer(create_app(settings))) as a, TestClient(TestServer(create_app(settings))) as b:
        yield Replica(a, cluster.image, settings), Replica(b, cluster.image, settings)


def _records_named(cluster: Cluster, name: str) -> list[Any]:
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "zuncontainers", "-A",
         "-l", f"zunk8s.openstack.org/name={name}", "-o", "json"],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return list(json.loads(out.stdout)["items"])


# --- the store alone ---------------------------------------------------------------------


async def test_first_call_after_a_restart_reconnects(redis_up: RedisServer) -> None:
    # redis-py's Redis.from_url builds its pool without the constructor's default Retry: the
    # first command on a connection that the restart closed fails (what gave the 503).
    plain = aioredis.Redis.from_url(redis_up.url, decode_responses=True)
    store = RedisStore(redis_up.url)
    try:
        await plain.set("k", "v")
        await store.put_token("t1", {"a": 1}, ttl=60)
        await redis_up.restart()
        with pytest.raises(RedisConnectionError):
            await plain.get("k")
        # The store retries once, on a new connection, and answers.
        assert await store.take_token("t1") is None  # the restart lost it; no 503
        await store.put_token("t2", {"a": 2}, ttl=60)
        assert await store.take_token("t2") == {"a": 2}
    finally:
        await plain.aclose()
        await store.close()


async def test_lock_is_lost_when_flushed_or_restarted(redis_up: RedisServer) -> None:
    store = RedisStore(redis_up.url)
    try:
        for fault in ("flushall", "restart"):
            async with store.lock(f"fault-{fault}", ttl=1.5, wait=0) as held:
                assert isinstance(held, LockHandle)
                await asyncio.sleep(0.7)  # renewed once meanwhile
                assert not held.lost.is_set()
                if fault == "flushall":
                    assert redis_up.cli("flushall") == "OK"
                else:
                    await redis_up.restart()
                async with asyncio.timeout(1.5):
                    await held.lost.wait()
        # Down for good: the holder is told before the TTL would have run out.
        async with store.lock("fault-down", ttl=1.5, wait=0) as held:
            began = time.monotonic()
            await redis_up.stop()
            async with asyncio.timeout(1.5):
                await held.lost.wait()
            assert time.monotonic() - began < 1.5
    finally:
        await store.close()


async def test_subscription_outlives_redis_restarts(redis_up: RedisServer) -> None:
    store = RedisStore(redis_up.url)
    try:
        async with store.subscribe("chan-x") as queue:
            for n in range(3):
                await redis_up.restart(down_for=1.0)
                deadline = time.monotonic() + 10
                got: dict[str, Any] | None = None
                while got is None:
                    assert time.monotonic() < deadline, f"no message after restart {n}"
                    await store.publish("chan-x", {"n": n})
                    try:
                        got = await asyncio.wait_for(queue.get(), 0.3)
                    except TimeoutError:
                        pass
                assert got == {"n": n}
                while not queue.empty():
                    queue.get_nowait()
    finally:
        await store.close()


# --- the service -------------------------------------------------------------------------


async def test_readyz_follows_redis(pair: tuple[Replica, Replica], redis_up: RedisServer) -> None:
    a, _ = pair
    r = await a.client.get("/readyz")
    assert r.status == 200, await r.text()
    assert (await r.json())["down"] == []
    await redis_up.stop()
    r = await a.client.get("/readyz")
    assert r.status == 503
    body = await r.json()
    assert body["down"] == ["redis"] and body["checks"]["kubernetes"]["ok"] is True
    # Liveness stays 200 and says what is wrong.
    r = await a.client.get("/healthz")
    assert r.status == 200
    assert (await r.json())["checks"]["redis"]["ok"] is False
    await redis_up.start()
    async with asyncio.timeout(10):
        while (r := await a.client.get("/readyz")).status != 200:
            await asyncio.sleep(0.2)
    assert (await r.json())["checks"]["redis"] == {"ok": True}


async def test_first_request_after_a_restart_succeeds(pair: tuple[Replica, Replica], redis_up: RedisServer) -> None:
    a, b = pair
    c1 = await a.zun.create(project=P)
    c2 = await a.zun.create(project=P)
    for c in (c1, c2):
        await a.zun.wait_for(c["uuid"], "Created", project=P)
        await b.zun.wait_for(c["uuid"], "Created", project=P)
    # Warm both replicas' pools, then restart Redis under them.
    for replica in (a, b):
        assert (await replica.client.get("/readyz")).status == 200
    await redis_up.restart()
    # Each replica's next Redis call (the delete takes the container's lock) meets a stale
    # connection: it must reconnect, not answer 503.
    r1, r2 = await asyncio.gather(
        a.zun.call("DELETE", f"/v1/containers/{c1['uuid']}", project=P),
        b.zun.call("DELETE", f"/v1/containers/{c2['uuid']}", project=P),
    )
    assert (r1.status, r2.status) == (204, 204), (r1.body, r2.body)
    await a.zun.wait_gone(c1["uuid"], project=P)
    await a.zun.wait_gone(c2["uuid"], project=P)


async def test_create_while_redis_is_down(pair: tuple[Replica, Replica], redis_up: RedisServer, cluster: Cluster) -> None:
    a, b = pair
    before = await a.zun.create(project=P, name=f"rf-kept-{secrets.token_hex(3)}")
    for replica in (a, b):
        await replica.zun.wait_for(before["uuid"], "Created", project=P)
    name = f"rf-down-{secrets.token_hex(3)}"
    await redis_up.stop()
    r = await a.zun.call("POST", "/v1/containers", json={"image": cluster.image, "command": ["true"], "name": name}, project=P)
    assert r.status == 503, (r.status, r.body)
    assert "Redis" in r.body["errors"][0]["detail"]
    # Nothing was written, and nothing was lost: reads keep working on both replicas.
    assert _records_named(cluster, name) == []
    for replica in (a, b):
        assert (await replica.zun.show(before["uuid"], project=P))["status"] == "Created"
        listed = await replica.zun.call("GET", "/v1/containers", project=P)
        assert listed.status == 200
        names = [c["name"] for c in listed.body["containers"]]
        assert before["name"] in names and name not in names
    await redis_up.start()
    # Once Redis is back the same create succeeds, and the earlier record still works.
    c = await a.zun.create(project=P, name=name)
    await a.zun.wait_for(c["uuid"], "Created", project=P)
    assert len(_records_named(cluster, name)) == 1
    for uuid in (c["uuid"], before["uuid"]):
        assert (await a.zun.call("DELETE", f"/v1/containers/{uuid}", project=P)).status == 204
        await a.zun.wait_gone(uuid, project=P)


async def _stty_size(ws: aiohttp.ClientWebSocketResponse, expect: str, *, timeout: float) -> bool:
    await ws.send_bytes(b"stty size\n")
    seen, deadline = "", time.monotonic() + timeout
    while expect not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            msg = await ws.receive(timeout=remaining)
        except TimeoutError:
            return False
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        seen += msg.data.decode()
    return True


async def test_attach_session_gets_resizes_after_redis_restarts(
    pair: tuple[Replica, Replica], redis_up: RedisServer
) -> None:
    a, b = pair
    c = await a.zun.create(project=P, run=True, interactive=True, tty=True, command=["sh"])
    uuid = c["uuid"]
    await a.zun.wait_for(uuid, "Running", project=P)
    r = await a.zun.call("GET", f"/v1/containers/{uuid}/attach", project=P)
    parts = urlsplit(r.body)
    channel = channel_key(stream_id_for(uuid=uuid, exec_id=None))
    async with b.client.ws_connect(f"{parts.path}?{parts.query}", protocols=("binary",)) as ws:
        for n, (w, h) in enumerate([(101, 31), (123, 45), (77, 22)]):
            if n:
                # Down for a second (longer than redis-py's own reconnect covers), then back.
                await redis_up.restart(down_for=1.0)
            # The replica holding the websocket subscribes again.
            async with asyncio.timeout(15):
                while redis_up.cli("pubsub", "numsub", channel).split()[-1:] != ["1"]:
                    await asyncio.sleep(0.1)
            # The REST resize lands on the other replica.
            resized = await a.zun.call("POST", f"/v1/containers/{uuid}/resize", params={"w": str(w), "h": str(h)}, project=P)
            assert resized.status == 200, resized.body
            assert await _stty_size(ws, f"{h} {w}", timeout=10), f"size {h} {w} not applied after restart {n}"
    r = await a.zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project=P)
    assert r.status == 204
    await a.zun.wait_gone(uuid, project=P)


@pytest.fixture
async def fast_pair(cluster: Cluster, ns_prefix: str, redis_up: RedisServer) -> AsyncIterator[tuple[Replica, Replica]]:
    # Its own installation (prefix), so its leader lock is its own; short TTL and sweeps.
    settings = _settings(cluster, f"{ns_prefix}rl-", redis_up.url, lock_ttl=3, sweep_interval=1)
    async with TestClient(TestServer(create_app(settings))) as a, TestClient(TestServer(create_app(settings))) as b:
        yield Replica(a, cluster.image, settings), Replica(b, cluster.image, settings)


def _leaders(replicas: tuple[Replica, Replica]) -> list[bool]:
    return [r.reconciler.leader for r in replicas]


async def _one_leader_settles(replicas: tuple[Replica, Replica], *, within: float) -> None:
    async with asyncio.timeout(within):
        while sum(_leaders(replicas)) != 1:
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("fault", ["flushall", "restart"])
async def test_one_leader_after_redis_loses_the_lock(
    fast_pair: tuple[Replica, Replica], redis_up: RedisServer, fault: str
) -> None:
    ttl = 3.0
    await _one_leader_settles(fast_pair, within=15)
    instance = fast_pair[0].instance
    assert redis_up.cli("exists", lock_key(leader_lock(instance))) == "1"
    if fault == "flushall":
        assert redis_up.cli("flushall") == "OK"
    else:
        await redis_up.restart()
    # Watch both flags: the replica that led may overlap a new leader only until its next
    # renewal attempt finds the lock gone (ttl/3), never for good.
    both_since: float | None = None
    longest_overlap = 0.0
    end = time.monotonic() + 3 * ttl
    while time.monotonic() < end:
        now = time.monotonic()
        if all(_leaders(fast_pair)):
            both_since = both_since or now
            longest_overlap = max(longest_overlap, now - both_since)
        else:
            both_since = None
        await asyncio.sleep(0.02)
    assert longest_overlap < ttl, f"two leaders for {longest_overlap:.1f}s"
    # Afterwards exactly one leads, it holds the lock, and that stays so.
    await _one_leader_settles(fast_pair, within=3 * ttl)
    assert redis_up.cli("exists", lock_key(leader_lock(instance))) == "1"
    for _ in range(int(2 * ttl / 0.1)):
        assert sum(_leaders(fast_pair)) == 1, _leaders(fast_pair)
        await asyncio.sleep(0.1)

