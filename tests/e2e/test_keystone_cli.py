"""The real clients through the real Keystone: `openstack appcontainer` and the `zun` CLI log in
with a password and find zunk8s in Keystone's catalog (no OS_ENDPOINT); containers land in the
token's project; admin-only operations work for an admin and are Zun's 403 for a member."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.keystone import Keystone, keystone_command
from tests.serverproc import Server, start_server, stop_server

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
OPENSTACK = shutil.which("openstack", path=str(BIN)) or shutil.which("openstack")
ZUN = shutil.which("zun", path=str(BIN)) or shutil.which("zun")


@pytest.fixture(scope="module")
def ks_server(cluster: Cluster, keystone: Keystone, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    prefix = f"zq{secrets.token_hex(3)}-"
    workdir = tmp_path_factory.mktemp("zunk8s-keystone")
    password_file = workdir / "password"  # as a mounted Secret would hold it
    svc = keystone.users["service"]
    password_file.write_text(svc.password + "\n")
    srv = start_server(
        cluster,
        project="unused",
        prefix=prefix,
        log=workdir / "server.log",
        extra_env={
            "ZUNK8S_AUTH__MODE": "keystone",
            "ZUNK8S_AUTH__KEYSTONE__AUTH_URL": keystone.url,
            "ZUNK8S_AUTH__KEYSTONE__USERNAME": svc.name,
            "ZUNK8S_AUTH__KEYSTONE__PASSWORD_FILE": str(password_file),
            "ZUNK8S_AUTH__KEYSTONE__PROJECT_NAME": svc.project,
        },
    )
    keystone_command("endpoint", f"{srv.url}/v1")  # the catalog now names this zunk8s
    try:
        yield srv
    finally:
        keystone_command("endpoint", "--reset")
        stop_server(srv, cluster, prefix)


def login_env(keystone: Keystone, user: str) -> dict[str, str]:
    u = keystone.users[user]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(
        OS_AUTH_URL=keystone.url,
        OS_USERNAME=u.name,
        OS_PASSWORD=u.password,
        OS_PROJECT_NAME=u.project,
        OS_USER_DOMAIN_NAME="Default",
        OS_PROJECT_DOMAIN_NAME="Default",
        OS_IDENTITY_API_VERSION="3",
        OS_REGION_NAME="RegionOne",
    )
    return env


def osc(keystone: Keystone, user: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert OPENSTACK is not None, "the openstack CLI is not installed"
    proc = subprocess.run(
        [OPENSTACK, *args], env=login_env(keystone, user), capture_output=True, text=True, timeout=120
    )
    if check:
        assert proc.returncode == 0, (user, args, proc.stdout, proc.stderr)
    return proc


def show(keystone: Keystone, user: str, ident: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(osc(keystone, user, "appcontainer", "show", ident, "-f", "json").stdout)
    return data


def wait_status(keystone: Keystone, user: str, ident: str, status: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = show(keystone, user, ident)
        if last["status"] == status and not last.get("task_state"):
            return last
        time.sleep(0.5)
    raise AssertionError(f"{ident}: {last.get('status')} {last.get('status_reason')}")


def test_clients_through_keystone(ks_server: Server, keystone: Keystone, cluster: Cluster) -> None:
    osc(keystone, "alice", "appcontainer", "run", "--name", "ks-1", cluster.image, "sleep", "3600")
    running = wait_status(keystone, "alice", "ks-1", "Running")
    token = json.loads(osc(keystone, "alice", "token", "issue", "-f", "json").stdout)
    assert running["project_id"] == token["project_id"] and running["user_id"] == token["user_id"]
    assert "host" not in running

    listed = json.loads(osc(keystone, "alice", "appcontainer", "list", "-f", "json").stdout)
    assert [c["name"] for c in listed] == ["ks-1"]
    assert osc(keystone, "alice", "appcontainer", "exec", "ks-1", "echo", "through-keystone").stdout.strip().endswith(
        "through-keystone"
    )
    osc(keystone, "alice", "appcontainer", "logs", "ks-1")

    # The zun CLI, too (it logs in twice per command: two tokens, both validated).
    assert ZUN is not None, "the zun CLI (python-zunclient) is not installed"
    zun = subprocess.run([ZUN, "list"], env=login_env(keystone, "alice"), capture_output=True, text=True, timeout=120)
    assert zun.returncode == 0 and "ks-1" in zun.stdout, (zun.stdout, zun.stderr)

    # Another project does not see it; admin-only operations are Zun's 403 for members.
    assert json.loads(osc(keystone, "bob", "appcontainer", "list", "-f", "json").stdout) == []
    assert osc(keystone, "bob", "appcontainer", "show", "ks-1", check=False).returncode != 0
    refused = osc(keystone, "alice", "appcontainer", "list", "--all-projects", check=False)
    assert refused.returncode != 0 and "container:get_all_all_projects" in refused.stderr
    refused = osc(keystone, "alice", "appcontainer", "delete", "--force", "ks-1", check=False)
    assert "container:delete_force" in refused.stdout + refused.stderr

    # An admin sees every project, and where the container runs; and may force a delete.
    every = json.loads(osc(keystone, "admin", "appcontainer", "list", "--all-projects", "-f", "json").stdout)
    assert running["uuid"] in {c["uuid"] for c in every}
    assert show(keystone, "admin", running["uuid"])["host"]

    osc(keystone, "alice", "appcontainer", "stop", "ks-1", "--timeout", "1")
    wait_status(keystone, "alice", "ks-1", "Stopped")
    osc(keystone, "admin", "appcontainer", "delete", "--force", running["uuid"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if json.loads(osc(keystone, "alice", "appcontainer", "list", "-f", "json").stdout) == []:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("ks-1 was not deleted")


def test_security_groups_through_the_network_endpoint(ks_server: Server, keystone: Keystone) -> None:
    """The unmodified `openstack security group` commands, finding zunk8s as the catalog's
    `network` service (openstacksdk appends /v2.0): Neutron's default group, a group and a rule
    by name, the listing, Neutron's 409 for a duplicate, and deletes."""

    def js(user: str, *args: str) -> Any:
        return json.loads(osc(keystone, user, *args, "-f", "json").stdout)

    name = f"web-{int(time.time() * 1000) % 100000}"
    group = js("alice", "security", "group", "create", name, "--description", "web servers")
    assert (group["name"], group["description"]) == (name, "web servers")
    rule = js("alice", "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:81",
              "--remote-group", "default", name)
    assert (rule["port_range_min"], rule["port_range_max"], rule["protocol"]) == (80, 81, "tcp")
    listed = {g["Name"] for g in js("alice", "security", "group", "list")}
    assert {"default", name} <= listed
    assert name not in {g["Name"] for g in js("bob", "security", "group", "list")}
    rules = js("alice", "security", "group", "rule", "list", name)
    assert rule["id"] in {r["ID"] for r in rules}
    again = osc(keystone, "alice", "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:81",
                "--remote-group", "default", name, check=False)
    assert again.returncode != 0 and "Security group rule already exists" in again.stderr
    refused = osc(keystone, "alice", "security", "group", "rule", "create", "--protocol", "icmp", name, check=False)
    assert refused.returncode != 0 and "TCP, UDP and SCTP" in refused.stderr
    osc(keystone, "alice", "security", "group", "rule", "delete", rule["id"])
    osc(keystone, "alice", "security", "group", "delete", name)
    assert name not in {g["Name"] for g in js("alice", "security", "group", "list")}


