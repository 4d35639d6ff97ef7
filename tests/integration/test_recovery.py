"""Crash recovery: kill -9 zunk8s in the middle of 20 concurrent creates, start it again,
and every container ends Running or Error with a reason; no Pod is left without a record."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import Cluster
from tests.serverproc import start_server

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAST_RECOVERY = {"ZUNK8S_RECOVERY_AFTER": "2", "ZUNK8S_SWEEP_INTERVAL": "1", "ZUNK8S_LOCK_TTL": "3"}
HEADERS = {"OpenStack-API-Version": "container 1.40", "Content-Type": "application/json"}


async def _create(session: aiohttp.ClientSession, url: str, image: str, i: int) -> str | None:
    body = {"image": image, "name": f"crash-{i}", "command": ["sleep", "3600"]}
    try:
        async with session.post(f"{url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
            if r.status == 202:
                return str((await r.json())["uuid"])
    except aiohttp.ClientError:
        pass  # the server died under us
    return None


def _kubectl_json(cluster: Cluster, *args: str) -> Any:
    out = subprocess.run(
        [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, *args, "-o", "json"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


async def test_kill_9_during_concurrent_creates(cluster: Cluster, tmp_path: Path) -> None:
    prefix = f"zr{secrets.token_hex(3)}-"
    project = "crash"
    namespace = f"{prefix}{project}"
    log = tmp_path / "server.log"
    first = start_server(cluster, project=project, prefix=prefix, log=log, extra_env=FAST_RECOVERY)
    accepted: list[str] = []
    try:
        async with aiohttp.ClientSession() as session:
            creates = [asyncio.create_task(_create(session, first.url, cluster.image, i)) for i in range(20)]
            # Let some creates through, then kill the server while the rest are in flight.
            while sum(1 for t in creates if t.done()) < 5:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.05)  # some background Pod creations are now in flight
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
            results = await asyncio.gather(*creates)
        accepted = [u for u in results if u]
        # Whether or not the last HTTP answers got out, the background work (Pod creations and
        # status writes) of the accepted creates was cut short by the kill.
        assert accepted

        second = start_server(cluster, project=project, prefix=prefix, log=log, extra_env=FAST_RECOVERY)
        try:
            deadline = time.monotonic() + 120
            settled: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                async with aiohttp.ClientSession() as session:
                    async with session.get(f"{second.url}/v1/containers", headers=HEADERS) as r:
                        containers = (await r.json())["containers"]
                settled = [
                    c for c in containers
                    if c["task_state"] is None
                    and (c["status"] == "Running" or (c["status"] == "Error" and c["status_reason"]))
                ]
                if len(settled) == len(containers) and {c["uuid"] for c in containers} >= set(accepted):
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError(
                    f"not settled: {[(c['name'], c['status'], c['task_state']) for c in containers]}; log {log}"
                )
            # Every record that exists is settled, and includes all 202-accepted creates.
            assert {c["uuid"] for c in settled} >= set(accepted)
            # No orphans: every Pod belongs to a record and is that record's current Pod.
            records = {c["uuid"] for c in settled}
            pods = _kubectl_json(cluster, "get", "pods", "-n", namespace)["items"]
            for pod in pods:
                assert pod["metadata"]["labels"]["zunk8s.openstack.org/uuid"] in records
            crs = _kubectl_json(cluster, "get", "zuncontainers", "-n", namespace)["items"]
            current = {cr["status"].get("pod") for cr in crs}
            live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
            assert {p["metadata"]["name"] for p in live} <= current
            # A Pod the dead server had made is adopted (Running); a create it never got to
            # ends in Error saying why.
            for c in settled:
                if c["status"] == "Error":
                    assert "zunk8s stopped while creating" in c["status_reason"], (c["status_reason"], c["status"])
                else:
                    assert any(p["metadata"]["labels"]["zunk8s.openstack.org/uuid"] == c["uuid"] for p in live), (
                        c, [(p["metadata"]["name"], p["metadata"].get("deletionTimestamp"), p["status"].get("phase")) for p in pods]
                    )
            print("recovered:", sorted(c["status"] for c in settled))
        finally:
            second.process.terminate()
            second.process.wait(timeout=30)
    finally:
        if first.process.poll() is None:
            first.process.kill()
        subprocess.run(
            [cluster.kubectl, "--kubeconfig", cluster.kubeconfig, "delete", "ns", namespace, "--wait=false"],
            capture_output=True, check=False,
        )
