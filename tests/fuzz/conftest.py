"""The fuzzed zunk8s app (one per test module, so its log tap and Pods are gone before other
tests run): its own namespace prefix on the real local cluster and Redis, the
target containers, and the recorder that judges every answer.

Knobs (environment):
- ZUNK8S_FUZZ_EXAMPLES=N  examples per test (default: each test's small CI budget)
- ZUNK8S_FUZZ_SEED=N      random generation from this seed (default: derandomized, same every run)
- ZUNK8S_FUZZ_REPORT=FILE record every distinct failure to FILE (JSON) and go on, instead of
                          stopping at the first one; the module then fails if anything was found
- ZUNK8S_FUZZ_TIMEOUT=S   seconds one request may take before it counts as a hang (30)
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.fuzz.harness import Recorder, Req, Resp, Targets
from tests.integration.conftest import make_settings
from tests.serverproc import delete_namespaces
from zunk8s.app import create_app


@dataclass
class FuzzAPI:
    client: TestClient[Any, Any]
    recorder: Recorder
    targets: Targets

    async def exchange(self, req: Req) -> Resp:
        return await self.recorder.exchange(self.client, req)


@pytest.fixture(scope="module")
def fuzz_prefix(cluster: Cluster) -> Iterator[str]:
    prefix = f"zf{secrets.token_hex(3)}-"
    yield prefix
    delete_namespaces(cluster, prefix)


@pytest.fixture(scope="module")
def fuzz_recorder() -> Iterator[Recorder]:
    report = os.environ.get("ZUNK8S_FUZZ_REPORT")
    recorder = Recorder(Path(report) if report else None)
    recorder.tap.install()
    try:
        yield recorder
    finally:
        recorder.tap.uninstall()
    recorder.drain_background()
    recorder.write_report()
    if recorder.background:
        warnings.warn(
            f"fuzz: {len(recorder.background)} background task failures logged, e.g. {recorder.background[0]}",
            stacklevel=1,
        )
    if recorder.findings:
        pytest.fail(
            f"fuzz: {len(recorder.findings)} distinct failures in {recorder.requests} requests, see {report}:\n"
            + "\n".join(f"  {n}x {s}" for s, n in sorted(recorder.counts.items(), key=lambda kv: -kv[1]))
        )


@pytest.fixture(scope="module")
async def fuzz_api(cluster: Cluster, fuzz_prefix: str, fuzz_recorder: Recorder) -> AsyncIterator[FuzzAPI]:
    settings = make_settings(cluster, fuzz_prefix).model_copy(
        # Below the fuzzer's hang timeout, so a slow exec or archive answers instead of hanging.
        update={"exec_timeout": 10.0, "archive_timeout": 20.0}
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        targets = Targets(client, cluster.image)
        await targets.wait_ready(timeout=120)
        yield FuzzAPI(client, fuzz_recorder, targets)