def test_networks_through_the_network_endpoint(ks_server: Server, keystone: Keystone) -> None:
    """The unmodified `openstack network` commands through the catalog's `network` service: the
    project's default network on first use, a network by name, another project not seeing it,
    sharing (an admin's) seen by every project, Neutron's 403 for a member sharing, what a
    Kubernetes isolation domain cannot be refused, and deletes."""

    def js(user: str, *args: str) -> Any:
        return json.loads(osc(keystone, user, *args, "-f", "json").stdout)

    assert "default" in {n["Name"] for n in js("alice", "network", "list")}
    name = f"net-{int(time.time() * 1000) % 100000}"
    made = js("alice", "network", "create", name, "--description", "app tier")
    assert (made["name"], made["description"], made["shared"], made["status"]) == (name, "app tier", False, "ACTIVE")
    shown = js("alice", "network", "show", name)
    assert (shown["id"], shown["admin_state_up"], shown["router:external"]) == (made["id"], True, False)
    assert name in {n["Name"] for n in js("alice", "network", "list")}
    assert name not in {n["Name"] for n in js("bob", "network", "list")}
    assert osc(keystone, "bob", "network", "show", made["id"], check=False).returncode != 0

    refused = osc(keystone, "alice", "network", "create", f"{name}-pub", "--share", check=False)
    assert refused.returncode != 0 and "(rule:create_network:shared) is disallowed by policy" in refused.stderr
    external = osc(keystone, "alice", "network", "create", f"{name}-ext", "--external", check=False)
    assert external.returncode != 0 and "Kubernetes isolation domains" in external.stderr

    shared = js("admin", "network", "create", f"{name}-pub", "--share")
    assert shared["shared"] is True
    assert f"{name}-pub" in {n["Name"] for n in js("bob", "network", "list")}
    assert js("bob", "network", "show", f"{name}-pub")["id"] == shared["id"]
    osc(keystone, "admin", "network", "delete", f"{name}-pub")
    osc(keystone, "alice", "network", "delete", name)
    assert name not in {n["Name"] for n in js("alice", "network", "list")}


