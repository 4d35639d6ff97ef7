"""The unmodified `openstack appcontainer` CLI and python-zunclient against zunk8s (noauth, or a static token in the Helm-installed target)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.registryimages import domain_of, fresh_private_image, push_tiny_image
from tests.serverproc import Endpoint, Server

pytestmark = pytest.mark.e2e

# The CLI pip installed next to this interpreter (a pyenv shim may not exist yet on a new machine).
OPENSTACK = shutil.which("openstack", path=str(Path(sys.executable).parent)) or shutil.which("openstack")
if OPENSTACK is None:  # pragma: no cover - deploy/install-python-deps installs it
    pytest.fail("the openstack CLI (python-openstackclient + python-zunclient) is not installed", pytrace=False)


def osc(server: Endpoint, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(OPENSTACK), *args], env=server.client_env(), capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def show(server: Endpoint, ident: str) -> dict[str, Any]:
    out = osc(server, "appcontainer", "show", ident, "-f", "json").stdout
    data: dict[str, Any] = json.loads(out)
    return data


def wait_status(server: Endpoint, ident: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = show(server, ident)
        if last["status"] == status and not last.get("task_state"):
            return last
        time.sleep(0.5)
    raise AssertionError(f"{ident}: {last.get('status')} {last.get('status_reason')}")


def pod_phase(cluster: Cluster, uuid: str) -> list[str]:
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "pods", "-A", "-l",
         f"zunk8s.openstack.org/uuid={uuid}", "-o", "jsonpath={range .items[*]}{.status.phase}{'\\n'}{end}"],
        capture_output=True, text=True, check=True,
    ).stdout
    return out.split()


def test_cli_lifecycle(server: Endpoint, cluster: Cluster) -> None:
    image = cluster.image
    osc(server, "appcontainer", "create", "--name", "cli-1", image, "sleep", "3600")
    created = wait_status(server, "cli-1", "Created")
    uuid = created["uuid"]
    osc(server, "appcontainer", "start", "cli-1")
    wait_status(server, "cli-1", "Running")
    assert pod_phase(cluster, uuid) == ["Running"]

    listed = json.loads(osc(server, "appcontainer", "list", "-f", "json").stdout)
    assert any(c["uuid"] == uuid and c["status"] == "Running" for c in listed)

    osc(server, "appcontainer", "stop", "cli-1", "--timeout", "1")
    wait_status(server, "cli-1", "Stopped")
    osc(server, "appcontainer", "restart", "cli-1", "--timeout", "1")
    wait_status(server, "cli-1", "Running")
    assert "Running" in pod_phase(cluster, uuid)

    osc(server, "appcontainer", "set", "--name", "cli-2", "--memory", "128", "cli-1")
    renamed = show(server, "cli-2")
    assert renamed["memory"] == "128"

    osc(server, "appcontainer", "kill", "cli-2", "--signal", "SIGKILL")
    wait_status(server, "cli-2", "Stopped")
    osc(server, "appcontainer", "delete", "cli-2", "--wait")
    gone = osc(server, "appcontainer", "show", "cli-2", check=False)
    assert gone.returncode != 0 and "could not be found" in gone.stderr


def test_cli_action_log(server: Endpoint, cluster: Cluster) -> None:
    osc(server, "appcontainer", "run", "--name", "cli-log", "--wait", cluster.image, "sleep", "3600")
    uuid = show(server, "cli-log")["uuid"]
    osc(server, "appcontainer", "stop", "cli-log", "--timeout", "1")
    wait_status(server, "cli-log", "Stopped")
    # Behind the chart's Service, this list may reach the replica whose watch is a moment behind.
    deadline = time.monotonic() + 10
    actions: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        actions = json.loads(osc(server, "appcontainer", "action", "list", "cli-log", "-f", "json").stdout)
        if [a["action"] for a in actions] == ["stop", "create"]:
            break
        time.sleep(0.5)
    assert [a["action"] for a in actions] == ["stop", "create"], actions
    assert all(a["container_uuid"] == uuid and a["request_id"].startswith("req-") for a in actions), actions
    assert all(a["message"] is None and a["start_time"] for a in actions), actions
    stop = json.loads(
        osc(server, "appcontainer", "action", "show", "cli-log", actions[0]["request_id"], "-f", "json").stdout
    )
    assert stop["action"] == "stop" and stop["request_id"] == actions[0]["request_id"] and stop["finish_time"], stop
    assert [(e["event"], e["result"]) for e in stop["events"]] == [("compute__do_container_stop", "Success")], stop
    missing = osc(server, "appcontainer", "action", "show", "cli-log", "req-nope", check=False)
    assert missing.returncode != 0 and "The Action resource req-nope could not be found." in missing.stderr
    osc(server, "appcontainer", "delete", "cli-log", "--wait")


def test_cli_run_and_logs(server: Endpoint, cluster: Cluster) -> None:
    osc(server, "appcontainer", "run", "--name", "cli-run", "--wait", cluster.image, "sh", "-c", "echo from-cli; sleep 3600")
    running = show(server, "cli-run")
    assert running["status"] == "Running"
    deadline = time.monotonic() + 30
    logs = ""
    while "from-cli" not in logs and time.monotonic() < deadline:
        logs = osc(server, "appcontainer", "logs", "cli-run").stdout
        time.sleep(0.5)
    assert "from-cli" in logs
    osc(server, "appcontainer", "delete", "--stop", "cli-run", "--wait")


def test_python_api(server: Endpoint, cluster: Cluster) -> None:
    from zunclient import client

    zun = client.Client("1", endpoint_override=f"{server.url}/v1", auth_token=server.auth_token)
    assert "40" in str(zun.api_version)
    c = zun.containers.run(name="py-1", image=cluster.image, command=["sleep", "3600"])
    deadline = time.monotonic() + 60
    while zun.containers.get(c.uuid).status != "Running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert zun.containers.get(c.uuid).status == "Running"
    zun.containers.update(c.uuid, name="py-2")
    assert zun.containers.get("py-2").uuid == c.uuid
    # rename exists up to microversion 1.13 (PATCH replaces it after).
    old = client.Client("1.13", endpoint_override=f"{server.url}/v1", auth_token=server.auth_token)
    old.containers.rename(c.uuid, "py-3")
    assert zun.containers.get("py-3").uuid == c.uuid
    zun.containers.stop(c.uuid, timeout=1)

    def stopped() -> bool:
        # Stopped, and the stop task over: an action while a task runs is a 409 "busy" (README).
        shown = zun.containers.get(c.uuid)
        return bool(shown.status == "Stopped" and shown.task_state is None)

    while not stopped() and time.monotonic() < deadline + 30:
        time.sleep(0.3)
    assert stopped()
    zun.containers.delete(c.uuid)
    from zunclient.common.apiclient import exceptions

    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            zun.containers.get(c.uuid)
        except exceptions.NotFound:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("container was not deleted")


def test_cli_pause_and_unpause(server: Endpoint, cluster: Cluster) -> None:
    """`openstack appcontainer pause` freezes a counter for real (the node agent, a process here
    and the chart's DaemonSet against the Helm release): its log stops growing; `exec` gets Zun's
    answer; `unpause` and the count goes on from where it was."""
    name = f"pz-{int(time.time() * 1000) % 100000}"
    osc(server, "appcontainer", "run", "--name", name, cluster.image,
        "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.2; done")
    wait_status(server, name, "Running")
    deadline = time.monotonic() + 60
    while (paused := osc(server, "appcontainer", "pause", name, check=False)).returncode != 0:
        # Until the node's agent has announced itself (its Lease).
        assert "node agent" in paused.stderr and time.monotonic() < deadline, paused.stderr
        time.sleep(1)
    wait_status(server, name, "Paused")

    def count() -> list[int]:
        return [int(x) for x in osc(server, "appcontainer", "logs", name).stdout.split() if x.isdigit()]

    frozen = count()
    time.sleep(2)
    assert count() == frozen
    refused = osc(server, "appcontainer", "exec", name, "true", check=False)
    assert refused.returncode != 0 and "Paused state" in refused.stdout + refused.stderr
    osc(server, "appcontainer", "unpause", name)
    wait_status(server, name, "Running")
    time.sleep(1)
    after = count()
    assert after[: len(frozen)] == frozen and after[len(frozen)] == frozen[-1] + 1
    osc(server, "appcontainer", "delete", "--stop", name)


def test_cli_commit_then_run(server: Endpoint, cluster: Cluster) -> None:
    """`openstack appcontainer commit c repo:tag` (the node agent diffs the container and pushes
    the image to the cluster's registry), then `run repo:tag`: the file made in c is there, the
    file removed is not."""
    name = f"cz-{int(time.time() * 1000) % 100000}"
    repo = f"snap{name[3:]}"
    osc(server, "appcontainer", "run", "--name", name, cluster.image,
        "sh", "-c", "echo made > /made.txt; rm /bin/vi; sleep 3600")
    wait_status(server, name, "Running")
    deadline = time.monotonic() + 60
    # The CLI prints failures and exits 0 (zunclient.md): it is done when it prints the image's id.
    while "node agent" in (out := osc(server, "appcontainer", "commit", name, f"{repo}:v1")).stdout + out.stderr:
        assert time.monotonic() < deadline, out.stderr  # until the node's agent has announced itself
        time.sleep(1)
    assert re.search(r"[0-9a-f-]{36}", out.stdout), out.stdout + out.stderr
    while (shown := show(server, name))["task_state"] is not None:  # the commit goes on after the 202
        assert time.monotonic() < deadline + 60, shown
        time.sleep(0.5)
    check = f"{name}-check"
    osc(server, "appcontainer", "run", "--name", check, f"{repo}:v1", "sh", "-c", "cat /made.txt; ls /bin/vi || echo no-vi")
    wait_status(server, check, "Stopped")
    logs = osc(server, "appcontainer", "logs", check).stdout
    assert "made" in logs and "no-vi" in logs, logs
    for n in (name, check):
        osc(server, "appcontainer", "delete", "--stop", n)


def test_cli_mount_bind_injects_a_file(server: Endpoint, cluster: Cluster, tmp_path: Path) -> None:
    """`openstack appcontainer run --mount type=bind,source=<file>,destination=/etc/x`: the
    client sends the file's content, and the container reads it at /etc/x (and may write it)."""
    name = f"mz-{int(time.time() * 1000) % 100000}"
    local = tmp_path / "app.conf"
    local.write_text("setting = 42\n")
    osc(server, "appcontainer", "run", "--name", name, "--mount", f"type=bind,source={local},destination=/etc/x",
        cluster.image, "sh", "-c", "cat /etc/x; echo more >> /etc/x && echo writable; sleep 3600")
    wait_status(server, name, "Running")
    deadline = time.monotonic() + 30
    while "writable" not in (logs := osc(server, "appcontainer", "logs", name).stdout):
        assert time.monotonic() < deadline, logs
        time.sleep(0.5)
    assert "setting = 42" in logs
    assert "setting = 42" not in json.dumps(show(server, name))  # the content is never shown
    osc(server, "appcontainer", "delete", "--stop", name)


def test_cli_registry_then_run_a_private_image(server: Endpoint, cluster: Cluster) -> None:
    """`registry create` with the private registry's credentials, then `run --registry <it>`: the
    kubelet pulls with them; without it the pull is refused and the container says why. The
    password is in no output (nor in the server's log)."""
    name = f"rg-{int(time.time() * 1000) % 100000}"
    image = fresh_private_image(cluster)
    osc(server, "appcontainer", "run", "--name", f"{name}-bare", image, "sleep", "3600")
    bare = wait_status(server, f"{name}-bare", "Error", timeout=90)
    assert "401" in bare["status_reason"] or "authoriz" in bare["status_reason"].lower(), bare
    made = osc(server, "appcontainer", "registry", "create", "--name", name, "--domain", domain_of(cluster),
               "--username", cluster.private_user, "--password", cluster.private_password, "-f", "json")
    reg = json.loads(made.stdout)
    assert reg["password"] == "***" and reg["username"] == cluster.private_user, reg
    osc(server, "appcontainer", "run", "--name", name, "--registry", name, image.partition("/")[2], "sleep", "3600")
    running = wait_status(server, name, "Running", timeout=90)
    assert running["registry_id"] == reg["uuid"], running
    listed = osc(server, "appcontainer", "registry", "list", "-f", "json").stdout
    shown = osc(server, "appcontainer", "registry", "show", name, "-f", "json").stdout
    assert name in listed and json.loads(shown)["uuid"] == reg["uuid"]
    in_use = osc(server, "appcontainer", "registry", "delete", name)
    assert "since it is in use" in in_use.stdout + in_use.stderr, in_use
    for n in (name, f"{name}-bare"):
        osc(server, "appcontainer", "delete", "--stop", n)
    deadline = time.monotonic() + 60
    while name in osc(server, "appcontainer", "list", "-f", "value", "-c", "name").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    deleted = osc(server, "appcontainer", "registry", "delete", name)
    assert "has been accepted" in deleted.stdout, deleted
    everything = made.stdout + made.stderr + listed + shown + in_use.stdout + in_use.stderr
    assert cluster.private_password not in everything
    if isinstance(server, Server):
        assert cluster.private_password not in server.log.read_text()


def test_cli_capsule_create_list_show_delete(server: Endpoint, cluster: Cluster, tmp_path: Path) -> None:
    """`openstack capsule create --file template.yaml`: two containers sharing localhost (one
    serves on a port, the other reaches it), then list, show and delete; the Pod really has both."""
    name = f"cap-{int(time.time() * 1000) % 100000}"
    path = tmp_path / "template.yaml"
    path.write_text(f"""\
kind: capsule
metadata:
  name: {name}
spec:
  containers:
  - name: server
    image: {cluster.image}
    command: [sh, -c, "mkdir -p /www && echo served-by-{name} > /www/index.html && httpd -f -p 8080 -h /www"]
    ports:
    - containerPort: 8080
  - name: client
    image: {cluster.image}
    command: [sh, -c, "until wget -q -O - http://localhost:8080/; do sleep 0.5; done; sleep 3600"]
""")
    made = json.loads(osc(server, "capsule", "create", "--file", str(path), "-f", "json").stdout)
    assert made["status"] == "Creating" and made["name"] == name, made
    deadline = time.monotonic() + 90
    while (shown := json.loads(osc(server, "capsule", "show", name, "-f", "json").stdout))["status"] != "Running":
        assert time.monotonic() < deadline, shown
        time.sleep(1)
    assert shown["addresses"].startswith("10.88."), shown  # the client prints the IPs
    listed = json.loads(osc(server, "capsule", "list", "-f", "json").stdout)
    assert [c["name"] for c in listed if c["uuid"] == made["uuid"]] == [name], listed
    pods = json.loads(subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "get", "pods", "-A", "-l",
         f"zunk8s.openstack.org/capsule={made['uuid']}", "-o", "json"], check=True, capture_output=True, text=True).stdout)
    pod = pods["items"][0]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["server", "client"]
    while f"served-by-{name}" not in (logs := subprocess.run(
            [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "-n", pod["metadata"]["namespace"], "logs",
             pod["metadata"]["name"], "-c", "client"], capture_output=True, text=True).stdout):
        assert time.monotonic() < deadline, logs
        time.sleep(0.5)
    deleted = osc(server, "capsule", "delete", name)
    assert "has been accepted" in deleted.stdout, deleted
    while name in osc(server, "capsule", "list", "-f", "value", "-c", "name").stdout:
        assert time.monotonic() < deadline + 60
        time.sleep(0.5)


