"""SIGTERM: a request in flight (a long exec) still gets its answer, the process exits within
the shutdown bound, and nothing answers 500."""

from __future__ import annotations

import json
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.serverproc import delete_namespaces, start_server

pytestmark = pytest.mark.e2e
HEADERS = {"OpenStack-API-Version": "container 1.40", "Content-Type": "application/json"}
BOUND = 15.0


def call(url: str, method: str = "GET", body: Any = None, timeout: float = 60) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_sigterm_lets_a_long_exec_finish(cluster: Cluster, tmp_path: Any) -> None:
    prefix = f"zg{secrets.token_hex(3)}-"
    srv = start_server(
        cluster, project="shutdown", prefix=prefix, log=tmp_path / "server.log",
        extra_env={"ZUNK8S_SHUTDOWN_TIMEOUT": str(BOUND)},
    )
    try:
        status, made = call(f"{srv.url}/v1/containers?run=true", "POST", {"image": cluster.image, "command": ["sleep", "3600"]})
        assert status == 202, made
        deadline = time.monotonic() + 60
        while call(f"{srv.url}/v1/containers/{made['uuid']}")[1]["status"] != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        answer: dict[str, Any] = {}

        def exec_long() -> None:
            cmd = urllib.parse.quote("sh -c 'sleep 3; echo finished'")
            answer["result"] = call(f"{srv.url}/v1/containers/{made['uuid']}/execute?command={cmd}&run=true", "POST")

        worker = threading.Thread(target=exec_long)
        worker.start()
        time.sleep(1.0)
        srv.process.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        srv.process.wait(timeout=BOUND + 10)
        took = time.monotonic() - t0
        worker.join(timeout=10)
        assert answer["result"][0] == 200, answer
        assert answer["result"][1]["output"] == "finished\n" and answer["result"][1]["exit_code"] == 0
        assert took < BOUND + 5, took
        assert srv.process.returncode == 0
    finally:
        if srv.process.poll() is None:
            srv.process.kill()
        delete_namespaces(cluster, prefix)
