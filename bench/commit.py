"""commit of a container with a 50 MB change through zunk8s and its node agent, against doing
the same work directly with containerd's and the registry's own tools, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.commit [--runs 5] [--mib 50]

Prints the median (min, max) over ``--runs`` commits (each to a new tag) of:
1. zunk8s: from sending `POST .../commit` to the container's task ended (the agent paused the
   container for containerd's diff, resumed it, pushed the layer, config and manifest to the
   cluster's registry, and zunk8s recorded the image);
2. direct: on the node, `ctr tasks pause`, `ctr snapshots diff` of the same container to a file,
   `ctr tasks resume`, then `crane append` of that layer onto the same base (pushed to the
   registry once before, untimed) under a new tag: the same work with the tools at hand (crane
   gzips the layer, zunk8s pushes it uncompressed).
Also the time the container was paused in each (zunk8s: seen from the agent's log is not
possible here; the direct one is timed). Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.pause import _ctr, _until
from bench.support import HEADERS, cluster_env, say, zunk8s_with_agent
from tests.conftest import running_cluster

PORT = 9614


async def _commit(s: aiohttp.ClientSession, url: str, uuid: str, tag: str) -> float:
    t0 = time.perf_counter()
    async with s.post(f"{url}/v1/containers/{uuid}/commit", params={"repository": "bench-commit", "tag": tag},
                      headers=HEADERS) as r:
        if r.status != 202:
            raise RuntimeError(f"commit: {r.status} {await r.text()}")
    await _until(s, url, uuid, "Running", timeout=300)
    took = time.perf_counter() - t0
    async with s.get(f"{url}/v1/containers/{uuid}/container_actions", headers=HEADERS) as r:
        last = (await r.json())["containerActions"][0]
    async with s.get(f"{url}/v1/containers/{uuid}/container_actions/{last['request_id']}",
                     headers={**HEADERS, "X-Roles": "admin"}) as r:
        events = (await r.json())["events"]
    if last["action"] != "commit" or events[-1]["result"] != "Success":
        raise RuntimeError(f"the commit failed: {events}")
    return took


def _direct(socket: str, crane: str, cid: str, base: str, target: str, tmp: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    _ctr(socket, "tasks", "pause", cid)
    try:
        with (tmp / "diff.tar").open("wb") as out:
            subprocess.run(["ctr", "--address", socket, "-n", "k8s.io", "snapshots", "--snapshotter", "overlayfs", "diff",
                            "--media-type", "application/vnd.oci.image.layer.v1.tar", cid], stdout=out, check=True)
    finally:
        _ctr(socket, "tasks", "resume", cid)
    paused = time.perf_counter() - t0
    subprocess.run([crane, "append", "--insecure", "-b", base, "-f", str(tmp / "diff.tar"), "-t", target],
                   check=True, capture_output=True)
    return time.perf_counter() - t0, paused


def _report(name: str, zun: list[float], direct: list[float]) -> None:
    z, d = statistics.median(zun), statistics.median(direct)
    say(f"{name}: zunk8s median {z * 1000:.0f} ms (min {min(zun) * 1000:.0f}, max {max(zun) * 1000:.0f}); "
        f"direct median {d * 1000:.0f} ms (min {min(direct) * 1000:.0f}, max {max(direct) * 1000:.0f}); "
        f"ratio {z / d:.2f}")


async def main(runs: int, mib: int) -> None:
    env, cluster = cluster_env(), running_cluster()
    prefix = f"bc{secrets.token_hex(2)}-"
    registry = cluster.commit_registry
    crane = str(Path(cluster.helm).parent / "crane")
    base = f"{registry}/bench-base/busybox:1"
    with zunk8s_with_agent(env, prefix=prefix, port=PORT, extra={"ZUNK8S_IMAGES__COMMIT_REGISTRY": registry}) as url:
        # The direct baseline's base image in the registry (untimed, as zunk8s's first commit
        # pushes the base's layers once too and later ones find them there).
        _ctr(cluster.containerd_socket, "images", "tag", "--force", cluster.image, base)
        _ctr(cluster.containerd_socket, "images", "push", "--plain-http", base, base)
        async with aiohttp.ClientSession() as s:
            body = {"image": cluster.image,
                    "command": ["sh", "-c", f"head -c {mib * 2**20} /dev/urandom > /big && touch /ready; sleep 3600"]}
            async with s.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
                uuid = (await r.json())["uuid"]
            await _until(s, url, uuid, "Running")
            pod = json.loads(subprocess.run(
                [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "pods", "-A", "-l",
                 f"zunk8s.openstack.org/uuid={uuid}", "-o", "json"], check=True, capture_output=True, text=True).stdout)
            cid = pod["items"][0]["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]
            await asyncio.sleep(3)  # the 50 MB written
            deadline = time.monotonic() + 30
            while True:  # until the agent has announced itself (its Lease); this is the warm-up commit
                async with s.post(f"{url}/v1/containers/{uuid}/commit", params={"repository": "bench-commit", "tag": "warm"},
                                  headers=HEADERS) as r:
                    if r.status == 202:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("the node agent never served the node")
                await asyncio.sleep(0.5)
            await _until(s, url, uuid, "Running", timeout=300)
            zs, ds, dp = [], [], []
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(runs):  # interleaved: drift in the node's load hits both alike
                    zs.append(await _commit(s, url, uuid, f"r{i}"))
                    took, paused = _direct(cluster.containerd_socket, crane, cid, base,
                                           f"{registry}/bench-direct/busybox:r{i}", Path(tmp))
                    ds.append(took)
                    dp.append(paused)
            _report(f"commit of a {mib} MiB change, to the image pushed", zs, ds)
            say(f"direct: paused for the diff median {statistics.median(dp) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.mib))
