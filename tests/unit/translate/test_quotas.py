"""Zun's quotas on Kubernetes (zunk8s/translate/quotas.py)."""

from typing import Any

import pytest

from zunk8s.records import Record
from zunk8s.translate import quotas as Q

DEFAULTS = {"containers": 40, "memory": 51200, "disk": 100, "cpu": 20}


def record(**fields: Any) -> Record:
    return Record.model_validate({"uuid": "u", "name": "n", "project_id": "p", "user_id": "x", "image": "i",
                                  "created_at": "t", **fields})


def test_updates_as_zuns_schema_takes_them() -> None:
    assert Q.check_update({}) == {}
    assert Q.check_update({"containers": "2", "cpu": -1, "memory": 10}) == {"containers": 2, "cpu": -1, "memory": 10}
    for body, words in [({"containers": -2}, "minimum of -1"), ({"cpu": "1.5"}, "does not match"),
                        ({"disk": True}, "'integer', 'string'"), ({"x": 1}, "('x' was unexpected)"),
                        ([], "not of type 'object'"), ({"cpu": "9" * 13}, "does not match")]:
        with pytest.raises(Q.BadQuota, match=words):
            Q.check_update(body)


def test_limits_resolve_resource_by_resource() -> None:
    assert Q.resolve(DEFAULTS, project=None, default_class={}) == DEFAULTS
    assert Q.resolve(DEFAULTS, project={"containers": 2}, default_class={"containers": 5, "cpu": 4}) == {
        "containers": 2, "memory": 51200, "disk": 100, "cpu": 4}


def test_usage_counts_every_container_as_zun_does() -> None:
    used = Q.usage([record(cpu=0.5, memory="512", disk=1), record(cpu=0.25, memory=None), record()])
    assert used == {"containers": 3, "cpu": 1.75, "memory": 1024, "disk": 1}


def test_over_is_strictly_past_the_limit_and_sorted() -> None:
    limits = {"containers": 2, "memory": 1024, "disk": -1, "cpu": 1}
    used = {"containers": 1, "memory": 512, "disk": 500, "cpu": 0.5}
    assert Q.over(limits, used, {"containers": 1, "memory": 512, "disk": 10, "cpu": 0.5}) == []
    assert Q.over(limits, used, {"containers": 2, "memory": 513, "disk": 10, "cpu": 0.6}) == ["containers", "cpu", "memory"]
    assert Q.over_message(["cpu", "memory"]) == "Quota exceeded for resources: ['cpu', 'memory']"


def test_the_resource_quota_enforces_what_kubernetes_can() -> None:
    rq = Q.resource_quota("ns", {"containers": 3, "memory": 2048, "cpu": -1, "disk": 5}, labels={"l": "v"})
    assert rq["spec"]["hard"] == {Q.COUNT_KEY: "3", "limits.memory": "2048Mi"}
    assert Q.project_limits(rq) == {"containers": 3, "memory": 2048, "cpu": -1, "disk": 5}
    assert Q.project_limits(None) is None
    assert Q.project_limits({"metadata": {"annotations": {Q.LIMITS_ANNOTATION: "not json"}}}) == {}


def test_classes_and_views() -> None:
    cm = Q.classes_body("sys", {"default": {"containers": 1}, "gold": {"cpu": 64}}, labels={})
    assert Q.class_limits(cm, "gold") == {"cpu": 64} and Q.class_limits(cm, "none") == {}
    assert Q.class_view(DEFAULTS, {"cpu": 64}) == {**DEFAULTS, "cpu": 64}
    assert list(Q.quota_view(DEFAULTS, None)) == ["containers", "memory", "disk", "cpu"]
    assert Q.quota_view(DEFAULTS, {"containers": 1, "memory": 0, "disk": 0, "cpu": 0.0})["containers"] == {
        "limit": 40, "in_use": 1}
