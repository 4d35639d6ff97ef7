"""The Helm chart installed into the real local cluster: two ready replicas and Redis behind a
Service, the rendered chart accepted by the real apiserver, /metrics of each replica, a replica
deleted and a `helm upgrade` rolling both replicas while 200 mixed requests run, and what
`helm uninstall` leaves (README "Install with Helm")."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.helmrelease import CHART, Release, helm, install, kubectl, release_values, uninstall
from tests.keystone import Keystone
from tests.serverproc import Endpoint

pytestmark = pytest.mark.realnode

VERSION = "container 1.40"


def call(ep: Endpoint, method: str, path: str, body: Any = None, *, url: str | None = None) -> tuple[int, Any]:
    """One request on a new connection, as a client would make it: (status, JSON body or text).
    A connection failure is status 0 with the error as the body."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request((url or ep.url) + path, data=data, method=method)
    req.add_header("OpenStack-API-Version", VERSION)
    req.add_header("X-Auth-Token", ep.auth_token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    except OSError as e:
        return 0, repr(e)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def api_pods(cluster: Cluster, release: Release) -> list[dict[str, Any]]:
    out = kubectl(cluster, "-n", release.namespace, "get", "pods", "-o", "json",
                  "-l", f"app.kubernetes.io/instance={release.name},app.kubernetes.io/component=api")
    pods: list[dict[str, Any]] = json.loads(out)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    conds = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def wait_replicas_ready(cluster: Cluster, release: Release, n: int = 2, timeout: float = 180) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        pods = api_pods(cluster, release)
        if len(pods) == n and all(ready(p) for p in pods):
            return pods
        assert time.monotonic() < deadline, [(p["metadata"]["name"], ready(p)) for p in pods]
        time.sleep(1)


@pytest.fixture(scope="module")
def release(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    r = install(cluster, project="helm", workdir=tmp_path_factory.mktemp("helm"))
    yield r
    uninstall(cluster, r)


def test_rendered_chart_is_accepted_by_the_apiserver(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`helm template` (CRD included) through a server-side dry run: every object valid for the
    real apiserver's schemas and admission, nothing created."""
    ns = f"zunk8s-dry-{secrets.token_hex(3)}"
    values = tmp_path_factory.mktemp("dry") / "values.json"
    values.write_text(json.dumps(release_values(cluster, prefix=f"zd{secrets.token_hex(3)}-", tokens={"tokens": []})))
    rendered = helm(cluster, "template", "zunk8s", str(CHART), "--namespace", ns, "--include-crds", "--values", str(values))
    assert rendered.returncode == 0, rendered.stderr
    kubectl(cluster, "create", "namespace", ns)
    try:
        proc = subprocess.run(
            [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "apply", "--dry-run=server", "-f", "-"],
            input=rendered.stdout, capture_output=True, text=True, timeout=60, check=False,
        )
        assert proc.returncode == 0, proc.stderr
        kinds = Counter(line.split()[0].split("/")[0] for line in proc.stdout.splitlines() if "(server dry run)" in line)
        for kind in ("deployment.apps", "service", "serviceaccount", "clusterrole.rbac.authorization.k8s.io",
                     "clusterrolebinding.rbac.authorization.k8s.io", "poddisruptionbudget.policy",
                     "networkpolicy.networking.k8s.io", "customresourcedefinition.apiextensions.k8s.io",
                     "validatingadmissionpolicy.admissionregistration.k8s.io"):
            assert kinds[kind] >= 1, (kind, proc.stdout)
    finally:
        kubectl(cluster, "delete", "namespace", ns, "--wait=false", check=False)


def test_two_ready_replicas_and_redis_behind_the_service(cluster: Cluster, release: Release) -> None:
    pods = wait_replicas_ready(cluster, release)
    assert len(pods) == 2
    for pod in pods:
        sc = pod["spec"]["containers"][0]["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    redis = json.loads(kubectl(cluster, "-n", release.namespace, "get", "pods", "-o", "json",
                               "-l", f"app.kubernetes.io/instance={release.name},app.kubernetes.io/component=redis"))
    assert [ready(p) for p in redis["items"]] == [True]
    status, services = call(release.admin, "GET", "/v1/services")
    assert status == 200, services
    api = [s for s in services["services"] if s["binary"] == "zun-api" and s["state"] == "up"]
    assert len(api) == 2, services  # both replicas report through the shared Redis


def test_redis_answers_zunk8s_and_nobody_else(cluster: Cluster, release: Release) -> None:
    """The chart's NetworkPolicy, enforced by the cluster's engine, with real packets: another
    Pod in the release's namespace gets no answer from Redis (without the policy Redis would
    answer it, with -NOAUTH), while both zunk8s replicas keep using it."""
    ns = release.namespace
    kubectl(cluster, "-n", ns, "run", "intruder", f"--image={cluster.image}", "--restart=Never",
            "--command", "--", "sleep", "300")
    try:
        kubectl(cluster, "-n", ns, "wait", "--for=condition=Ready", "pod/intruder", "--timeout=60s")
        out = kubectl(cluster, "-n", ns, "exec", "intruder", "--", "sh", "-c",
                      f"printf 'PING\\r\\n' | nc -w 3 {release.name}-redis 6379; echo rc=$?", check=False)
        assert "NOAUTH" not in out and "PONG" not in out, out
        status, services = call(release.admin, "GET", "/v1/services")
        assert status == 200
        assert len([s for s in services["services"] if s["binary"] == "zun-api" and s["state"] == "up"]) == 2
    finally:
        kubectl(cluster, "-n", ns, "delete", "pod", "intruder", "--now", check=False)


def test_metrics_of_each_replica_show_the_request_just_made(cluster: Cluster, release: Release) -> None:
    for pod_ip in [p["status"]["podIP"] for p in wait_replicas_ready(cluster, release)]:
        url = f"http://{pod_ip}:9517"
        status, _ = call(release.endpoint, "GET", "/v1/containers", url=url)
        assert status == 200
        with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        lines = [ln for ln in text.splitlines() if ln.startswith("zunk8s_http_requests_total{")
                 and 'route="/v1/containers"' in ln and 'method="GET"' in ln and 'status="200"' in ln]
        assert lines and float(lines[0].rsplit(" ", 1)[1]) >= 1, text[:2000]


@dataclass
class LoopResult:
    statuses: Counter[str] = field(default_factory=Counter)
    failed_reads: list[tuple[int, str, Any]] = field(default_factory=list)
    bad_actions: list[tuple[int, str, Any]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    refused: list[tuple[str, int, Any]] = field(default_factory=list)


def _settled(ep: Endpoint, uuid: str, want: str) -> bool:
    status, body = call(ep, "GET", f"/v1/containers/{uuid}")
    return status == 200 and body["status"] == want and body["task_state"] is None


def run_loop(ep: Endpoint, uuids: list[str], *, n: int = 200, at: int, event: Callable[[], None]) -> LoopResult:
    """``n`` requests, one action (stop and start in turn, over ``uuids`` in rotation) for three
    reads; ``event`` runs at request ``at``. An action goes to a container only once its previous
    acknowledged one has visibly completed, so every 202 must show in the container's state: none
    may be lost (nor doubled: a second stop would be refused, a second start leaves no trace)."""
    res = LoopResult()
    want = dict.fromkeys(uuids, "Running")
    pending: dict[str, float] = {}  # container -> when its last acknowledged action was sent
    turn = 0
    for i in range(n):
        if i == at:
            event()
        uuid = uuids[turn % len(uuids)]
        if i % 4 == 3:
            turn += 1
        if i % 4 == 3 and (uuid not in pending or _settled(ep, uuid, want[uuid])):
            pending.pop(uuid, None)
            action = "stop" if want[uuid] == "Running" else "start"
            status, body = call(ep, "POST", f"/v1/containers/{uuid}/{action}")
            res.statuses[f"{action} {status}"] += 1
            if status == 202:
                res.acknowledged.append(action)
                want[uuid] = "Stopped" if action == "stop" else "Running"
                pending[uuid] = time.monotonic()
            elif status in (409, 503) and isinstance(body, dict) and body.get("errors"):
                res.refused.append((action, status, body["errors"][0].get("detail")))
            else:
                res.bad_actions.append((i, action, (status, body)))
        else:  # a read (also in an action's turn while that container is still busy)
            path = "/v1/containers" if i % 2 else f"/v1/containers/{uuids[i % len(uuids)]}"
            status, body = call(ep, "GET", path)
            res.statuses[f"GET {status}"] += 1
            if status != 200:
                res.failed_reads.append((i, path, (status, body)))
        for busy, since in pending.items():
            assert time.monotonic() - since < 120, f"an acknowledged action on {busy} never completed"
        time.sleep(0.1)
    deadline = time.monotonic() + 120
    for uuid in uuids:
        while not _settled(ep, uuid, want[uuid]):
            assert time.monotonic() < deadline, f"the last acknowledged action on {uuid} never completed"
            time.sleep(0.5)
    return res


def _running_containers(ep: Endpoint, image: str, count: int = 4) -> list[str]:
    """``count`` running containers whose command exits on SIGTERM (a stop takes a moment)."""
    uuids = []
    for _ in range(count):
        body = {"name": f"loop-{secrets.token_hex(3)}", "image": image,
                "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]}
        status, made = call(ep, "POST", "/v1/containers?run=true", body)
        assert status == 202, made
        uuids.append(made["uuid"])
    deadline = time.monotonic() + 90
    for uuid in uuids:
        while not _settled(ep, uuid, "Running"):
            assert time.monotonic() < deadline, call(ep, "GET", f"/v1/containers/{uuid}")
            time.sleep(0.5)
    return uuids


def _report(name: str, res: LoopResult) -> None:
    print(f"\n{name}: {dict(res.statuses)}; acknowledged {len(res.acknowledged)}; refused {res.refused}")
    assert res.failed_reads == [], res.failed_reads
    assert res.bad_actions == [], res.bad_actions
    assert len(res.acknowledged) >= 10, res.statuses


def test_deleting_a_replica_during_200_requests(cluster: Cluster, release: Release) -> None:
    uuids = _running_containers(release.endpoint, cluster.image)
    victim = wait_replicas_ready(cluster, release)[0]["metadata"]["name"]

    def delete_victim() -> None:
        kubectl(cluster, "-n", release.namespace, "delete", "pod", victim, "--wait=false")

    res = run_loop(release.endpoint, uuids, at=40, event=delete_victim)
    _report("delete a replica", res)
    names = [p["metadata"]["name"] for p in wait_replicas_ready(cluster, release)]
    assert victim not in names


def test_helm_upgrade_with_a_changed_setting_rolls_both_replicas(cluster: Cluster, release: Release) -> None:
    uuids = _running_containers(release.endpoint, cluster.image)
    before = {p["metadata"]["name"] for p in wait_replicas_ready(cluster, release)}
    result: list[subprocess.CompletedProcess[str]] = []

    def upgrade() -> None:
        result.append(helm(cluster, "upgrade", release.name, str(CHART), "--namespace", release.namespace,
                           "--reuse-values", "--set", "logLevel=debug", "--wait", "--timeout", "240s"))

    thread = threading.Thread(target=upgrade)
    res = run_loop(release.endpoint, uuids, at=20, event=thread.start)
    thread.join(timeout=300)
    assert result and result[0].returncode == 0, result and result[0].stderr
    _report("helm upgrade", res)
    pods = wait_replicas_ready(cluster, release)
    assert not before & {p["metadata"]["name"] for p in pods}, "both replicas were replaced"
    for pod in pods:
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        assert env["ZUNK8S_LOG_LEVEL"] == "debug"


def test_uninstall_removes_zunk8s_and_keeps_the_containers(cluster: Cluster, release: Release) -> None:
    uuid = _running_containers(release.endpoint, cluster.image, count=1)[0]
    proc = helm(cluster, "uninstall", release.name, "--namespace", release.namespace, "--wait", "--timeout", "120s")
    assert proc.returncode == 0, proc.stderr
    sel = f"app.kubernetes.io/instance={release.name}"
    kinds = "pods,serviceaccounts,services,secrets,configmaps,deployments,replicasets,poddisruptionbudgets,networkpolicies,roles,rolebindings"
    # The Deployment goes at once; its Pods stop within their grace period (preStop + shutdown).
    deadline = time.monotonic() + 90
    while left := kubectl(cluster, "-n", release.namespace, "get", kinds, "-l", sel, "-o", "name").strip():
        assert time.monotonic() < deadline, left
        time.sleep(1)
    cluster_wide = kubectl(cluster, "get", "clusterroles,clusterrolebindings,validatingadmissionpolicies,"
                           "validatingadmissionpolicybindings", "-l", sel, "-o", "name")
    assert cluster_wide.strip() == "", cluster_wide
    # What zunk8s made for the project stays (README): its record, its Pod, the CRD.
    records = json.loads(kubectl(cluster, "get", "zuncontainers", "-A", "-o", "json"))["items"]
    mine = [r for r in records if r["metadata"]["namespace"].startswith(release.prefix)]
    assert uuid in {r["metadata"]["name"] for r in mine} or uuid in json.dumps(mine)
    pods = json.loads(kubectl(cluster, "get", "pods", "-A", "-o", "json"))["items"]
    assert any(p["metadata"]["namespace"].startswith(release.prefix) and p["status"].get("phase") == "Running"
               and uuid in json.dumps(p["metadata"]) for p in pods)
    kubectl(cluster, "get", "crd", "zuncontainers.zunk8s.openstack.org")


def test_keystone_mode_validates_tokens_from_inside_the_cluster(
    cluster: Cluster, keystone: Keystone, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The chart's keystone mode: the service user's password from the chart's Secret (a file,
    not an environment variable), tokens validated by the test bed's real Keystone, which pods
    reach on the bridge address; each project sees only its own containers."""
    pod_url = keystone.env["ZUNK8S_KEYSTONE_POD_URL"]
    assert pod_url, "deploy/keystone does not listen on the cluster's bridge (is the cluster up?)"
    svc = keystone.users["service"]
    auth = {"mode": "keystone", "keystone": {"authUrl": pod_url, "username": svc.name, "password": svc.password,
                                             "projectName": svc.project}}
    r = install(cluster, project="unused", workdir=tmp_path_factory.mktemp("helm-ks"), extra={"auth": auth}, replicas=1)
    try:
        pod = wait_replicas_ready(cluster, r, n=1)[0]
        env = pod["spec"]["containers"][0]["env"]
        assert svc.password not in json.dumps(env)
        alice = Endpoint(url=r.url, project="alpha", token=asyncio.run(keystone.token("alice"))[0])
        bob = Endpoint(url=r.url, project="beta", token=asyncio.run(keystone.token("bob"))[0])
        uuid = _running_containers(alice, cluster.image, count=1)[0]
        assert call(alice, "GET", f"/v1/containers/{uuid}")[0] == 200
        assert call(bob, "GET", f"/v1/containers/{uuid}")[0] == 404
        assert uuid not in json.dumps(call(bob, "GET", "/v1/containers")[1])
        status, body = call(Endpoint(url=r.url, project="x", token="not-a-token"), "GET", "/v1/containers")
        assert status == 401, body
    finally:
        uninstall(cluster, r)
