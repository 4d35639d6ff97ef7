"""An unreachable Kubernetes API server: actions fail fast with Zun's 503, reads keep working
from the caches, and everything recovers by itself when the API server is back.

The outage is made by a TCP proxy on loopback between zunk8s and the real API server (TLS
passes through untouched: the server certificate covers 127.0.0.1). Switched to blackhole,
the proxy accepts connections and holds them, forwards nothing, and stalls the connections it
already carries — what a network partition looks like from zunk8s. The real API server is
never touched: other tests share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI
from tests.serverproc import delete_namespaces
from zunk8s.app import create_app
from zunk8s.appkeys import SERVICES

pytestmark = pytest.mark.asyncio(loop_scope="session")
P = "proj-outage"
# Each action must answer within this while the API server is unreachable (it took 31 s).
FAST = 10.0
EXEC_TIMEOUT = 6


class BlackholeProxy:
    """TCP forwarder on 127.0.0.1 that can be switched to hold everything."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._open = asyncio.Event()
        self._open.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def blackhole(self) -> None:
        self._open.clear()

    def restore(self) -> None:
        self._open.set()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._writers.add(client_w)
        up_w: asyncio.StreamWriter | None = None
        try:
            await self._open.wait()  # blackholed: accepted, and held
            up_r, up_w = await asyncio.open_connection(*self._target)
            self._writers.add(up_w)
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
        except OSError:
            pass
        finally:
            for w in (client_w, up_w):
                if w is not None:
                    self._writers.discard(w)
                    w.close()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                await self._open.wait()  # blackholed: what was sent is held, nothing more is read
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(dst)
            dst.close()

    async def close(self) -> None:
        self.restore()
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Outage:
    zun: ZunAPI
    proxy: BlackholeProxy
    client: TestClient[Any, Any]

    async def reachable(self) -> bool:
        # A method, not a property: mypy would carry ``assert o.reachable`` over the awaits
        # that change it, and take what follows ``assert not o.reachable`` for unreachable.
        # The gateway's own reachability, as /readyz reports it (it never waits on Kubernetes).
        checks = await self.client.app[SERVICES].health.dependencies()
        return bool(checks["kubernetes"]["ok"])


@pytest.fixture(scope="module")
async def outage(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Outage]:
    text = Path(cluster.kubeconfig).read_text()
    m = re.search(r'server:\s*"?https://([0-9.]+):(\d+)', text)
    assert m, "the local cluster's kubeconfig names its server as https://<ip>:<port>"
    proxy = BlackholeProxy(m.group(1), int(m.group(2)))
    await proxy.start()
    kubeconfig = tmp_path_factory.mktemp("outage") / "kubeconfig"
    kubeconfig.write_text(text.replace(f"https://{m.group(1)}:{m.group(2)}", f"https://127.0.0.1:{proxy.port}"))
    prefix = f"zko{secrets.token_hex(3)}-"
    settings = make_settings(cluster, prefix, kubeconfig=str(kubeconfig))
    settings = settings.model_copy(update={"exec_timeout": EXEC_TIMEOUT})
    try:
        async with TestClient(TestServer(create_app(settings))) as client:
            try:
                yield Outage(ZunAPI(client, image=cluster.image), proxy, client)
            finally:
                proxy.restore()  # shut down against a reachable API server
    finally:
        await proxy.close()
        delete_namespaces(cluster, prefix)


def _assert_503(r: Response) -> str:
    assert r.status == 503, (r.status, r.body)
    [err] = r.body["errors"]
    assert err["status"] == 503 and err["code"] == "container.backend-unavailable", err
    detail = str(err["detail"])
    assert "The Kubernetes API is unreachable since " in detail, detail
    return detail


async def _timed(call: Any) -> tuple[Response, float]:
    t0 = time.monotonic()
    r = await call
    return r, time.monotonic() - t0


