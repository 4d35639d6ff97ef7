"""The unmodified `openstack appcontainer` CLI and python-zunclient against zunk8s (noauth, or a static token in the Helm-installed target)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.serverproc import Endpoint

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