def test_cli_image_search(server: Endpoint, cluster: Cluster) -> None:
    """`openstack appcontainer image search <term>`: the repositories of zunk8s's registry whose
    name holds the term, with their tags (a member's right, by Zun's policy)."""
    token = f"es{int(time.time() * 1000) % 1000000}"
    base = cluster.commit_registry.partition("/")[2]
    push_tiny_image(cluster, f"{base}/shared-{token}", "v7")
    out = osc(server, "appcontainer", "image", "search", token, "-f", "json")
    found = json.loads(out.stdout)
    host = cluster.commit_registry.partition("/")[0]
    assert [(i["Name"], i["Tags"]) for i in found] == [(f"{host}/{base}/shared-{token}", ["v7"])], found


def test_cli_stats(server: Endpoint, cluster: Cluster) -> None:
    """`openstack appcontainer stats` shows Zun's seven keys, measured by the node agent (a process
    here, the chart's DaemonSet against the Helm release)."""
    name = f"st-{int(time.time() * 1000) % 100000}"
    osc(server, "appcontainer", "run", "--name", name, "--memory", "128", cluster.image,
        # (zunclient wraps each argument in "; the loop keeps the shell: a last `sleep` would replace it)
        "sh", "-c", "x=$(head -c 30000000 /dev/zero | tr '\\0' a); while :; do sleep 3600; done")
    wait_status(server, name, "Running")
    deadline = time.monotonic() + 60
    while True:
        shown = osc(server, "appcontainer", "stats", name, "-f", "json", check=False)
        # Until the node's agent has announced itself (its Lease) and the 30 MB string is built.
        assert shown.returncode == 0 or "node agent" in shown.stderr, shown.stderr
        view = json.loads(shown.stdout) if shown.returncode == 0 else {}
        if view.get("MEM USAGE(MiB)", 0) > 28 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert set(view) == {"CONTAINER", "CPU %", "MEM USAGE(MiB)", "MEM LIMIT(MiB)", "MEM %", "BLOCK I/O(B)", "NET I/O(B)"}
    assert view["CONTAINER"] == name and view["MEM LIMIT(MiB)"] == 128.0, view
    assert 28 < view["MEM USAGE(MiB)"] < 128 and isinstance(view["CPU %"], float), (view, show(server, name)["command"])
    assert all("/" in view[k] for k in ("BLOCK I/O(B)", "NET I/O(B)")), view
    osc(server, "appcontainer", "delete", "--stop", name)
