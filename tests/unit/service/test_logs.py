"""Logs over a stand-in for the gateway (our own interface): what is read, saved and joined."""

from typing import Any, cast

import pytest

from zunk8s.kube.errors import KubeNotFound, KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.records import Record, RecordStatus
from zunk8s.service.logs import Logs
from zunk8s.service.registry import Entry
from zunk8s.translate.logtext import LogsQuery
from zunk8s.translate.names import CONTAINER_NAME
from zunk8s.translate.objects import log_archive_data


class StubGateway:
    instance = "i-1"

    def __init__(
        self, *, live: bytes | Exception = b"", saved: bytes | None = None, pod: dict[str, Any] | None = None
    ) -> None:
        self.live = live
        self.saved = saved
        self.pod = pod
        self.log_calls: list[dict[str, Any]] = []
        self.bodies: list[dict[str, Any]] = []

    async def read_logs(self, namespace: str, pod: str, **kwargs: Any) -> bytes:
        self.log_calls.append(kwargs)
        if isinstance(self.live, Exception):
            raise self.live
        return self.live

    async def read_log_archive(self, namespace: str, name: str) -> bytes | None:
        assert name == "zun-logs-u-1"
        return self.saved

    async def save_log_archive(self, body: dict[str, Any]) -> None:
        self.bodies.append(body)

    def cached_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.pod


def _entry(*, logs_saved: bool, pod: str | None = "pod-1") -> Entry:
    record = Record.model_validate(
        {"uuid": "u-1", "name": "c", "project_id": "p", "user_id": "u", "image": "i", "created_at": "2026-11-27 00:00:00.000000"}
    )
    status = RecordStatus(status="Running", pod=pod, logs_saved=logs_saved)
    return Entry(record=record, status=status, namespace="ns", uid="uid-1", resource_version="1", has_status=True)


def _logs(gw: StubGateway) -> Logs:
    return Logs(cast(KubeGateway, gw))


async def test_archive_appends_to_the_saved_runs() -> None:
    gw = StubGateway(live=b"2026-11-27T00:00:02Z two\n", saved=b"2026-11-27T00:00:01Z one")
    assert await _logs(gw).archive(_entry(logs_saved=True), "pod-1") is True
    (body,) = gw.bodies
    assert log_archive_data(body) == b"2026-11-27T00:00:01Z one\n2026-11-27T00:00:02Z two\n"
    assert body["metadata"]["name"] == "zun-logs-u-1" and body["metadata"]["namespace"] == "ns"
    assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert gw.log_calls == [
        {"container": CONTAINER_NAME, "tail": None, "since_seconds": None, "timestamps": True, "limit_bytes": 1000 * 1000}
    ]


@pytest.mark.parametrize("live", [b"", KubeNotFound("gone")])
async def test_archive_saves_nothing_without_logs(live: bytes | Exception) -> None:
    gw = StubGateway(live=live)
    assert await _logs(gw).archive(_entry(logs_saved=False), "pod-1") is False
    assert gw.bodies == []


async def test_read_live_only_passes_the_query_through() -> None:
    gw = StubGateway(live=b"out\n", pod={"metadata": {}})
    query = LogsQuery(tail=3, since_seconds=10, timestamps=False, stream="Stderr")
    assert await _logs(gw).read(_entry(logs_saved=False), query) == b"out\n"
    assert gw.log_calls[0]["tail"] == 3 and gw.log_calls[0]["stream"] == "Stderr"


async def test_read_waiting_container_has_no_logs() -> None:
    gw = StubGateway(live=KubeRejected("waiting", http_status=400, reason="BadRequest"), pod={"metadata": {}})
    assert await _logs(gw).read(_entry(logs_saved=False), LogsQuery(None, None, False)) == b""


async def test_read_joins_saved_and_live_runs() -> None:
    gw = StubGateway(live=b"2026-11-27T00:00:02Z two\n", saved=b"2026-11-27T00:00:01Z one", pod={"metadata": {}})
    assert await _logs(gw).read(_entry(logs_saved=True), LogsQuery(None, None, False)) == b"one\ntwo\n"
    assert gw.log_calls[0]["timestamps"] is True and gw.log_calls[0]["tail"] is None
    # A Pod being deleted had its logs saved already: not read twice.
    deleting = StubGateway(live=b"never\n", saved=b"2026-11-27T00:00:01Z one\n", pod={"metadata": {"deletionTimestamp": "x"}})
    assert await _logs(deleting).read(_entry(logs_saved=True), LogsQuery(1, None, True)) == b"2026-11-27T00:00:01Z one\n"
    assert deleting.log_calls == []
