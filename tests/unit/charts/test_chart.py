"""The Helm chart (charts/zunk8s) as `helm template` renders it: what it makes for each setting,
what it refuses, that its CRD is zunk8s's own, that its RBAC is exactly the table of what zunk8s
calls, and that the environment it gives zunk8s is one zunk8s's settings accept.

Needs helm (``ZUNK8S_HELM``, ``helm`` on PATH, or the one deploy/build-tools.sh builds); no
cluster. Renders are shared per module: each ``helm template`` takes ~0.2 s.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]  # PyYAML, a kubernetes_asyncio dependency

from zunk8s.settings import Settings
from zunk8s.translate import commit, freeze, stats
from zunk8s.translate import labels as L
from zunk8s.translate.crd import crd_manifest, crd_manifests, image_crd, network_crd, registry_crd, security_group_crd

Obj = dict[str, Any]

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "zunk8s"
KEYSTONE = CHART / "ci" / "keystone-values.yaml"
STATIC = CHART / "ci" / "static-values.yaml"
RELEASE, NAMESPACE = "zunk8s", "zunk8s-system"
SERVICE_ACCOUNT = f"system:serviceaccount:{NAMESPACE}:zunk8s"
PASSWORD = "pw-Marker-6c1e"  # the Keystone password ci/keystone-values.yaml does not use

# (apiGroup, resource, resourceNames, verbs): every rule the ClusterRole may hold, and why
# (templates/rbac.yaml says it beside each rule). A rule widened, added or dropped fails here.
EXPECTED_RULES = {
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        ("networks.zunk8s.openstack.org", "securitygroups.zunk8s.openstack.org", "zuncontainers.zunk8s.openstack.org",
         "zunimages.zunk8s.openstack.org", "zunregistries.zunk8s.openstack.org"),
        ("get",),
    ),
    ("", "namespaces", (), ("create",)),
    ("zunk8s.openstack.org", "zuncontainers", (), ("create", "delete", "get", "list", "patch", "watch")),
    ("zunk8s.openstack.org", "zuncontainers/status", (), ("patch",)),
    ("zunk8s.openstack.org", "securitygroups", (), ("create", "delete", "get", "list", "patch")),
    ("zunk8s.openstack.org", "networks", (), ("create", "delete", "get", "list", "patch")),
    ("zunk8s.openstack.org", "zunimages", (), ("create", "delete", "get", "list", "patch")),
    ("zunk8s.openstack.org", "zunregistries", (), ("create", "delete", "get", "list", "patch")),
    ("", "pods", (), ("create", "delete", "get", "list", "patch", "watch")),
    ("", "pods/resize", (), ("patch",)),
    ("", "pods/log", (), ("get",)),
    ("", "pods/exec", (), ("create", "get")),
    ("", "pods/attach", (), ("create", "get")),
    ("", "events", (), ("list",)),
    ("", "configmaps", (), ("create", "get", "patch", "update")),
    ("", "resourcequotas", (), ("create", "delete", "get", "patch")),
    ("", "nodes", (), ("get", "list")),
    ("networking.k8s.io", "networkpolicies", (), ("create", "list", "patch")),
    ("", "services", (), ("create", "patch")),
    ("", "secrets", (), ("create", "patch")),
    ("", "persistentvolumeclaims", (), ("create", "get", "list")),
}
WRITE_VERBS = {"create", "update", "patch", "delete"}
API_ROLE = "zunk8s-zunk8s-system"

HARDENED_POD = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
HARDENED_CONTAINER = {
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}


# --- rendering ---------------------------------------------------------------------------


def _built_helm() -> str | None:
    """The helm deploy/build-tools.sh builds (the pinned version), if it is built."""
    tools_bin = subprocess.run(
        ["bash", "-c", 'source "$1" && printf %s "$TOOLS_BIN"', "-", str(ROOT / "deploy" / "build-tools.sh")],
        capture_output=True, text=True, check=False,
    ).stdout
    helm = Path(tools_bin) / "helm"
    return str(helm) if tools_bin and os.access(helm, os.X_OK) else None


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    found = os.environ.get("ZUNK8S_HELM") or shutil.which("helm") or _built_helm()
    if not found:
        pytest.fail(
            "helm is needed to render charts/zunk8s: set ZUNK8S_HELM to its path, or put it on PATH "
            '(eval "$(deploy/local-cluster env)" does; deploy/build-tools.sh builds it)',
            pytrace=False,
        )
    home = tmp_path_factory.mktemp("helmhome")
    # helm's own cache and config stay out of the user's home.
    return {
        **os.environ,
        "ZUNK8S_HELM": found,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def _template(env: dict[str, str], args: tuple[str, ...], namespace: str) -> subprocess.CompletedProcess[str]:
    cmd = [env["ZUNK8S_HELM"], "template", RELEASE, str(CHART), "--namespace", namespace, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def render(env: dict[str, str], *args: str, namespace: str = NAMESPACE) -> list[Obj]:
    proc = _template(env, args, namespace)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def refusal(env: dict[str, str], *args: str, namespace: str = NAMESPACE) -> str:
    """The error helm stops with (the test fails if it renders)."""
    proc = _template(env, args, namespace)
    assert proc.returncode != 0, f"rendered, but should have been refused: {args}"
    return proc.stderr


def sets(*pairs: str) -> tuple[str, ...]:
    """``--set`` each of ``pairs`` (``key=value``)."""
    return tuple(arg for pair in pairs for arg in ("--set", pair))


def keystone(*args: str) -> tuple[str, ...]:
    return ("--values", str(KEYSTONE), *args)


def static(*args: str) -> tuple[str, ...]:
    return ("--values", str(STATIC), *args)


def kinds(objs: list[Obj]) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["metadata"]["name"]) for o in objs)


def one(objs: list[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, kinds(objs))
    return found[0]


def zunk8s_deployment(objs: list[Obj]) -> Obj:
    return one(objs, "Deployment", "zunk8s")


def zunk8s_container(objs: list[Obj]) -> Obj:
    container: Obj = zunk8s_deployment(objs)["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "zunk8s"
    return container


def env_of(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}


def env_values(container: Obj) -> dict[str, str]:
    """The plain (value:) environment variables."""
    return {name: e["value"] for name, e in env_of(container).items() if "value" in e}


def pod_annotations(objs: list[Obj]) -> dict[str, str]:
    found: dict[str, str] = zunk8s_deployment(objs)["spec"]["template"]["metadata"].get("annotations", {})
    return found


def strings(node: Any) -> Iterator[str]:
    """Every string in a parsed document (keys and values)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


