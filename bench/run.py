"""zunk8s benchmarks against doing the same work directly on Kubernetes, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.run [--runs 10] [--list-size 1000]
    python3 -m bench.run --only scale --scale-size 10000

Prints, with ratios:
1. median time from `run` to Running through zunk8s vs creating the same Pod directly with
   kubernetes_asyncio and waiting (watch) for Running, on the real node;
2. median latency of listing N containers (on kwok nodes) through zunk8s vs a direct
   Kubernetes list of the same Pods;
3. RSS of the zunk8s process holding N containers;
4. median latency of `execute run=true echo hi` vs `kubectl exec`, and get/put_archive of a
   50 MB file vs `kubectl cp`;
5. (only with --only scale) the scale run of bench/scale.py: 10,000 containers through one zunk8s.
Not a test: nothing here asserts; numbers go in the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.scale import Options, bench_scale
from bench.support import (
    HEADERS,
    KWOK_EXTRA,
    RECORDS_API,
    Tally,
    cluster_env,
    delete_namespace,
    direct_pod,
    record_state,
    say,
    start_zunk8s,
    wait_sa,
)
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings


async def zun_run_to_running(
    session: aiohttp.ClientSession, url: str, image: str, headers: dict[str, str] = HEADERS
) -> tuple[float, str]:
    body = {"image": image, "command": ["sleep", "3600"]}
    t0 = time.perf_counter()
    async with session.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=headers) as r:
        uuid = (await r.json())["uuid"]
    while True:
        async with session.get(f"{url}/v1/containers/{uuid}", headers=headers) as r:
            if (await r.json())["status"] == "Running":
                return time.perf_counter() - t0, uuid
        await asyncio.sleep(0.01)


async def direct_run_to_running(http: KubeHTTP, namespace: str, image: str, i: int) -> float:
    name = f"direct-{i}"
    t0 = time.perf_counter()
    created = await http.request("POST", f"/api/v1/namespaces/{namespace}/pods", body=direct_pod(namespace, name, image))
    rv = created["metadata"]["resourceVersion"]
    params: dict[str, Any] = {"watch": True, "fieldSelector": f"metadata.name={name}", "resourceVersion": rv}
    async with http.stream(f"/api/v1/namespaces/{namespace}/pods", params=params, read_timeout=120) as resp:
        async for line in resp.content:
            obj = json.loads(line).get("object") or {}
            for cs in (obj.get("status") or {}).get("containerStatuses") or []:
                if "running" in (cs.get("state") or {}):
                    return time.perf_counter() - t0
    raise RuntimeError("watch ended")


async def bench_start(env: dict[str, str], runs: int) -> None:
    prefix = f"bs{secrets.token_hex(2)}-"
    zun = start_zunk8s(env, prefix=prefix, port=9611, extra={})
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    direct_ns = f"{prefix}direct"
    await http.request("POST", "/api/v1/namespaces", body={"metadata": {"name": direct_ns}})
    await wait_sa(http, direct_ns)
    zun_times, direct_times = [], []
    try:
        async with aiohttp.ClientSession() as s:
            # Warm up both paths once (namespace creation, caches).
            await zun_run_to_running(s, "http://127.0.0.1:9611", env["ZUNK8S_TEST_IMAGE"])
            await direct_run_to_running(http, direct_ns, env["ZUNK8S_TEST_IMAGE"], 999)
            for i in range(runs):
                # Interleave so drift in node load hits both equally.
                zun_times.append((await zun_run_to_running(s, "http://127.0.0.1:9611", env["ZUNK8S_TEST_IMAGE"]))[0])
                direct_times.append(await direct_run_to_running(http, direct_ns, env["ZUNK8S_TEST_IMAGE"], i))
    finally:
        zun.stop()
        for ns in (direct_ns, f"{prefix}default"):
            await delete_namespace(http, ns, timeout=120)
        await http.close()
    zm, dm = statistics.median(zun_times), statistics.median(direct_times)
    print(f"run->Running, real node, {runs} runs: zunk8s median {zm*1000:.0f} ms, direct Pod median {dm*1000:.0f} ms, ratio {zm/dm:.3f} (goal <= 1.10)")


async def bench_list(env: dict[str, str], size: int, samples: int, timeout: float = 900) -> None:
    """Create ``size`` containers on kwok nodes, then time Zun's list (its first page: Zun
    answers at most 1,000 containers per request) against a direct list of the same Pods."""
    prefix = f"bl{secrets.token_hex(2)}-"
    zun = start_zunk8s(env, prefix=prefix, port=9612, extra=KWOK_EXTRA)
    url = zun.url
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    namespace = f"{prefix}default"
    rss_before = zun.rss()
    page = min(size, 1000)
    records = Tally(http, f"{RECORDS_API}/namespaces/{namespace}/zuncontainers", record_state)
    watcher = asyncio.create_task(records.run())
    deadline = time.monotonic() + timeout
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as s:
            t0 = time.perf_counter()
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> None:
                async with sem:
                    body = {"image": env["ZUNK8S_TEST_IMAGE"], "command": ["sleep", "3600"], "name": f"kw-{i}"}
                    async with s.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
                        assert r.status == 202, await r.text()

            await asyncio.gather(*(one(i) for i in range(size)))
            created = time.perf_counter() - t0
            # Wait (bounded) until all are Running on kwok nodes, as the records say.
            last = 0.0
            while records.count("Running") < size and time.monotonic() < deadline:
                if time.monotonic() - last > 10:
                    last = time.monotonic()
                    say(f"list: {records.count('Running')}/{size} Running after {time.perf_counter() - t0:.0f} s")
                await asyncio.sleep(0.5)
            settled = time.perf_counter() - t0
            zun_lat, k8s_lat = [], []
            for _ in range(samples):
                t = time.perf_counter()
                async with s.get(f"{url}/v1/containers", headers=HEADERS) as r:
                    body = await r.read()
                zun_lat.append(time.perf_counter() - t)
                assert len(json.loads(body)["containers"]) == page
                t = time.perf_counter()
                pods = await http.request("GET", f"/api/v1/namespaces/{namespace}/pods", params={"limit": page})
                k8s_lat.append(time.perf_counter() - t)
                assert len(pods["items"]) == page
        rss = zun.rss()
    finally:
        watcher.cancel()
        zun.stop()
        # Gone before the next measurements, so that their deletion does not load them.
        await delete_namespace(http, namespace, timeout=300)
        await http.close()
    zm, km = statistics.median(zun_lat), statistics.median(k8s_lat)
    print(f"create {size} containers (run=true, kwok nodes, 32 concurrent): {created:.1f} s accepted, {settled:.1f} s: {records.count('Running')} Running")
    print(f"list {size} containers (a page of {page}), {samples} samples: zunk8s median {zm*1000:.1f} ms (goal < 50 ms), direct Kubernetes pod list (limit {page}) median {km*1000:.1f} ms, ratio {zm/km:.3f}")
    print(f"zunk8s RSS: {rss_before:.0f} MiB idle, {rss:.0f} MiB holding {size} containers")


def kubectl(env: dict[str, str], *args: str, stdin: bytes | None = None) -> bytes:
    binary = env["PATH"].split(":")[0] + "/kubectl"
    return subprocess.run(
        [binary, "--kubeconfig", env["KUBECONFIG"], *args], input=stdin, capture_output=True, check=True
    ).stdout


async def bench_streams(env: dict[str, str], runs: int, size_mb: int) -> None:
    import base64
    import io
    import tarfile

    prefix = f"bx{secrets.token_hex(2)}-"
    zun = start_zunk8s(env, prefix=prefix, port=9613, extra={})
    url = zun.url
    namespace = f"{prefix}default"
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    try:
        async with aiohttp.ClientSession() as s:
            _, uuid = await zun_run_to_running(s, url, env["ZUNK8S_TEST_IMAGE"])
            async with s.get(f"{url}/v1/containers/{uuid}", headers=HEADERS) as r:
                await r.json()
            pod = f"zun-{uuid}-1"
            zun_exec, k_exec = [], []
            for _ in range(runs):
                t = time.perf_counter()
                async with s.post(f"{url}/v1/containers/{uuid}/execute?command=echo%20hi&run=true", headers=HEADERS) as r:
                    assert (await r.json())["output"] == "hi\n"
                zun_exec.append(time.perf_counter() - t)
                t = time.perf_counter()
                assert kubectl(env, "exec", "-n", namespace, pod, "-c", "main", "--", "echo", "hi") == b"hi\n"
                k_exec.append(time.perf_counter() - t)
            zm, km = statistics.median(zun_exec), statistics.median(k_exec)
            print(f"execute `echo hi`, {runs} runs: zunk8s median {zm*1000:.0f} ms, kubectl exec median {km*1000:.0f} ms, ratio {zm/km:.3f} (goal <= 1)")

            payload = os.urandom(size_mb * 1024 * 1024)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                info = tarfile.TarInfo("big.bin")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            body = json.dumps({"data": base64.b64encode(buf.getvalue()).decode()})
            local = Path(f"/tmp/{prefix}big.bin")
            local.write_bytes(payload)
            zput, zget, zrecv, kput, kget = [], [], [], [], []
            for _ in range(3):
                t = time.perf_counter()
                async with s.post(f"{url}/v1/containers/{uuid}/put_archive?path=/tmp", data=body, headers=HEADERS) as r:
                    assert r.status == 200, await r.text()
                zput.append(time.perf_counter() - t)
                t = time.perf_counter()
                async with s.get(f"{url}/v1/containers/{uuid}/get_archive?path=/tmp/big.bin", headers=HEADERS) as r:
                    raw = await r.read()
                zrecv.append(time.perf_counter() - t)
                got = json.loads(raw)
                with tarfile.open(fileobj=io.BytesIO(base64.b64decode(got["data"]))) as tar:
                    member = tar.extractfile("big.bin")
                    assert member is not None and member.read() == payload
                zget.append(time.perf_counter() - t)
                t = time.perf_counter()
                kubectl(env, "cp", "-n", namespace, "-c", "main", str(local), f"{pod}:/tmp/k.bin")
                kput.append(time.perf_counter() - t)
                back = Path(f"/tmp/{prefix}back.bin")
                t = time.perf_counter()
                kubectl(env, "cp", "-n", namespace, "-c", "main", f"{pod}:/tmp/k.bin", str(back))
                kget.append(time.perf_counter() - t)
                assert back.read_bytes() == payload
            local.unlink()
            rs = statistics.median(zrecv)
            print(f"get_archive {size_mb} MB: the zunk8s answer (base64 JSON) is fully received after {rs:.2f} s; "
                  "the rest of the zunk8s time is the client decoding JSON + base64 and untarring")
            mb = float(size_mb)
            for name, z, k in (("put", zput, kput), ("get", zget, kget)):
                zs, ks = statistics.median(z), statistics.median(k)
                print(
                    f"{name}_archive {size_mb} MB, 3 runs: zunk8s {zs:.2f} s ({mb/zs:.0f} MB/s), kubectl cp {ks:.2f} s "
                    f"({mb/ks:.0f} MB/s), zunk8s/kubectl time ratio {zs/ks:.3f} (goal <= 1)"
                )
    finally:
        zun.stop()
        await delete_namespace(http, namespace, timeout=120)
        await http.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--list-size", type=int, default=1000)
    parser.add_argument("--list-samples", type=int, default=30)
    parser.add_argument("--archive-mb", type=int, default=50)
    parser.add_argument("--only", choices=["start", "list", "streams", "scale"])
    scale = parser.add_argument_group("scale run (--only scale)")
    scale.add_argument("--scale-size", type=int, default=10000, help="containers through zunk8s")
    scale.add_argument("--scale-direct", type=int, help="Pods created directly for comparison (default: as many)")
    scale.add_argument("--scale-concurrency", type=int, default=32, help="requests in flight")
    scale.add_argument("--scale-window", type=int, default=1000, help="accepted but not yet Running, at most")
    scale.add_argument("--scale-samples", type=int, default=20, help="list samples (show: 10 times as many)")
    scale.add_argument("--scale-timeout", type=float, default=1200, help="seconds for the whole run, clean-up aside")
    scale.add_argument("--zunk8s-src", type=Path, help="run zunk8s from this source tree (e.g. an older checkout)")
    args = parser.parse_args()
    env = cluster_env()
    if args.only == "scale":
        opts = Options(
            size=args.scale_size,
            direct=args.scale_size if args.scale_direct is None else args.scale_direct,
            concurrency=args.scale_concurrency,
            window=args.scale_window,
            samples=args.scale_samples,
            timeout=args.scale_timeout,
            src=args.zunk8s_src,
        )
        await bench_scale(env, opts)
        return
    if args.only in (None, "start"):
        await bench_start(env, args.runs)
    if args.only in (None, "list"):
        await bench_list(env, args.list_size, args.list_samples)
    if args.only in (None, "streams"):
        await bench_streams(env, args.runs * 2, args.archive_mb)


if __name__ == "__main__":
    asyncio.run(main())
