"""Golden bodies of the Kubernetes objects zunk8s creates besides Pods (translate/objects.py)."""

from __future__ import annotations

from zunk8s.translate.objects import (
    log_archive_configmap,
    log_archive_data,
    merge_patch,
    namespace_body,
    record_body,
    record_owner,
)


def test_namespace_body() -> None:
    assert namespace_body("zun-p1", project_id="P 1", project_hash="abc", instance="inst-1") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "zun-p1",
            "labels": {
                "app.kubernetes.io/managed-by": "zunk8s",
                "zunk8s.openstack.org/instance": "inst-1",
                "zunk8s.openstack.org/project": "abc",
            },
            "annotations": {"zunk8s.openstack.org/project-id": "P 1"},
        },
    }


def test_record_body() -> None:
    assert record_body("ns", "u-1", spec={"name": "web"}, labels={"a": "b"}) == {
        "apiVersion": "zunk8s.openstack.org/v1alpha1",
        "kind": "ZunContainer",
        "metadata": {"name": "u-1", "namespace": "ns", "labels": {"a": "b"}},
        "spec": {"name": "web"},
    }


def test_record_owner() -> None:
    assert record_owner("u-1", "uid-9") == {
        "apiVersion": "zunk8s.openstack.org/v1alpha1",
        "kind": "ZunContainer",
        "name": "u-1",
        "uid": "uid-9",
        "controller": True,
        "blockOwnerDeletion": False,
    }


def test_log_archive_configmap_round_trips_binary_logs() -> None:
    data = b"line 1\n\xff\xfe not utf-8\n"
    body = log_archive_configmap("ns", "zun-logs-u", data=data, owner={"name": "u"}, labels={"l": "v"})
    assert body == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "zun-logs-u", "namespace": "ns", "labels": {"l": "v"}, "ownerReferences": [{"name": "u"}]},
        "binaryData": {"log": "bGluZSAxCv/+IG5vdCB1dGYtOAo="},
    }
    assert log_archive_data(body) == data
    assert log_archive_data({"binaryData": {}}) == b""


def test_merge_patch() -> None:
    assert merge_patch(status={"status": "Stopped"}) == {"status": {"status": "Stopped"}}
    assert merge_patch(status={"x": 1}, resource_version="42") == {
        "status": {"x": 1},
        "metadata": {"resourceVersion": "42"},
    }
    assert merge_patch(spec={"name": "n"}, labels={"k": None}) == {
        "spec": {"name": "n"},
        "metadata": {"labels": {"k": None}},
    }