@pytest.fixture(scope="module")
def default(helm_env: dict[str, str]) -> list[Obj]:
    """The default values plus what keystone mode requires (ci/keystone-values.yaml)."""
    return render(helm_env, *keystone("--include-crds"))


@pytest.fixture(scope="module")
def single(helm_env: dict[str, str]) -> list[Obj]:
    """One replica, no Redis, static tokens (ci/static-values.yaml)."""
    return render(helm_env, *static())


@pytest.fixture(scope="module")
def external(helm_env: dict[str, str]) -> list[Obj]:
    return render(helm_env, *keystone("--set", "redis.url=redis://:s3cret@redis.example.com:6379/0"))


# --- the CRD ------------------------------------------------------------------------------


def test_crds_are_zunk8s_own(default: list[Obj]) -> None:
    rendered = sorted((o for o in default if o["kind"] == "CustomResourceDefinition"), key=lambda o: o["metadata"]["name"])
    assert rendered == sorted(crd_manifests(), key=lambda o: o["metadata"]["name"])
    for file, manifest in (
        ("zuncontainers.yaml", crd_manifest()),
        ("securitygroups.yaml", security_group_crd()),
        ("networks.yaml", network_crd()),
        ("zunimages.yaml", image_crd()),
        ("zunregistries.yaml", registry_crd()),
    ):
        with open(CHART / "crds" / file, encoding="utf-8") as f:
            assert list(yaml.safe_load_all(f)) == [manifest]


def test_crd_is_not_a_template(helm_env: dict[str, str]) -> None:
    # crds/ is installed by Helm before the release and never deleted with it.
    assert not [o for o in render(helm_env, *keystone()) if o["kind"] == "CustomResourceDefinition"]


# --- what the defaults make ----------------------------------------------------------------


