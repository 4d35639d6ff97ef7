"""What the benchmarks share: the local cluster's environment, zunk8s processes and their
memory, watch-kept tallies of objects, and bounded clean-up of the namespaces a run made.

Measurements only: nothing here asserts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zunk8s.kube.errors import KubeGone, KubeNotFound
from zunk8s.kube.http import KubeHTTP

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"OpenStack-API-Version": "container 1.40", "Content-Type": "application/json"}
KWOK_TOLERATIONS = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
# zunk8s settings that put its Pods on the kwok nodes.
KWOK_EXTRA = {
    "ZUNK8S_KUBE__NODE_SELECTOR": json.dumps({"type": "kwok"}),
    "ZUNK8S_KUBE__TOLERATIONS": json.dumps(KWOK_TOLERATIONS),
}
RECORDS_API = "/apis/zunk8s.openstack.org/v1alpha1"

Obj = dict[str, Any]


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def deploy_env(script: str) -> dict[str, str]:
    """What ``deploy/<script> env`` exports (``export KEY="value"`` lines)."""
    out = subprocess.run([str(ROOT / "deploy" / script), "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[7:].partition("=")
            env[k] = shlex.split(v)[0] if v else ""
    return env


def cluster_env() -> dict[str, str]:
    return deploy_env("local-cluster")


def proc_status_mib(pid: int, key: str) -> float:
    """A memory line of /proc/PID/status (VmRSS: now, VmHWM: peak), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mib(pid: int) -> float:
    return proc_status_mib(pid, "VmRSS")


@dataclass
class Zunk8s:
    """A `zunk8s serve` process started by a benchmark."""

    proc: subprocess.Popen[bytes]
    url: str
    # Seconds from spawning the process to the first successful /healthz (caches synced).
    ready_after: float

    def rss(self) -> float:
        return proc_status_mib(self.proc.pid, "VmRSS")

    def peak(self) -> float:
        return proc_status_mib(self.proc.pid, "VmHWM")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_zunk8s(
    env: dict[str, str],
    *,
    prefix: str,
    port: int,
    extra: dict[str, str],
    timeout: float = 60.0,
    log_path: Path | None = None,
    src: Path | None = None,
) -> Zunk8s:
    """Start zunk8s (from ``src`` when given, e.g. an older checkout to compare with) and wait
    until /healthz answers: it answers only once the informer caches are synced."""
    penv = {
        **os.environ,
        "KUBECONFIG": env["KUBECONFIG"],
        "ZUNK8S_PORT": str(port),
        "ZUNK8S_REDIS_URL": env["ZUNK8S_REDIS_URL"],
        "ZUNK8S_KUBE__NAMESPACE_PREFIX": prefix,
        "ZUNK8S_KUBE__REQUEST_RATIO": "0.01",
        "ZUNK8S_LOG_LEVEL": "info" if log_path else "warning",
        **extra,
    }
    if src is not None:
        penv["PYTHONPATH"] = str(src)
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 (the child owns it)
    out = subprocess.DEVNULL if log is None else log
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zunk8s", "serve"], env=penv, stdout=out, stderr=subprocess.STDOUT, cwd=src or ROOT
    )
    if log is not None:
        log.close()
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"zunk8s exited with {proc.returncode} (log: {log_path})")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return Zunk8s(proc=proc, url=url, ready_after=time.monotonic() - t0)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"zunk8s did not answer /healthz within {timeout:.0f} s")


async def wait_sa(http: KubeHTTP, namespace: str) -> None:
    for _ in range(100):
        try:
            await http.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
            return
        except Exception:
            await asyncio.sleep(0.1)


