"""zunk8s benchmarks against doing the same work directly on Kubernetes, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.run [--runs 10] [--list-size 1000]

Prints, with ratios:
1. median time from `run` to Running through zunk8s vs creating the same Pod directly with
   kubernetes_asyncio and waiting (watch) for Running, on the real node;
2. median latency of listing N containers (on kwok nodes) through zunk8s vs a direct
   Kubernetes list of the same Pods;
3. RSS of the zunk8s process holding N containers;
4. median latency of `execute run=true echo hi` vs `kubectl exec`, and get/put_archive of a
   50 MB file vs `kubectl cp`.
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
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"OpenStack-API-Version": "container 1.40", "Content-Type": "application/json"}
KWOK_TOLERATIONS = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]


def cluster_env() -> dict[str, str]:
    out = subprocess.run([str(ROOT / "deploy" / "local-cluster"), "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[7:].partition("=")
            env[k] = v.strip('"')
    return env


def start_zunk8s(env: dict[str, str], *, prefix: str, port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    penv = {
        **os.environ,
        "KUBECONFIG": env["KUBECONFIG"],
        "ZUNK8S_PORT": str(port),
        "ZUNK8S_REDIS_URL": env["ZUNK8S_REDIS_URL"],
        "ZUNK8S_KUBE__NAMESPACE_PREFIX": prefix,
        "ZUNK8S_KUBE__REQUEST_RATIO": "0.01",
        "ZUNK8S_LOG_LEVEL": "warning",
        **extra,
    }
    proc = subprocess.Popen([sys.executable, "-m", "zunk8s", "serve"], env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    import urllib.request

    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("zunk8s did not start")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def zun_run_to_running(session: aiohttp.ClientSession, url: str, image: str) -> tuple[float, str]:
    body = {"image": image, "command": ["sleep", "3600"]}
    t0 = time.perf_counter()
    async with session.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
        uuid = (await r.json())["uuid"]
    while True:
        async with session.get(f"{url}/v1/containers/{uuid}", headers=HEADERS) as r:
            if (await r.json())["status"] == "Running":
                return time.perf_counter() - t0, uuid
        await asyncio.sleep(0.01)


def direct_pod(namespace: str, name: str, image: str) -> dict[str, Any]:
    # The same Pod zunk8s makes (see zunk8s.translate.pods): one container, same resources.
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"bench": "direct"}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "args": ["sleep", "3600"],
                    "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}, "requests": {"cpu": "10m", "memory": "5243Ki"}},
                }
            ],
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 10,
        },
    }


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
    proc = start_zunk8s(env, prefix=prefix, port=9611, extra={})
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
        proc.terminate()
        proc.wait()
        for ns in (direct_ns, f"{prefix}default"):
            await http.request("DELETE", f"/api/v1/namespaces/{ns}")
        await http.close()
    zm, dm = statistics.median(zun_times), statistics.median(direct_times)
    print(f"run->Running, real node, {runs} runs: zunk8s median {zm*1000:.0f} ms, direct Pod median {dm*1000:.0f} ms, ratio {zm/dm:.3f} (goal <= 1.10)")


async def wait_sa(http: KubeHTTP, namespace: str) -> None:
    for _ in range(100):
        try:
            await http.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
            return
        except Exception:
            await asyncio.sleep(0.1)


async def bench_list(env: dict[str, str], size: int, samples: int) -> None:
    prefix = f"bl{secrets.token_hex(2)}-"
    extra = {
        "ZUNK8S_KUBE__NODE_SELECTOR": json.dumps({"type": "kwok"}),
        "ZUNK8S_KUBE__TOLERATIONS": json.dumps(KWOK_TOLERATIONS),
    }
    proc = start_zunk8s(env, prefix=prefix, port=9612, extra=extra)
    url = "http://127.0.0.1:9612"
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    namespace = f"{prefix}default"
    rss_before = rss_mib(proc.pid)
    try:
        async with aiohttp.ClientSession() as s:
            t0 = time.perf_counter()
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> None:
                async with sem:
                    body = {"image": env["ZUNK8S_TEST_IMAGE"], "command": ["sleep", "3600"], "name": f"kw-{i}"}
                    async with s.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
                        assert r.status == 202, await r.text()

            await asyncio.gather(*(one(i) for i in range(size)))
            created = time.perf_counter() - t0
            # Wait until all are Running on kwok nodes.
            while True:
                async with s.get(f"{url}/v1/containers", headers=HEADERS) as r:
                    items = (await r.json())["containers"]
                running = sum(1 for c in items if c["status"] == "Running")
                if running == size:
                    break
                await asyncio.sleep(1)
            settled = time.perf_counter() - t0
            zun_lat, k8s_lat = [], []
            for _ in range(samples):
                t = time.perf_counter()
                async with s.get(f"{url}/v1/containers", headers=HEADERS) as r:
                    body = await r.read()
                zun_lat.append(time.perf_counter() - t)
                assert len(json.loads(body)["containers"]) == size
                t = time.perf_counter()
                pods = await http.request("GET", f"/api/v1/namespaces/{namespace}/pods")
                k8s_lat.append(time.perf_counter() - t)
                assert len(pods["items"]) == size
        rss = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
        await http.request("DELETE", f"/api/v1/namespaces/{namespace}")
        # Wait for the 1,000 Pods to go, so their deletion does not load the next measurements.
        for _ in range(240):
            try:
                await http.request("GET", f"/api/v1/namespaces/{namespace}")
            except Exception:
                break
            await asyncio.sleep(0.5)
        await http.close()
    zm, km = statistics.median(zun_lat), statistics.median(k8s_lat)
    print(f"create {size} containers (run=true, kwok nodes, 32 concurrent): {created:.1f} s accepted, {settled:.1f} s all Running")
    print(f"list {size} containers, {samples} samples: zunk8s median {zm*1000:.1f} ms (goal < 50 ms), direct Kubernetes pod list median {km*1000:.1f} ms, ratio {zm/km:.3f}")
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
    proc = start_zunk8s(env, prefix=prefix, port=9613, extra={})
    url = "http://127.0.0.1:9613"
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
        proc.terminate()
        proc.wait()
        await http.request("DELETE", f"/api/v1/namespaces/{namespace}")
        await http.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--list-size", type=int, default=1000)
    parser.add_argument("--list-samples", type=int, default=30)
    parser.add_argument("--archive-mb", type=int, default=50)
    parser.add_argument("--only", choices=["start", "list", "streams"])
    args = parser.parse_args()
    env = cluster_env()
    if args.only in (None, "start"):
        await bench_start(env, args.runs)
    if args.only in (None, "list"):
        await bench_list(env, args.list_size, args.list_samples)
    if args.only in (None, "streams"):
        await bench_streams(env, args.runs * 2, args.archive_mb)


if __name__ == "__main__":
    asyncio.run(main())
