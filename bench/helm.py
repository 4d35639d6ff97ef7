"""zunk8s installed with its Helm chart, measured against doing the same work directly, in one run.

    python3 -m bench.helm [--runs 10]

Prints, with ratios:
1. `helm install --wait` of the chart (2 replicas + Redis, image already in the registry) vs
   `kubectl apply` of the very objects `helm template` renders plus `kubectl rollout status` of
   both Deployments (the same work without Helm);
2. `helm upgrade --wait` with a changed setting (both replicas roll) vs `kubectl rollout restart`
   of the same Deployment and `rollout status`;
3. median time from `run` to Running through the in-cluster Service vs creating the same Pod
   directly and watching it to Running (bench/run.py's baseline), on the real node.
Not a test: nothing here asserts; numbers go in the issue notes.
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
from typing import Any

import aiohttp

from bench.run import direct_run_to_running, zun_run_to_running
from bench.support import HEADERS, delete_namespace, say, wait_sa
from tests.conftest import Cluster, running_cluster
from tests.helmrelease import CHART, helm, images, install, kubectl, release_values, uninstall
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def bench_install(c: Cluster, work: Path) -> None:
    images()  # built and pushed before anything is timed
    # Helm: the whole chart, waited for.
    helm_s, release = timed(install, c, project="bench", workdir=work)
    say(f"helm install --wait: {helm_s:.1f} s")
    # Helm again: an upgrade with a changed setting rolls both replicas.
    up_s, proc = timed(helm, c, "upgrade", release.name, str(CHART), "--namespace", release.namespace,
                       "--reuse-values", "--set", "logLevel=debug", "--wait", "--timeout", "240s")
    assert proc.returncode == 0, proc.stderr
    # Direct: the same Deployment restarted with kubectl.
    deploy = f"deployment/{release.name}"
    restart_s, _ = timed(lambda: (kubectl(c, "-n", release.namespace, "rollout", "restart", deploy),
                                  kubectl(c, "-n", release.namespace, "rollout", "status", deploy, "--timeout=240s")))
    uninstall(c, release)
    # Direct: the objects helm renders, applied with kubectl into a fresh namespace.
    suffix = secrets.token_hex(3)
    ns, prefix = f"zunk8s-direct-{suffix}", f"zb{suffix}-"
    values = work / "direct-values.json"
    values.write_text(json.dumps(release_values(c, prefix=prefix, tokens={"tokens": []}, extra={"replicaCount": 2})))
    name = f"zunk8s-{suffix}"
    rendered = helm(c, "template", name, str(CHART), "--namespace", ns, "--values", str(values))
    assert rendered.returncode == 0, rendered.stderr
    manifest = work / "direct.yaml"
    manifest.write_text(rendered.stdout)

    def apply_and_wait() -> None:
        kubectl(c, "create", "namespace", ns)
        kubectl(c, "-n", ns, "apply", "-f", str(manifest))
        for d in (name, f"{name}-redis"):
            kubectl(c, "-n", ns, "rollout", "status", f"deployment/{d}", "--timeout=240s")

    direct_s, _ = timed(apply_and_wait)
    # Cluster-scoped objects of the direct copy, then its namespace.
    subprocess.run([c.kubectl, "--kubeconfig", c.kubeconfig, "delete", "-f", str(manifest), "--wait=false"],
                   capture_output=True, check=False)
    kubectl(c, "delete", "namespace", ns, "--wait=false", check=False)
    print(f"install, 2 replicas + Redis: helm install --wait {helm_s:.1f} s, kubectl apply + rollout status "
          f"{direct_s:.1f} s, ratio {helm_s / direct_s:.2f}")
    print(f"upgrade rolling both replicas: helm upgrade --wait {up_s:.1f} s, kubectl rollout restart + status "
          f"{restart_s:.1f} s, ratio {up_s / restart_s:.2f}")


async def bench_run(c: Cluster, work: Path, runs: int) -> None:
    release = install(c, project="bench", workdir=work)
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=c.kubeconfig))
    direct_ns = f"{release.prefix}direct"
    await http.request("POST", "/api/v1/namespaces", body={"metadata": {"name": direct_ns}})
    await wait_sa(http, direct_ns)
    headers = {**HEADERS, "X-Auth-Token": release.endpoint.auth_token}
    zun, direct = [], []
    try:
        async with aiohttp.ClientSession() as s:
            await zun_run_to_running(s, release.url, c.image, headers)  # warm up both paths
            await direct_run_to_running(http, direct_ns, c.image, 999)
            for i in range(runs):
                zun.append((await zun_run_to_running(s, release.url, c.image, headers))[0])
                direct.append(await direct_run_to_running(http, direct_ns, c.image, i))
    finally:
        await delete_namespace(http, direct_ns, timeout=120)
        await http.close()
        uninstall(c, release)
    zm, dm = statistics.median(zun), statistics.median(direct)
    print(f"run->Running through the in-cluster Service (2 replicas), {runs} runs: zunk8s median {zm * 1000:.0f} ms, "
          f"direct Pod median {dm * 1000:.0f} ms, ratio {zm / dm:.3f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    c = running_cluster()
    with tempfile.TemporaryDirectory() as tmp:
        bench_install(c, Path(tmp))
        await bench_run(c, Path(tmp), args.runs)


if __name__ == "__main__":
    asyncio.run(main())