@dataclass
class Tally:
    """The state of every object under one list path, kept current by list + watch.

    ``classify`` names an object's state (e.g. "Running"); ``deleted`` collects what the watch
    saw deleted, with the grace period its deletion was asked with (None if not seen)."""

    http: KubeHTTP
    path: str
    classify: Callable[[Obj], str]
    states: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    grace: dict[str, int | None] = field(default_factory=dict)
    deleted: list[tuple[str, int | None]] = field(default_factory=list)
    reason_of: Callable[[Obj], str | None] = lambda obj: None

    def count(self, *states: str) -> int:
        return sum(1 for s in self.states.values() if s in states)

    def _apply(self, kind: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name"))
        if kind == "DELETED":
            self.states.pop(name, None)
            # The grace period first asked for tells graceful deleters (garbage collector, taint
            # eviction: the Pod's own period) from immediate ones (grace 0: never seen terminating).
            self.deleted.append((name, self.grace.pop(name, meta.get("deletionGracePeriodSeconds"))))
            return
        self.states[name] = self.classify(obj)
        if meta.get("deletionTimestamp"):
            self.grace.setdefault(name, meta.get("deletionGracePeriodSeconds"))
        reason = self.reason_of(obj)
        if reason:
            self.reasons[name] = reason

    async def _list(self) -> str:
        params: dict[str, str | int | bool | list[str]] = {"limit": 500}
        seen: set[str] = set()
        while True:
            body = await self.http.request("GET", self.path, params=params, timeout=120)
            for item in body.get("items") or []:
                seen.add(str(item["metadata"]["name"]))
                self._apply("ADDED", item)
            meta = body.get("metadata") or {}
            if not meta.get("continue"):
                for name in [n for n in self.states if n not in seen]:
                    self.states.pop(name)
                return str(meta.get("resourceVersion") or "")
            params["continue"] = str(meta["continue"])

    async def run(self) -> None:
        rv = ""
        while True:
            try:
                if not rv:
                    rv = await self._list()
                params: dict[str, str | int | bool | list[str]] = {
                    "watch": True,
                    "allowWatchBookmarks": True,
                    "timeoutSeconds": 120,
                    "resourceVersion": rv,
                }
                async with self.http.stream(self.path, params=params, read_timeout=150) as resp:
                    async for line in resp.content:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        obj = event.get("object") or {}
                        if event.get("type") == "ERROR":
                            rv = ""  # 410: list again
                            break
                        rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                        if event.get("type") != "BOOKMARK":
                            self._apply(str(event.get("type")), obj)
            except asyncio.CancelledError:
                raise
            except KubeGone:
                rv = ""
            except Exception as e:  # a benchmark's watch retries whatever broke it
                say(f"tally watch of {self.path} restarts: {type(e).__name__}: {e}")
                await asyncio.sleep(1)


def pod_state(pod: Obj) -> str:
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        if "running" in (cs.get("state") or {}):
            return "Running"
    if status.get("phase") in ("Succeeded", "Failed"):
        return "Ended"
    return "Pending"


def record_state(record: Obj) -> str:
    return str((record.get("status") or {}).get("status") or "Creating")


def record_reason(record: Obj) -> str | None:
    reason = (record.get("status") or {}).get("status_reason")
    return str(reason) if reason else None


async def delete_namespace(http: KubeHTTP, namespace: str, *, timeout: float) -> bool:
    """Remove a benchmark namespace and wait, at most ``timeout`` seconds in all, until it is gone.

    Its records and Pods are deleted first, side by side, the Pods with grace 0 (no zunk8s runs
    any more, and kwok would otherwise finish each graceful deletion one by one). True when the
    namespace went; otherwise the namespace controller finishes the job."""
    t0 = time.monotonic()

    def left() -> float:
        return max(timeout - (time.monotonic() - t0), 1.0)

    async def delete_all(path: str) -> None:
        try:
            await http.request("DELETE", path, body={"gracePeriodSeconds": 0}, timeout=left())
        except KubeNotFound:
            pass
        except Exception as e:  # a slow deletecollection times out: the namespace deletion goes on
            say(f"deleting {path}: {type(e).__name__}: {e}")

    await asyncio.gather(
        delete_all(f"{RECORDS_API}/namespaces/{namespace}/zuncontainers"),
        delete_all(f"/api/v1/namespaces/{namespace}/pods"),
    )
    try:
        await http.request("DELETE", f"/api/v1/namespaces/{namespace}")
    except KubeNotFound:
        return True
    last = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            await http.request("GET", f"/api/v1/namespaces/{namespace}")
        except KubeNotFound:
            say(f"namespace {namespace} deleted in {time.monotonic() - t0:.0f} s")
            return True
        except Exception:
            pass
        if time.monotonic() - last > 30:
            last = time.monotonic()
            say(f"waiting for namespace {namespace} to go ({time.monotonic() - t0:.0f} s)")
        await asyncio.sleep(1)
    say(f"namespace {namespace} still there after {timeout:.0f} s; left to the namespace controller")
    return False


def direct_pod(namespace: str, name: str, image: str, *, kwok: bool = False) -> dict[str, Any]:
    """The Pod zunk8s makes for the same container (zunk8s.translate.pods), made directly:
    on the real node, or on the kwok nodes (``kwok``)."""
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "main",
                "image": image,
                "args": ["sleep", "3600"],
                "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}, "requests": {"cpu": "10m", "memory": "5243Ki"}},
                "stdin": False,
                "tty": False,
                "stdinOnce": False,
            }
        ],
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 10,
    }
    if kwok:
        spec["nodeSelector"] = {"type": "kwok"}
        spec["tolerations"] = KWOK_TOLERATIONS
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"bench": "direct"}},
        "spec": spec,
    }


@contextmanager
def zunk8s_with_agent(env: dict[str, str], *, prefix: str, port: int, extra: dict[str, str]) -> Iterator[str]:
    """zunk8s and a node agent for the local cluster's real node, serving the installation
    ``prefix``; its URL. Both stopped after, the agent's Lease and the namespaces removed."""
    from tests.conftest import running_cluster
    from tests.serverproc import delete_namespaces, forget_agent, start_agent, stop_process

    cluster = running_cluster()
    zun = start_zunk8s(env, prefix=prefix, port=port, extra=extra)
    agent = start_agent(cluster, prefix=prefix, log=Path("/dev/null"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(agent)
        zun.stop()
        forget_agent(cluster, prefix)
        delete_namespaces(cluster, prefix)
