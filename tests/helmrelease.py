"""zunk8s installed into the local cluster with its Helm chart, the way a platform team installs it.

Each release gets a namespace and a namespace prefix of its own (so it never joins another
installation), the image built by ``deploy/build-image`` from the cluster's registry, in-chart
Redis, and ``static`` identity: two tokens made here, a member and an admin of ``project``. It is
reached at its Service's ClusterIP, from this machine, through kube-proxy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, Cluster
from tests.serverproc import Endpoint, delete_namespaces

CHART = ROOT / "charts" / "zunk8s"
BUILD_IMAGE = ROOT / "deploy" / "build-image"


@dataclass(frozen=True)
class Release:
    name: str  # also the chart's full name (it contains "zunk8s"): the Service, Deployment, …
    namespace: str
    prefix: str
    endpoint: Endpoint  # the member's token
    admin: Endpoint  # the admin's token

    @property
    def url(self) -> str:
        return self.endpoint.url


@functools.cache
def images() -> dict[str, str]:
    """ZUNK8S_IMAGE and ZUNK8S_REDIS_IMAGE, as the cluster's kubelet pulls them (built and
    pushed by deploy/build-image when not already there; cached, so seconds when nothing changed;
    asked once per process)."""
    out = subprocess.run([str(BUILD_IMAGE), "--push", "--print-tags"], check=True, capture_output=True, text=True)
    found = {}
    for line in out.stdout.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key in ("ZUNK8S_IMAGE", "ZUNK8S_REDIS_IMAGE"):
            found[key] = value
    assert set(found) == {"ZUNK8S_IMAGE", "ZUNK8S_REDIS_IMAGE"}, out.stdout
    return found


def _split(ref: str) -> dict[str, str]:
    repository, _, tag = ref.rpartition(":")
    return {"repository": repository, "tag": tag}


def kubectl(cluster: Cluster, *args: str, check: bool = True, timeout: float = 120) -> str:
    proc = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def helm(cluster: Cluster, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # No proxy variables: the apiserver is on this machine.
    home = Path(cluster.kubeconfig).parent / "helm"
    run_env = {
        "PATH": "/usr/bin:/bin",
        "KUBECONFIG": cluster.kubeconfig,
        # helm keeps a discovery cache in $HOME/.kube: without a HOME that is the current directory.
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return subprocess.run([cluster.helm, *args], capture_output=True, text=True, timeout=timeout, env=run_env, check=False)


def _token_entry(token: str, project: str, user: str, roles: list[str]) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(token.encode()).hexdigest(), "project_id": project, "user_id": user, "roles": roles}


def release_values(cluster: Cluster, *, prefix: str, tokens: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    imgs = images()
    values: dict[str, Any] = {
        "image": {**_split(imgs["ZUNK8S_IMAGE"]), "pullPolicy": "IfNotPresent"},
        "redis": {"image": _split(imgs["ZUNK8S_REDIS_IMAGE"])},
        "namespacePrefix": prefix,
        "network": {"podCidrs": json.loads(cluster.pod_cidrs)},
        # The real node's containerd is private to the local cluster (not /run/containerd); the
        # agent pushes committed images to the cluster's registry on the node's loopback, where
        # the kubelet pulls them from.
        "agent": {"containerdSocket": cluster.containerd_socket, "hostNetwork": True},
        # zunk8s's Pods reach the registry by its Service (the nodes by their loopback).
        "images": {"commitRegistry": cluster.commit_registry,
                   "searchRegistry": f"http://registry.kube-system.svc:{cluster.registry.rpartition(':')[2]}/"
                                     + cluster.commit_registry.partition("/")[2]},
        "auth": {"mode": "static", "static": {"tokens": json.dumps(tokens)}},
        # The test node has 2 CPUs: small requests for zunk8s and for the containers it makes.
        "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "512Mi"}},
        "extraEnv": [
            {"name": "ZUNK8S_KUBE__REQUEST_RATIO", "value": "0.01"},
            {"name": "ZUNK8S_KUBE__STOP_TIMEOUT", "value": "5"},
        ],
    }
    values.update(extra or {})
    return values


def install(
    cluster: Cluster, *, project: str, workdir: Path, extra: dict[str, Any] | None = None, replicas: int = 2
) -> Release:
    """``helm install --wait`` a release of the chart; returns when both replicas are ready."""
    suffix = secrets.token_hex(3)
    name = f"zunk8s-{suffix}"
    namespace = f"zunk8s-test-{suffix}"
    prefix = f"zh{suffix}-"
    member, admin = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    tokens = {"tokens": [
        _token_entry(member, project, "helm-member", ["member"]),
        _token_entry(admin, project, "helm-admin", ["admin", "member"]),
    ]}
    values_file = workdir / f"{name}-values.json"
    values = release_values(cluster, prefix=prefix, tokens=tokens, extra={"replicaCount": replicas, **(extra or {})})
    values_file.write_text(json.dumps(values))
    proc = helm(cluster, "install", name, str(CHART), "--namespace", namespace, "--create-namespace",
                "--values", str(values_file), "--wait", "--timeout", "240s")
    assert proc.returncode == 0, (proc.stdout, proc.stderr, kubectl(cluster, "-n", namespace, "get", "pods,events", check=False))
    ip = kubectl(cluster, "-n", namespace, "get", "service", name, "-o", "jsonpath={.spec.clusterIP}").strip()
    url = f"http://{ip}:9517"
    wait_ready(url)
    return Release(
        name=name, namespace=namespace, prefix=prefix,
        endpoint=Endpoint(url=url, project=project, token=member),
        admin=Endpoint(url=url, project=project, token=admin),
    )


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def uninstall(cluster: Cluster, release: Release) -> None:
    """Remove the release, its namespace and the namespaces its zunk8s made for projects."""
    helm(cluster, "uninstall", release.name, "--namespace", release.namespace, "--wait", "--timeout", "120s")
    kubectl(cluster, "delete", "namespace", release.namespace, "--wait=false", "--ignore-not-found", check=False)
    delete_namespaces(cluster, release.prefix)