async def _until_actions_work(o: Outage, uuid: str, *, bound: float) -> float:
    """Time until a harmless action (execute `true`) works again."""
    t0 = time.monotonic()
    while True:
        r = await o.zun.call(
            "POST", f"/v1/containers/{uuid}/execute", params={"command": "true", "run": "true"}, project=P
        )
        if r.status == 200:
            return time.monotonic() - t0
        assert r.status == 503, (r.status, r.body)
        assert time.monotonic() - t0 < bound, f"actions did not recover within {bound} s: {r.body}"
        await asyncio.sleep(0.5)


async def test_actions_fail_fast_while_unreachable_reads_still_work_and_it_recovers(outage: Outage) -> None:
    o, zun = outage, outage.zun
    c = await zun.create(project=P, run=True, name="out-1", command=["sleep", "3600"])
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running", project=P)
    r = await zun.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "echo hi", "run": "true"}, project=P)
    assert r.status == 200 and r.body["output"] == "hi\n"
    assert await o.reachable()

    o.proxy.blackhole()
    try:
        # The first action finds out (a probe confirms the silence), and answers 503 quickly.
        r, stop_s = await _timed(zun.call("POST", f"/v1/containers/{uuid}/stop", project=P))
        detail = _assert_503(r)
        assert stop_s < FAST, stop_s
        assert not await o.reachable()
        body = {"image": zun.image, "command": ["sleep", "1"], "name": "out-2"}
        r, create_s = await _timed(zun.call("POST", "/v1/containers", json=body, params={"run": "true"}, project=P))
        _assert_503(r)
        assert create_s < FAST, create_s
        r, exec_s = await _timed(
            zun.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "echo hi", "run": "true"}, project=P)
        )
        _assert_503(r)
        assert exec_s < FAST, exec_s
        print(f"\ntime to 503: stop {stop_s:.2f} s, create {create_s:.2f} s, execute {exec_s:.2f} s; {detail}")

        # Reads are served from the caches.
        r, list_s = await _timed(zun.call("GET", "/v1/containers", project=P))
        assert r.status == 200, r.body
        assert [x["uuid"] for x in r.body["containers"]] == [uuid]
        r = await zun.call("GET", f"/v1/containers/{uuid}", project=P)
        assert r.status == 200 and r.body["status"] == "Running" and r.body["task_state"] is None, r.body
        assert list_s < 1.0, list_s
    finally:
        o.proxy.restore()

    recovered = await _until_actions_work(o, uuid, bound=30)
    print(f"actions work again {recovered:.2f} s after the API server is back")
    assert await o.reachable()
    # The informers came back too: a stop is seen through the watch.
    await zun.action(uuid, "stop", project=P, timeout="1")
    await zun.wait_for(uuid, "Stopped", project=P, timeout=60)
    r = await zun.call("DELETE", f"/v1/containers/{uuid}", project=P)
    assert r.status == 204, r.body
    await zun.wait_gone(uuid, project=P)


async def test_an_open_exec_does_not_outlive_its_timeout(outage: Outage) -> None:
    o, zun = outage, outage.zun
    c = await zun.create(project=P, run=True, name="out-3", command=["sleep", "3600"])
    uuid = c["uuid"]
    await zun.wait_for(uuid, "Running", project=P)
    await _until_actions_work(o, uuid, bound=30)

    call = asyncio.create_task(
        zun.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "sleep 30", "run": "true"}, project=P)
    )
    await asyncio.sleep(1.5)  # the exec stream is open
    assert not call.done()
    o.proxy.blackhole()
    t0 = time.monotonic()
    try:
        r = await asyncio.wait_for(call, EXEC_TIMEOUT + 10)
        elapsed = time.monotonic() - t0
        print(f"\nan open exec answered {r.status} {elapsed:.2f} s after the API server went silent")
        # Zun's 409 "Timeout on executing command", or the outage's 503: either way, on time.
        assert r.status in (409, 503), (r.status, r.body)
        assert elapsed < EXEC_TIMEOUT + 7, elapsed
    finally:
        o.proxy.restore()
        with contextlib.suppress(BaseException):
            call.cancel()
    await _until_actions_work(o, uuid, bound=30)
    r = await zun.call("DELETE", f"/v1/containers/{uuid}", params={"stop": "true"}, project=P)
    assert r.status == 204, r.body
