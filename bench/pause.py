"""pause / unpause and stats through zunk8s and its node agent, against doing the same directly
with containerd's own client, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.pause [--runs 20]

Prints the median (min, max) over ``--runs`` cycles of:
1. zunk8s: from sending `POST .../pause` to the container shown `Paused` (the agent froze it
   through containerd and zunk8s wrote its answer), and the same for `unpause` to `Running`;
2. direct: `ctr tasks pause` / `ctr tasks resume` of the same container on the node's
   containerd, to `ctr tasks ls` showing PAUSED / RUNNING (no API server, no Kubernetes object
   written): the floor any pause on this node has;
3. stats: `GET .../stats` answered (the agent samples CPU over 0.5 s: that window is most of it),
   against `ctr tasks metrics` of the same container (containerd's cgroup numbers, one reading).
Not a test: nothing here asserts; numbers go in the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import time

import aiohttp

from bench.support import HEADERS, cluster_env, say, zunk8s_with_agent
from tests.conftest import running_cluster

PORT = 9613


async def _status(s: aiohttp.ClientSession, url: str, uuid: str) -> tuple[str, str | None]:
    async with s.get(f"{url}/v1/containers/{uuid}", headers=HEADERS) as r:
        body = await r.json()
        return str(body["status"]), body["task_state"]


async def _until(s: aiohttp.ClientSession, url: str, uuid: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while await _status(s, url, uuid) != (status, None):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{uuid} never {status}")
        await asyncio.sleep(0.01)


async def _zun(s: aiohttp.ClientSession, url: str, uuid: str, action: str, status: str) -> float:
    t0 = time.perf_counter()
    async with s.post(f"{url}/v1/containers/{uuid}/{action}", headers=HEADERS) as r:
        if r.status != 202:
            raise RuntimeError(f"{action}: {r.status} {await r.text()}")
    await _until(s, url, uuid, status)
    return time.perf_counter() - t0


async def _stats(s: aiohttp.ClientSession, url: str, uuid: str) -> float:
    t0 = time.perf_counter()
    async with s.get(f"{url}/v1/containers/{uuid}/stats", headers=HEADERS) as r:
        if r.status != 200:
            raise RuntimeError(f"stats: {r.status} {await r.text()}")
        await r.read()
    return time.perf_counter() - t0


def _ctr(socket: str, *args: str) -> str:
    return subprocess.run(["ctr", "--address", socket, "-n", "k8s.io", *args], check=True, capture_output=True,
                          text=True).stdout


def _direct(socket: str, cid: str, verb: str, shown: str) -> float:
    t0 = time.perf_counter()
    _ctr(socket, "tasks", verb, cid)
    while not any(line.startswith(cid) and line.split()[-1] == shown for line in _ctr(socket, "tasks", "ls").splitlines()):
        pass
    return time.perf_counter() - t0


def _report(name: str, zun: list[float], direct: list[float]) -> None:
    z, d = statistics.median(zun), statistics.median(direct)
    say(f"{name}: zunk8s median {z * 1000:.0f} ms (min {min(zun) * 1000:.0f}, max {max(zun) * 1000:.0f}); "
        f"direct (ctr) median {d * 1000:.0f} ms (min {min(direct) * 1000:.0f}, max {max(direct) * 1000:.0f}); "
        f"ratio {z / d:.1f}")


async def main(runs: int) -> None:
    env, cluster = cluster_env(), running_cluster()
    prefix = f"bp{secrets.token_hex(2)}-"
    with zunk8s_with_agent(env, prefix=prefix, port=PORT, extra={}) as url:
        async with aiohttp.ClientSession() as s:
            body = {"image": env["ZUNK8S_TEST_IMAGE"], "command": ["sleep", "3600"]}
            async with s.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
                uuid = (await r.json())["uuid"]
            await _until(s, url, uuid, "Running")
            cid = subprocess.run(
                [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "pods", "-A", "-l",
                 f"zunk8s.openstack.org/uuid={uuid}", "-o", "jsonpath={.items[0].status.containerStatuses[0].containerID}"],
                check=True, capture_output=True, text=True).stdout.split("://", 1)[1]
            deadline = time.monotonic() + 30
            while True:  # until the agent has announced itself (its Lease)
                async with s.post(f"{url}/v1/containers/{uuid}/pause", headers=HEADERS) as r:
                    if r.status == 202:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("the node agent never served the node")
                await asyncio.sleep(0.5)
            await _until(s, url, uuid, "Paused")
            await _zun(s, url, uuid, "unpause", "Running")  # warm-up cycle done
            zp, zu, dp, du = [], [], [], []
            for _ in range(runs):  # interleaved: drift in the node's load hits both alike
                zp.append(await _zun(s, url, uuid, "pause", "Paused"))
                zu.append(await _zun(s, url, uuid, "unpause", "Running"))
                dp.append(_direct(cluster.containerd_socket, cid, "pause", "PAUSED"))
                du.append(_direct(cluster.containerd_socket, cid, "resume", "RUNNING"))
            _report("pause -> Paused", zp, dp)
            _report("unpause -> Running", zu, du)
            zs, ds = [], []
            for _ in range(runs):
                zs.append(await _stats(s, url, uuid))
                t0 = time.perf_counter()
                _ctr(cluster.containerd_socket, "tasks", "metrics", cid)
                ds.append(time.perf_counter() - t0)
            _report("stats answered", zs, ds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
