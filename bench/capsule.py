"""A capsule through zunk8s against the same Pod made directly, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.capsule [--runs 10]

Prints the median (min, max) over ``--runs`` of, interleaved:
1. zunk8s: from `POST /v1/capsules` (two containers, as the issue's template) to the capsule
   shown Running: its Pod made behind a scheduling gate, its NetworkPolicy written, the gate
   lifted, both containers started on the real node;
2. direct: the same two-container Pod POSTed to the API server, to both containers running
   (watched): no policy, no gate, no record.
Not a test: nothing here asserts; numbers go in the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from typing import Any

import aiohttp

from bench.support import HEADERS, cluster_env, delete_namespace, say, start_zunk8s, wait_sa
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings

PORT = 9614


def _containers(image: str) -> list[dict[str, Any]]:
    return [{"name": n, "image": image, "command": ["sleep", "3600"], "resources": {"requests": {"cpu": 0.1, "memory": 32}}}
            for n in ("one", "two")]


async def _zun(s: aiohttp.ClientSession, url: str, image: str) -> float:
    template = {"kind": "capsule", "metadata": {}, "spec": {"containers": _containers(image)}}
    t0 = time.perf_counter()
    async with s.post(f"{url}/v1/capsules", data=json.dumps({"template": template}), headers=HEADERS) as r:
        if r.status != 202:
            raise RuntimeError(f"capsule create: {r.status} {await r.text()}")
        uuid = (await r.json())["uuid"]
    while True:
        async with s.get(f"{url}/v1/capsules/{uuid}", headers=HEADERS) as r:
            body = await r.json()
        if body["status"] == "Running" and all(c["status"] == "Running" for c in body["containers"]):
            elapsed = time.perf_counter() - t0
            break
        if body["status"] == "Error":
            raise RuntimeError(f"capsule Error: {body['status_reason']}")
        await asyncio.sleep(0.01)
    async with s.delete(f"{url}/v1/capsules/{uuid}", headers=HEADERS) as r:
        await r.read()
    return elapsed


async def _direct(http: KubeHTTP, namespace: str, image: str, i: int) -> float:
    name = f"direct-{i}"
    containers = [{"name": n, "image": image, "args": ["sleep", "3600"],
                   "resources": {"limits": {"cpu": "100m", "memory": "32Mi"}, "requests": {"cpu": "1m", "memory": "1Mi"}}}
                  for n in ("one", "two")]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": containers, "enableServiceLinks": False, "automountServiceAccountToken": False}}
    t0 = time.perf_counter()
    created = await http.request("POST", f"/api/v1/namespaces/{namespace}/pods", body=body)
    params: dict[str, Any] = {"watch": True, "fieldSelector": f"metadata.name={name}",
                              "resourceVersion": created["metadata"]["resourceVersion"]}
    async with http.stream(f"/api/v1/namespaces/{namespace}/pods", params=params, read_timeout=120) as resp:
        async for line in resp.content:
            statuses = ((json.loads(line).get("object") or {}).get("status") or {}).get("containerStatuses") or []
            if len(statuses) == 2 and all("running" in (cs.get("state") or {}) for cs in statuses):
                elapsed = time.perf_counter() - t0
                await http.request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")
                return elapsed
    raise RuntimeError("watch ended")


def _report(name: str, values: list[float]) -> float:
    m = statistics.median(values)
    say(f"{name}: median {m * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})")
    return m


async def main(runs: int) -> None:
    env = cluster_env()
    prefix = f"bc{secrets.token_hex(2)}-"
    zun = start_zunk8s(env, prefix=prefix, port=PORT, extra={})
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    direct_ns = f"{prefix}direct"
    await http.request("POST", "/api/v1/namespaces", body={"metadata": {"name": direct_ns}})
    await wait_sa(http, direct_ns)
    image, zt, dt = env["ZUNK8S_TEST_IMAGE"], [], []
    try:
        async with aiohttp.ClientSession() as s:
            await _zun(s, zun.url, image)  # warm-up: the project's namespace, network and group
            await _direct(http, direct_ns, image, 999)
            for i in range(runs):  # interleaved: drift in the node's load hits both alike
                zt.append(await _zun(s, zun.url, image))
                dt.append(await _direct(http, direct_ns, image, i))
    finally:
        zun.stop()
        for ns in (direct_ns, f"{prefix}default"):
            await delete_namespace(http, ns, timeout=120)
        await http.close()
    z = _report("capsule create -> Running (zunk8s)", zt)
    d = _report("same Pod -> both running (direct)", dt)
    say(f"ratio {z / d:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