def test_a_container_in_a_group_and_on_a_network_through_the_cli(
    ks_server: Server, keystone: Keystone, cluster: Cluster
) -> None:
    """The whole path a user takes: a group and a rule made with `openstack security group`, a
    network with `openstack network`, then `openstack appcontainer run --security-group … --net
    network=…` using them; the container shows them, `appcontainer network list` and `port list`
    show its port, and a group or network in use cannot be deleted (Neutron's 409)."""

    def js(user: str, *args: str) -> Any:
        return json.loads(osc(keystone, user, *args, "-f", "json").stdout)

    tag = f"{int(time.time() * 1000) % 100000}"
    group = js("alice", "security", "group", "create", f"srv-{tag}")
    js("alice", "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "--remote-group",
       "default", f"srv-{tag}")
    network = js("alice", "network", "create", f"side-{tag}")
    osc(keystone, "alice", "appcontainer", "run", "--name", f"sg-{tag}", "--security-group", f"srv-{tag}",
        "--net", f"network=side-{tag}", cluster.image, "sleep", "3600")
    running = wait_status(keystone, "alice", f"sg-{tag}", "Running")
    assert running["security_groups"] == [group["id"]]
    address = running["addresses"]  # the client shows the addresses' IPs
    assert address.startswith("10.88."), running

    # (`openstack appcontainer network list` fails in the client itself with today's osc-lib,
    # "Invalid formatter provided.": the `zun` CLI lists the same.)
    listed = zun_cli(keystone, "alice", "network-list", f"sg-{tag}")
    ports = js("alice", "port", "list", "--network", f"side-{tag}")
    assert len(ports) == 1 and address in json.dumps(ports[0]["Fixed IP Addresses"])
    assert network["id"] in listed and ports[0]["ID"] in listed and address in listed

    # Legacy add/remove (Zun <= 1.14) on the running container, through the `zun` CLI.
    zun_cli(keystone, "alice", "--zun-api-version", "1.14", "add-security-group", f"sg-{tag}", "default")
    assert set(wait_status(keystone, "alice", f"sg-{tag}", "Running")["security_groups"]) >= {group["id"]}
    zun_cli(keystone, "alice", "--zun-api-version", "1.14", "remove-security-group", f"sg-{tag}", "default")
    deadline = time.monotonic() + 30
    while show(keystone, "alice", f"sg-{tag}")["security_groups"] != [group["id"]]:
        assert time.monotonic() < deadline, "remove-security-group did not finish"
        time.sleep(0.5)

    in_use = osc(keystone, "alice", "security", "group", "delete", f"srv-{tag}", check=False)
    assert in_use.returncode != 0
    in_use = osc(keystone, "alice", "network", "delete", f"side-{tag}", check=False)
    assert in_use.returncode != 0

    osc(keystone, "alice", "appcontainer", "delete", "--stop", f"sg-{tag}")
    deadline = time.monotonic() + 60
    while osc(keystone, "alice", "appcontainer", "show", f"sg-{tag}", check=False).returncode == 0:
        assert time.monotonic() < deadline, "the container was not deleted"
        time.sleep(0.5)
    osc(keystone, "alice", "security", "group", "delete", f"srv-{tag}")
    osc(keystone, "alice", "network", "delete", f"side-{tag}")


