"""Replicas' heartbeats as Zun's service list (golden), and when a service is up."""

from __future__ import annotations

from datetime import datetime, timezone

from zunk8s.translate.replicas import Heartbeat, parse_heartbeats, service_views

T0 = datetime(2026, 12, 2, 6, 0, 0, tzinfo=timezone.utc).timestamp()


def test_each_replica_is_a_zun_api_and_a_zun_compute() -> None:
    beats = {
        "b2": Heartbeat(host="zunk8s-2", started_at=T0 + 60, seen_at=T0 + 95.5, report_count=4, compute_seen_at=T0 + 95.5),
        "a1": Heartbeat(host="zunk8s-1", started_at=T0, seen_at=T0 + 100, report_count=11, compute_seen_at=T0 + 100),
    }
    views = service_views(beats, now=T0 + 101, down_after=30)
    assert views[0] == {
        "availability_zone": "nova",
        "binary": "zun-api",
        "created_at": "2026-12-02T06:00:00.000000",
        "disabled": False,
        "disabled_reason": None,
        "forced_down": False,
        "host": "zunk8s-1",
        "id": 1,
        "last_seen_up": "2026-12-02T06:01:40.000000",
        "report_count": 11,
        "state": "up",
        "updated_at": "2026-12-02T06:01:40.000000",
    }
    assert [(v["id"], v["host"], v["binary"], v["state"]) for v in views] == [
        (1, "zunk8s-1", "zun-api", "up"),
        (2, "zunk8s-1", "zun-compute", "up"),  # the oldest replica first
        (3, "zunk8s-2", "zun-api", "up"),
        (4, "zunk8s-2", "zun-compute", "up"),
    ]
    assert views[3]["updated_at"] == "2026-12-02T06:01:35.500000"


def test_a_silent_replica_is_down_and_compute_without_kubernetes_too() -> None:
    beats = {
        "old": Heartbeat(host="gone", started_at=T0, seen_at=T0, report_count=1, compute_seen_at=T0),
        "cut": Heartbeat(host="cut-off", started_at=T0, seen_at=T0 + 100, report_count=9, compute_seen_at=T0 + 40),
        "new": Heartbeat(host="fresh", started_at=T0 + 99, seen_at=T0 + 99, report_count=1, compute_seen_at=None),
    }
    views = service_views(beats, now=T0 + 100, down_after=30)
    state = {(v["host"], v["binary"]): (v["state"], v["last_seen_up"]) for v in views}
    assert state[("gone", "zun-api")] == ("down", "2026-12-02T06:00:00.000000")
    assert state[("gone", "zun-compute")][0] == "down"
    # Still answering, but it has not reached Kubernetes for 60 s: its compute is down.
    assert state[("cut-off", "zun-api")][0] == "up"
    assert state[("cut-off", "zun-compute")] == ("down", "2026-12-02T06:00:40.000000")
    assert state[("fresh", "zun-compute")] == ("down", None)
    # The boundary: seen exactly down_after ago is still up (Zun: elapsed <= service_down_time).
    assert service_views({"x": beats["old"]}, now=T0 + 30, down_after=30)[0]["state"] == "up"


def test_members_that_are_no_heartbeats_are_skipped() -> None:
    good = Heartbeat(host="h", started_at=T0, seen_at=T0, report_count=1, compute_seen_at=None)
    parsed = parse_heartbeats({"a": good.model_dump(), "b": {"host": "h"}, "c": {**good.model_dump(), "future": 1}})
    assert parsed == {"a": good, "c": good}
