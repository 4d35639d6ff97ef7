"""Shared test fixtures: the real local cluster and Redis, and a zunk8s app bound to them.

Integration and e2e tests need the cluster from ``deploy/local-cluster`` (real etcd,
kube-apiserver, a real kubelet node, kwok nodes, Redis). The ``cluster`` fixture reuses a
running one (``deploy/local-cluster env`` answers) or brings it up once per test run.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.exports import parse_exports
from tests.keystone import Keystone, start_keystone

ROOT = Path(__file__).resolve().parent.parent
LOCAL_CLUSTER = ROOT / "deploy" / "local-cluster"


@dataclass(frozen=True)
class Cluster:
    kubeconfig: str
    redis_url: str
    image: str
    minimal_image: str
    kubectl: str
    helm: str
    registry: str  # host:port of the cluster's registry, as this machine (and the kubelet) reach it
    pod_cidrs: str  # JSON list of the ranges Pods get addresses from (ZUNK8S_NETWORK__POD_CIDRS)
    containerd_socket: str  # the real node's containerd (for the node agent)
    # The private registry (asks for a password): an image on it, its user and password.
    private_image: str
    private_user: str
    private_password: str
    node: str = "zun-real-0"  # the real node's name

    @property
    def commit_registry(self) -> str:
        """Where zunk8s pushes committed images: the cluster's registry as the kubelet pulls from it
        (plain HTTP, being loopback) and the agent on the real node pushes to it."""
        return self.registry.replace("127.0.0.1", "localhost") + "/zunk8s"

    @property
    def helper_image(self) -> str:
        """zunk8s's own image, as the kubelet pulls it (built and pushed when not yet there): the
        init container of injected files runs its `zunk8s inject`."""
        from tests.helmrelease import images

        return images()["ZUNK8S_IMAGE"]


def _cluster_env() -> dict[str, str]:
    out = subprocess.run([str(LOCAL_CLUSTER), "env"], check=True, capture_output=True, text=True).stdout
    env = parse_exports(out)
    # PATH is "<kubernetes bin dir>:<tools bin dir>:$PATH": the pinned kubectl, then helm.
    bins = env.get("PATH", "").split(":")
    env["ZUNK8S_KUBECTL"] = str(Path(bins[0]) / "kubectl")
    env["ZUNK8S_HELM"] = str(Path(bins[1]) / "helm")
    return env


def _cluster_ready() -> bool:
    try:
        env = _cluster_env()
    except subprocess.CalledProcessError:
        return False
    probe = [env["ZUNK8S_KUBECTL"], "--kubeconfig", env["KUBECONFIG"], "get", "--raw", "/readyz"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        return False
    redis_port = env["ZUNK8S_REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
    return subprocess.run(["redis-cli", "-p", redis_port, "ping"], capture_output=True).returncode == 0


def running_cluster() -> Cluster:
    """The running local cluster, as ``deploy/local-cluster env`` describes it (also for bench/)."""
    env = _cluster_env()
    return Cluster(
        kubeconfig=env["KUBECONFIG"],
        redis_url=env["ZUNK8S_REDIS_URL"],
        image=env["ZUNK8S_TEST_IMAGE"],
        minimal_image=env["ZUNK8S_MINIMAL_IMAGE"],
        kubectl=env["ZUNK8S_KUBECTL"],
        helm=env["ZUNK8S_HELM"],
        registry=env["ZUNK8S_REGISTRY"],
        pod_cidrs=env["ZUNK8S_NETWORK__POD_CIDRS"],
        containerd_socket=env["ZUNK8S_CONTAINERD_SOCKET"],
        private_image=env["ZUNK8S_PRIVATE_IMAGE"],
        private_user=env["ZUNK8S_PRIVATE_REGISTRY_USER"],
        private_password=env["ZUNK8S_PRIVATE_REGISTRY_PASSWORD"],
    )


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    if not _cluster_ready():
        if os.environ.get("ZUNK8S_NO_CLUSTER_UP"):
            pytest.fail("the local cluster is not running and ZUNK8S_NO_CLUSTER_UP is set")
        subprocess.run([str(LOCAL_CLUSTER), "up"], check=True)
    return running_cluster()


@pytest.fixture(scope="session")
def keystone() -> Keystone:
    """The test bed's real Keystone (deploy/keystone; started if it is not running)."""
    return start_keystone()