def zun_cli(keystone: Keystone, user: str, *args: str) -> str:
    assert ZUN, "the zun CLI is not installed"
    proc = subprocess.run([ZUN, *args], env=login_env(keystone, user), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (user, args, proc.stdout, proc.stderr)
    return proc.stdout


def test_quotas_through_the_cli(ks_server: Server, keystone: Keystone, cluster: Cluster) -> None:
    """`openstack appcontainer quota update/get/delete` (admin sets, a member reads its own) and
    a `run` past the quota refused with Zun's words; `availability zone list` for a member."""
    project = json.loads(osc(keystone, "bob", "token", "issue", "-f", "json").stdout)["project_id"]
    refused = osc(keystone, "bob", "appcontainer", "quota", "update", "--containers", "1", project, check=False)
    assert refused.returncode != 0 and "quota:update" in refused.stderr, refused.stderr
    updated = json.loads(osc(keystone, "admin", "appcontainer", "quota", "update", "--containers", "1", project,
                             "-f", "json").stdout)
    assert updated["containers"] == 1
    try:
        osc(keystone, "bob", "appcontainer", "create", "--name", "q-1", cluster.image, "sleep", "3600")
        over = osc(keystone, "bob", "appcontainer", "create", "--name", "q-2", cluster.image, "sleep", "3600", check=False)
        assert over.returncode != 0 and "Quota exceeded for resources: ['containers']" in over.stderr, over.stderr
        usages = json.loads(osc(keystone, "bob", "appcontainer", "quota", "get", "--usages", project, "-f", "json").stdout)
        assert usages["containers"] == {"limit": 1, "in_use": 1}, usages
        zones = osc(keystone, "bob", "appcontainer", "availability", "zone", "list", "-f", "json")
        assert isinstance(json.loads(zones.stdout), list)
    finally:
        osc(keystone, "admin", "appcontainer", "quota", "delete", project)
        osc(keystone, "bob", "appcontainer", "delete", "q-1", check=False)
    assert json.loads(osc(keystone, "bob", "appcontainer", "quota", "get", project, "-f", "json").stdout)["containers"] == 40


def test_images_through_the_cli(ks_server: Server, keystone: Keystone, cluster: Cluster) -> None:
    """`openstack appcontainer image pull/list/show/delete` as an admin (Zun's policy: admins
    only); the pull is the kubelet's, onto the real node."""
    pulled = json.loads(osc(keystone, "admin", "appcontainer", "image", "pull", cluster.helper_image, cluster.node,
                            "-f", "json").stdout)
    uuid = pulled["uuid"]
    deadline = time.monotonic() + 60
    while not (shown := json.loads(osc(keystone, "admin", "appcontainer", "image", "show", uuid, "-f", "json").stdout))["image_id"]:
        assert time.monotonic() < deadline, shown
        time.sleep(1)
    assert shown["host"] == cluster.node and shown["repo"] == cluster.helper_image.rsplit(":", 1)[0]
    listed = json.loads(osc(keystone, "admin", "appcontainer", "image", "list", "-f", "json").stdout)
    assert uuid in {i["uuid"] for i in listed}, listed
    refused = osc(keystone, "alice", "appcontainer", "image", "list", check=False)
    assert refused.returncode != 0 and "image:get_all" in refused.stderr, refused.stderr
    out = osc(keystone, "admin", "appcontainer", "image", "delete", uuid)
    assert "has been accepted" in out.stdout, out.stdout
    gone = osc(keystone, "admin", "appcontainer", "image", "show", uuid, check=False)
    assert gone.returncode != 0 and f"Image {uuid} could not be found." in gone.stderr
