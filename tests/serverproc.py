"""Run ``zunk8s serve`` as a real process (for e2e tests, recovery tests and benchmarks)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Cluster


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """Where a client reaches a zunk8s, and the token it sends (None: noauth, no token)."""

    url: str
    project: str
    token: str | None = None

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with the OS_* variables that point the
        openstack CLI at this zunk8s: ``none`` auth, or ``admin_token`` with the static token."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("OS_")}
        env["OS_ENDPOINT"] = f"{self.url}/v1"
        if self.token is None:
            env["OS_AUTH_TYPE"] = "none"
        else:
            env.update(OS_AUTH_TYPE="admin_token", OS_TOKEN=self.token)
        return env

    @property
    def auth_token(self) -> str:
        """What python-zunclient sends as X-Auth-Token (noauth ignores it)."""
        return self.token or "noauth"


@dataclass(frozen=True, kw_only=True)
class Server(Endpoint):
    """A ``zunk8s serve`` process started by ``start_server``."""

    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cluster: Cluster, *, project: str, prefix: str, log: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": cluster.kubeconfig,
        "ZUNK8S_PORT": str(port),
        "ZUNK8S_REDIS_URL": cluster.redis_url,
        "ZUNK8S_KUBE__NAMESPACE_PREFIX": prefix,
        "ZUNK8S_KUBE__REQUEST_RATIO": "0.01",
        "ZUNK8S_KUBE__STOP_TIMEOUT": "5",
        "ZUNK8S_AUTH__DEFAULT_PROJECT": project,
        "ZUNK8S_NETWORK__POD_CIDRS": cluster.pod_cidrs,
        "ZUNK8S_IMAGES__COMMIT_REGISTRY": cluster.commit_registry,
        "ZUNK8S_IMAGES__HELPER_IMAGE": cluster.helper_image,
        **(extra_env or {}),
    }
    out = log.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "zunk8s", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"zunk8s exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if json.load(r).get("status") == "ok":
                    return Server(url=url, project=project, process=proc, log=log)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"zunk8s did not become ready; see {log}")


def start_agent(cluster: Cluster, *, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    """The node agent for the real node (``zunk8s agent``, as the chart's DaemonSet runs it there),
    serving the installation whose namespace prefix is ``prefix``."""
    env = {
        **os.environ,
        "KUBECONFIG": cluster.kubeconfig,
        "ZUNK8S_KUBE__NAMESPACE_PREFIX": prefix,
        "ZUNK8S_AGENT__NODE_NAME": cluster.node,
        "ZUNK8S_AGENT__CONTAINERD_SOCKET": cluster.containerd_socket,
    }
    return subprocess.Popen([sys.executable, "-m", "zunk8s", "agent"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def forget_agent(cluster: Cluster, prefix: str) -> None:
    """Delete the Lease of the agent serving the installation ``prefix`` on the real node: a
    stopped agent's Lease says it serves the node for 30 s more (freeze.AGENT_STALE), which a
    later test that expects no agent there would take for one."""
    from zunk8s.settings import AgentSettings
    from zunk8s.translate.freeze import lease_name
    from zunk8s.translate.labels import instance_for

    subprocess.run([cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "-n", AgentSettings().lease_namespace,
                    "delete", "lease", lease_name(instance_for(prefix), cluster.node), "--ignore-not-found"],
                   check=True, capture_output=True)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def delete_namespaces(cluster: Cluster, prefix: str) -> None:
    """Leave the cluster clean: delete every namespace a zunk8s with ``prefix`` created (and
    what they hold), without waiting."""
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "ns", "-o", "name"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    mine = [n for n in out if n.startswith(f"namespace/{prefix}")]
    if mine:
        subprocess.run(
            [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "delete", "--wait=false", *mine],
            capture_output=True, check=False,
        )


def stop_server(server: Server, cluster: Cluster, prefix: str) -> None:
    """Stop a server started by ``start_server`` and delete the namespaces it made."""
    server.process.terminate()
    server.process.wait(timeout=30)
    delete_namespaces(cluster, prefix)