def test_defaults_make_two_replicas_with_redis_and_a_budget(default: list[Obj]) -> None:
    assert kinds(default) == [
        ("ClusterRole", "zunk8s-zunk8s-system"),
        ("ClusterRole", "zunk8s-zunk8s-system-agent"),
        ("ClusterRoleBinding", "zunk8s-zunk8s-system"),
        ("ClusterRoleBinding", "zunk8s-zunk8s-system-agent"),
        ("CustomResourceDefinition", "networks.zunk8s.openstack.org"),
        ("CustomResourceDefinition", "securitygroups.zunk8s.openstack.org"),
        ("CustomResourceDefinition", "zuncontainers.zunk8s.openstack.org"),
        ("CustomResourceDefinition", "zunimages.zunk8s.openstack.org"),
        ("CustomResourceDefinition", "zunregistries.zunk8s.openstack.org"),
        ("DaemonSet", "zunk8s-agent"),
        ("Deployment", "zunk8s"),
        ("Deployment", "zunk8s-redis"),
        ("NetworkPolicy", "zunk8s"),
        ("NetworkPolicy", "zunk8s-redis"),
        ("PodDisruptionBudget", "zunk8s"),
        ("Role", "zunk8s-zunk8s-system-agent"),
        ("Role", "zunk8s-zunk8s-system-agent-reader"),
        ("RoleBinding", "zunk8s-zunk8s-system-agent"),
        ("RoleBinding", "zunk8s-zunk8s-system-agent-reader"),
        ("Secret", "zunk8s-auth"),
        ("Secret", "zunk8s-redis"),
        ("Service", "zunk8s"),
        ("Service", "zunk8s-redis"),
        ("ServiceAccount", "zunk8s"),
        ("ServiceAccount", "zunk8s-agent"),
        ("ValidatingAdmissionPolicy", "zunk8s-zunk8s-system"),
        ("ValidatingAdmissionPolicy", "zunk8s-zunk8s-system-agent"),
        ("ValidatingAdmissionPolicyBinding", "zunk8s-zunk8s-system"),
        ("ValidatingAdmissionPolicyBinding", "zunk8s-zunk8s-system-agent"),
    ]
    deployment = zunk8s_deployment(default)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    pdb = one(default, "PodDisruptionBudget")
    assert pdb["spec"] == {"minAvailable": 1, "selector": deployment["spec"]["selector"]}
    assert one(default, "Deployment", "zunk8s-redis")["spec"]["replicas"] == 1


def test_zunk8s_serves_in_cluster_without_crd_rights(default: list[Obj]) -> None:
    pod = zunk8s_deployment(default)["spec"]["template"]["spec"]
    container = zunk8s_container(default)
    assert container["args"] == ["serve"]
    assert "command" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 9517, "protocol": "TCP"}]
    assert env_values(container) | {
        "ZUNK8S_HOST": "0.0.0.0",
        "ZUNK8S_PORT": "9517",
        "ZUNK8S_KUBE__CONFIG": "incluster",
        "ZUNK8S_KUBE__MANAGE_CRD": "false",
        "ZUNK8S_KUBE__NAMESPACE_PREFIX": "zun-",
        "ZUNK8S_LOG_FORMAT": "json",
        "ZUNK8S_SHUTDOWN_TIMEOUT": "30",
    } == env_values(container)
    assert pod["serviceAccountName"] == "zunk8s"
    assert pod["automountServiceAccountToken"] is True
    # A Service named zunk8s would otherwise inject ZUNK8S_PORT=tcp://…, which zunk8s's
    # settings would read as its port.
    assert pod["enableServiceLinks"] is False
    # shutdownTimeout 30 + preStopSeconds 5 (the endpoint leaves the Service first) + 10.
    assert pod["terminationGracePeriodSeconds"] == 45
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_probes(default: list[Obj]) -> None:
    container = zunk8s_container(default)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # Liveness gives a replica far longer than readiness before acting.
    live, ready = container["livenessProbe"], container["readinessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60
    assert live["periodSeconds"] * live["failureThreshold"] > ready["periodSeconds"] * ready["failureThreshold"]


def test_redis_url_is_built_from_the_redis_secret(default: list[Obj]) -> None:
    container = zunk8s_container(default)
    names = [e["name"] for e in container["env"]]
    env = env_of(container)
    # Dependent environment variables: REDIS_PASSWORD must come before the URL that uses it.
    assert names.index("REDIS_PASSWORD") < names.index("ZUNK8S_REDIS_URL")
    assert env["REDIS_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "zunk8s-redis", "key": "password"}}
    assert env["ZUNK8S_REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@zunk8s-redis:6379/0"
    secret = one(default, "Secret", "zunk8s-redis")
    assert len(base64.b64decode(secret["data"]["password"])) == 32
    redis = one(default, "Deployment", "zunk8s-redis")["spec"]["template"]["spec"]["containers"][0]
    assert "command" not in redis  # the official image's entrypoint and ours both take args
    assert redis["args"] == ["--port", "6379", "--requirepass", "$(REDIS_PASSWORD)", "--save", "", "--appendonly", "no"]
    assert env_of(redis)["REDIS_PASSWORD"]["valueFrom"] == env["REDIS_PASSWORD"]["valueFrom"]
    assert one(default, "Service", "zunk8s-redis")["spec"]["ports"][0]["port"] == 6379


def test_every_container_is_hardened(default: list[Obj], single: list[Obj]) -> None:
    deployments = [o for o in default + single if o["kind"] == "Deployment"]
    assert len(deployments) == 3
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"] == HARDENED_POD, deployment["metadata"]["name"]
        for container in pod["containers"] + pod.get("initContainers", []):
            assert container["securityContext"] == HARDENED_CONTAINER, container["name"]
        assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]


def test_default_affinity_spreads_replicas(default: list[Obj]) -> None:
    deployment = zunk8s_deployment(default)
    terms = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    [term] = terms["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"] == {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": deployment["spec"]["selector"],
    }


def test_chart_environment_is_accepted_by_zunk8s(default: list[Obj], monkeypatch: pytest.MonkeyPatch) -> None:
    """zunk8s's settings (extra="forbid") refuse a misspelt or misplaced variable."""
    for name in list(os.environ):
        if name.startswith("ZUNK8S_"):
            monkeypatch.delenv(name)
    for name, value in env_values(zunk8s_container(default)).items():
        monkeypatch.setenv(name, value.replace("$(REDIS_PASSWORD)", "pw"))
    settings = Settings()
    assert settings.kube.config == "incluster"
    assert settings.kube.manage_crd is False
    assert settings.redis_url == "redis://:pw@zunk8s-redis:6379/0"
    assert settings.auth.keystone is not None
    assert settings.auth.keystone.password is None
    assert settings.auth.keystone.password_file == "/etc/zunk8s/keystone/password"


def test_containers_scheduling_is_json(helm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    objs = render(
        helm_env,
        *keystone(
            "--set-json=" + 'containers.nodeSelector={"pool": "zun"}',
            "--set-json=" + 'containers.tolerations=[{"key": "zun", "operator": "Exists", "effect": "NoSchedule"}]',
        ),
    )
    env = env_values(zunk8s_container(objs))
    for name in list(os.environ):
        if name.startswith("ZUNK8S_"):
            monkeypatch.delenv(name)
    for name in ("ZUNK8S_KUBE__NODE_SELECTOR", "ZUNK8S_KUBE__TOLERATIONS"):
        monkeypatch.setenv(name, env[name])
    kube = Settings().kube
    assert kube.node_selector == {"pool": "zun"}
    assert kube.tolerations == [{"key": "zun", "operator": "Exists", "effect": "NoSchedule"}]


def test_pod_cidrs_reach_the_settings(helm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ZUNK8S_NETWORK__POD_CIDRS" not in env_values(zunk8s_container(render(helm_env, *keystone())))
    objs = render(helm_env, *keystone("--set-json=" + 'network.podCidrs=["10.244.0.0/16", "fd00::/64"]'))
    for name in list(os.environ):
        if name.startswith("ZUNK8S_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZUNK8S_NETWORK__POD_CIDRS", env_values(zunk8s_container(objs))["ZUNK8S_NETWORK__POD_CIDRS"])
    assert Settings().network.pod_cidrs == ["10.244.0.0/16", "fd00::/64"]


# --- RBAC and the admission policy ----------------------------------------------------------


def _rules(objs: list[Obj]) -> set[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    table: set[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = set()
    for rule in one(objs, "ClusterRole", API_ROLE)["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                entry = (group, resource, tuple(sorted(rule.get("resourceNames", []))), tuple(sorted(rule["verbs"])))
                assert entry not in table, f"duplicate rule {entry}"
                table.add(entry)
    return table


def test_rbac_is_exactly_what_zunk8s_calls(default: list[Obj]) -> None:
    assert _rules(default) == EXPECTED_RULES
    binding = one(default, "ClusterRoleBinding", API_ROLE)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": one(default, "ClusterRole", API_ROLE)["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "zunk8s", "namespace": NAMESPACE}]
    # Nothing in the release namespace needs a Role: the only Roles are the node agents' Leases
    # (kube-node-lease), which zunk8s reads.
    assert {o["metadata"]["namespace"] for o in default if o["kind"] in ("Role", "RoleBinding")} == {"kube-node-lease"}


def test_no_wildcards(default: list[Obj], single: list[Obj], external: list[Obj]) -> None:
    for objs in (default, single, external):
        for rule in one(objs, "ClusterRole", API_ROLE)["rules"]:
            for key in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert not [v for v in rule.get(key, []) if "*" in v], rule
        for rule in one(objs, "ValidatingAdmissionPolicy", API_ROLE)["spec"]["matchConstraints"]["resourceRules"]:
            for key in ("apiGroups", "apiVersions", "operations", "resources"):
                assert "*" not in "".join(rule[key]), rule


def test_admission_policy_covers_every_write(default: list[Obj]) -> None:
    policy = one(default, "ValidatingAdmissionPolicy", API_ROLE)
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    [condition] = spec["matchConditions"]
    assert condition["expression"] == f'request.userInfo.username == "{SERVICE_ACCOUNT}"'
    matched = {
        (group, resource, op)
        for rule in spec["matchConstraints"]["resourceRules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for op in rule["operations"]
    }
    for group, resource, _, verbs in EXPECTED_RULES:
        if resource in ("pods/exec", "pods/attach"):
            assert (group, resource, "CONNECT") in matched
        elif WRITE_VERBS & set(verbs):
            for op in ("CREATE", "UPDATE", "DELETE"):
                assert (group, resource, op) in matched, (group, resource, op)
    variables = {v["name"]: v["expression"] for v in spec["variables"]}
    assert variables["prefix"] == '"zun-"'
    assert variables["instance"] == json.dumps(L.instance_for("zun-"))
    binding = one(default, "ValidatingAdmissionPolicyBinding", API_ROLE)
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}


@pytest.mark.parametrize("prefix", ["zun-", "rel-", "rel", "x", "a-b--", "p" * 43])
def test_instance_label_is_zunk8s_own(helm_env: dict[str, str], prefix: str) -> None:
    """The policy's instance label is the one zunk8s puts on its objects (labels.instance_for)."""
    rendered = render(helm_env, *keystone("--set", f"namespacePrefix={prefix}"))
    policy = one(rendered, "ValidatingAdmissionPolicy", API_ROLE)
    agent_policy = one(rendered, "ValidatingAdmissionPolicy", API_ROLE + "-agent")
    assert json.dumps(L.instance_for(prefix)) in agent_policy["spec"]["validations"][1]["expression"]
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    assert variables["instance"] == json.dumps(L.instance_for(prefix))
    assert variables["prefix"] == json.dumps(prefix)


def test_admission_policy_can_be_turned_off(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *keystone("--set", "rbac.admissionPolicy=false"))
    assert not [o for o in objs if o["kind"].startswith("ValidatingAdmissionPolicy")]
    assert _rules(objs) == EXPECTED_RULES


@pytest.mark.parametrize(
    ("prefix", "namespace", "victim"),
    [("kube-", NAMESPACE, "kube-system"), ("d", NAMESPACE, "default"), ("zunk8s-", NAMESPACE, NAMESPACE)],
)
def test_prefix_of_a_system_or_the_release_namespace_is_refused(
    helm_env: dict[str, str], prefix: str, namespace: str, victim: str
) -> None:
    error = refusal(helm_env, *keystone("--set", f"namespacePrefix={prefix}"), namespace=namespace)
    assert f'the namespace "{victim}" starts with it' in error


# --- refusals -------------------------------------------------------------------------------


def test_replicas_without_redis_are_refused(helm_env: dict[str, str]) -> None:
    error = refusal(helm_env, *keystone(*sets("replicaCount=2", "redis.enabled=false")))
    assert "replicaCount 2 needs Redis" in error


def test_noauth_is_refused(helm_env: dict[str, str]) -> None:
    error = refusal(helm_env, "--set", "auth.mode=noauth")
    assert "auth.mode noauth is refused" in error
    assert "any client could act as any project" in error


def test_noauth_when_asked_explicitly(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *sets("auth.mode=noauth", "auth.allowNoauthRemote=true"))
    env = env_values(zunk8s_container(objs))
    assert env["ZUNK8S_AUTH__MODE"] == "noauth"
    assert env["ZUNK8S_AUTH__ALLOW_NOAUTH_REMOTE"] == "true"
    assert not [o for o in objs if o["kind"] == "Secret" and o["metadata"]["name"] == "zunk8s-auth"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "auth.keystone.authUrl is required"),
        (sets("auth.keystone.authUrl=http://k/v3"), "auth.keystone.username"),
        (sets("auth.keystone.authUrl=http://k/v3", "auth.keystone.username=z"), "auth.keystone.projectName"),
        (
            sets("auth.keystone.authUrl=http://k/v3", "auth.keystone.username=z", "auth.keystone.projectName=s"),
            "needs zunk8s's service user password",
        ),
        (sets("auth.mode=static"), "auth.mode static needs the tokens file"),
    ],
)
def test_missing_credentials_are_named(helm_env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    assert message in refusal(helm_env, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("--set", "replicaCount=0"),
        ("--set", "auth.mode=ldap"),
        ("--set", "namespacePrefix=Zun_"),
        ("--set", "logFormat=xml"),
        ("--set", "unknownSetting=1"),
    ],
)
def test_schema_refuses_bad_values(helm_env: dict[str, str], args: tuple[str, ...]) -> None:
    assert "values don't meet the specifications of the schema" in refusal(helm_env, *keystone(*args))


# --- Redis choices --------------------------------------------------------------------------


def test_one_replica_without_redis(single: list[Obj]) -> None:
    assert not [o for o in single if "redis" in o["metadata"]["name"]]
    assert not [o for o in single if o["kind"] == "PodDisruptionBudget"]
    env = env_of(zunk8s_container(single))
    assert "ZUNK8S_REDIS_URL" not in env
    assert "REDIS_PASSWORD" not in env
    assert zunk8s_deployment(single)["spec"]["replicas"] == 1


def test_external_redis_url(external: list[Obj]) -> None:
    assert not [o for o in external if o["kind"] in ("Deployment", "Service") and "redis" in o["metadata"]["name"]]
    secret = one(external, "Secret", "zunk8s-redis-url")
    assert base64.b64decode(secret["data"]["url"]) == b"redis://:s3cret@redis.example.com:6379/0"
    env = env_of(zunk8s_container(external))
    assert env["ZUNK8S_REDIS_URL"] == {
        "name": "ZUNK8S_REDIS_URL",
        "valueFrom": {"secretKeyRef": {"name": "zunk8s-redis-url", "key": "url"}},
    }
    assert "REDIS_PASSWORD" not in env
    assert "s3cret" not in json.dumps(zunk8s_deployment(external))
    assert one(external, "PodDisruptionBudget")


def test_external_redis_existing_secret(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *keystone("--set", "redis.existingSecret=my-redis"))
    assert not [o for o in objs if "redis" in o["metadata"]["name"]]
    env = env_of(zunk8s_container(objs))
    assert env["ZUNK8S_REDIS_URL"]["valueFrom"] == {"secretKeyRef": {"name": "my-redis", "key": "url"}}


# --- credentials --------------------------------------------------------------------------


def test_keystone_password_is_only_a_mounted_file(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *keystone("--set", f"auth.keystone.password={PASSWORD}"))
    secret = one(objs, "Secret", "zunk8s-auth")
    assert base64.b64decode(secret["data"]["password"]).decode() == PASSWORD
    for obj in objs:
        if obj is not secret:
            assert not [s for s in strings(obj) if PASSWORD in s], obj["kind"]
    container = zunk8s_container(objs)
    env = env_of(container)
    assert "ZUNK8S_AUTH__KEYSTONE__PASSWORD" not in env
    assert env["ZUNK8S_AUTH__KEYSTONE__PASSWORD_FILE"]["value"] == "/etc/zunk8s/keystone/password"
    assert {"name": "keystone", "mountPath": "/etc/zunk8s/keystone", "readOnly": True} in container["volumeMounts"]
    [volume] = [v for v in zunk8s_deployment(objs)["spec"]["template"]["spec"]["volumes"] if v["name"] == "keystone"]
    assert volume["secret"]["secretName"] == "zunk8s-auth"
    assert volume["secret"]["items"] == [{"key": "password", "path": "password"}]


def test_keystone_existing_secret(helm_env: dict[str, str]) -> None:
    objs = render(
        helm_env,
        *sets(
            "auth.keystone.authUrl=http://k/v3",
            "auth.keystone.username=zunk8s",
            "auth.keystone.projectName=service",
            "auth.keystone.existingSecret=zunk8s-keystone",
        ),
    )
    assert not [o for o in objs if o["kind"] == "Secret" and o["metadata"]["name"] == "zunk8s-auth"]
    assert "checksum/auth" not in pod_annotations(objs)
    [volume] = [v for v in zunk8s_deployment(objs)["spec"]["template"]["spec"]["volumes"] if v["name"] == "keystone"]
    assert volume["secret"]["secretName"] == "zunk8s-keystone"


def test_static_tokens_are_a_mounted_file(single: list[Obj], monkeypatch: pytest.MonkeyPatch) -> None:
    secret = one(single, "Secret", "zunk8s-auth")
    tokens = json.loads(base64.b64decode(secret["data"]["tokens.json"]))
    assert tokens["tokens"][0]["project_id"] == "alpha"
    container = zunk8s_container(single)
    env = env_values(container)
    assert env["ZUNK8S_AUTH__MODE"] == "static"
    assert env["ZUNK8S_AUTH__TOKENS_FILE"] == "/etc/zunk8s/tokens/tokens.json"
    assert {"name": "tokens", "mountPath": "/etc/zunk8s/tokens", "readOnly": True} in container["volumeMounts"]
    for name in list(os.environ):
        if name.startswith("ZUNK8S_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().auth.tokens_file == "/etc/zunk8s/tokens/tokens.json"


def test_policy_file(helm_env: dict[str, str]) -> None:
    rules = {"container:delete_force": "rule:context_is_admin", "container:logs": "role:reader"}
    objs = render(helm_env, *keystone("--set-json", f"policy={json.dumps(rules)}"))
    configmap = one(objs, "ConfigMap", "zunk8s-policy")
    assert yaml.safe_load(configmap["data"]["policy.yaml"]) == rules
    assert env_values(zunk8s_container(objs))["ZUNK8S_POLICY_FILE"] == "/etc/zunk8s/policy/policy.yaml"
    assert "checksum/policy" in pod_annotations(objs)


# --- rolling on a changed setting -------------------------------------------------------------


def test_a_changed_setting_rolls_the_pods(helm_env: dict[str, str], default: list[Obj]) -> None:
    again = render(helm_env, *keystone("--include-crds"))
    changed = render(helm_env, *keystone("--set", f"auth.keystone.password={PASSWORD}"))
    assert pod_annotations(again)["checksum/auth"] == pod_annotations(default)["checksum/auth"]
    assert pod_annotations(changed)["checksum/auth"] != pod_annotations(default)["checksum/auth"]
    first = render(helm_env, *keystone("--set", "policy.container:logs=role:reader"))
    second = render(helm_env, *keystone("--set", "policy.container:logs=role:admin"))
    assert pod_annotations(first)["checksum/policy"] != pod_annotations(second)["checksum/policy"]


def test_redis_checksum_is_of_the_rendered_secret(default: list[Obj]) -> None:
    """The generated Redis password is chosen once per render: both Deployments' checksums
    agree with each other (and change when the Secret does)."""
    redis = one(default, "Deployment", "zunk8s-redis")["spec"]["template"]["metadata"]["annotations"]
    assert redis["checksum/redis"] == pod_annotations(default)["checksum/redis"]


# --- network policies -----------------------------------------------------------------------


def test_network_policies(default: list[Obj], helm_env: dict[str, str]) -> None:
    api = one(default, "NetworkPolicy", "zunk8s")["spec"]
    assert api["policyTypes"] == ["Ingress"]
    assert api["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    redis = one(default, "NetworkPolicy", "zunk8s-redis")["spec"]
    assert redis["policyTypes"] == ["Ingress", "Egress"]
    assert redis["egress"] == []
    assert redis["ingress"] == [
        {
            "from": [{"podSelector": zunk8s_deployment(default)["spec"]["selector"]}],
            "ports": [{"port": 6379, "protocol": "TCP"}],
        }
    ]
    rule = {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}], "ports": [{"port": 6443, "protocol": "TCP"}]}
    narrowed = render(helm_env, *keystone("--set-json", f"networkPolicy.egress={json.dumps([rule])}"))
    spec = one(narrowed, "NetworkPolicy", "zunk8s")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"][-1] == rule
    assert len(spec["egress"]) == 3  # DNS, the in-chart Redis, the rule asked for
    off = render(helm_env, *keystone("--set", "networkPolicy.enabled=false"))
    assert not [o for o in off if o["kind"] == "NetworkPolicy"]


# --- the node agent ---------------------------------------------------------------------------


def test_the_agent_runs_on_container_nodes_with_only_its_rights(default: list[Obj]) -> None:
    agent = one(default, "DaemonSet", "zunk8s-agent")
    pod = agent["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["agent"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["ZUNK8S_AGENT__NODE_NAME"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["ZUNK8S_KUBE__NAMESPACE_PREFIX"] == "zun-"
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["volumes"] == [
        {"name": "work", "emptyDir": {}},  # commit's layer, before it is pushed
        {"name": "containerd", "hostPath": {"path": "/run/containerd/containerd.sock", "type": "Socket"}},
        {"name": "cgroup", "hostPath": {"path": "/sys/fs/cgroup", "type": "Directory"}},  # stats
    ]
    assert {m["name"]: m.get("readOnly", False) for m in container["volumeMounts"]} == {
        "containerd": False, "cgroup": True, "work": False}
    assert env["ZUNK8S_AGENT__WORKDIR"] == "/var/lib/zunk8s-agent"
    assert "hostNetwork" not in pod  # unless asked for (agent.hostNetwork)
    assert pod["hostPID"] is True and env["ZUNK8S_AGENT__CGROUP_ROOT"] == "/host/sys/fs/cgroup"  # stats
    assert "ports" not in container  # it opens none: zunk8s and the agent meet at the API server
    assert "ZUNK8S_IMAGES__COMMIT_REGISTRY" not in {e["name"] for e in one(default, "Deployment", "zunk8s")["spec"]["template"]["spec"]["containers"][0]["env"]}
    rules = one(default, "ClusterRole", "zunk8s-zunk8s-system-agent")["rules"]
    assert rules == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "patch"]}]
    lease = one(default, "Role", "zunk8s-zunk8s-system-agent")
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "patch"]}]
    reader = one(default, "Role", "zunk8s-zunk8s-system-agent-reader")
    assert reader["rules"][0]["verbs"] == ["get"]
    assert one(default, "RoleBinding", "zunk8s-zunk8s-system-agent-reader")["subjects"][0]["name"] == "zunk8s"
    policy = one(default, "ValidatingAdmissionPolicy", "zunk8s-zunk8s-system-agent")
    assert "zunk8s-agent" in policy["spec"]["matchConditions"][0]["expression"]
    assert env_values(zunk8s_container(default))["ZUNK8S_AGENT__LEASE_NAMESPACE"] == "kube-node-lease"
    # Every answer the agent writes, and nothing else (a missing one: its answers are refused
    # and zunk8s waits in vain).
    (answers,) = [v["expression"] for v in policy["spec"]["variables"] if v["name"] == "answers"]
    assert sorted(json.loads(answers.replace("'", '"'))) == sorted([freeze.DONE, stats.DONE, commit.DONE])


def test_no_agent_when_disabled(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *keystone(), "--set", "agent.enabled=false")
    assert not [o for o in objs if o["metadata"]["name"].startswith(("zunk8s-agent", "zunk8s-zunk8s-system-agent"))]


def test_commit_settings_reach_zunk8s_and_the_agent(helm_env: dict[str, str]) -> None:
    objs = render(helm_env, *keystone("--set", "images.commitRegistry=localhost:5000/zun", "--set", "agent.hostNetwork=true",
                                      "--set-json", 'agent.insecureRegistries=["reg.local:5000"]'))
    env = {e["name"]: e.get("value") for e in one(objs, "Deployment", "zunk8s")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ZUNK8S_IMAGES__COMMIT_REGISTRY"] == "localhost:5000/zun"
    pod = one(objs, "DaemonSet", "zunk8s-agent")["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    agent_env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert json.loads(agent_env["ZUNK8S_AGENT__INSECURE_REGISTRIES"]) == ["reg.local:5000"]
