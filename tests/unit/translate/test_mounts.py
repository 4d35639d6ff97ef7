"""create's mounts on Kubernetes (zunk8s/translate/mounts.py)."""

import base64

import pytest

from zunk8s.records import Record
from zunk8s.translate import mounts

OWNER = {"apiVersion": "zunk8s.openstack.org/v1alpha1", "kind": "ZunContainer", "name": "u", "uid": "x"}


def record(m: list[dict[str, object]]) -> Record:
    return Record.model_validate({"uuid": "u", "name": "n", "project_id": "p", "user_id": "x", "image": "i",
                                  "created_at": "t", "mounts": mounts.check_mounts(m)})


def test_mounts_as_the_record_keeps_them() -> None:
    src = base64.b64encode(b"hello").decode()
    assert mounts.check_mounts([
        {"type": "bind", "source": src, "destination": "/etc//x/"},
        {"source": "data", "destination": "/data"},
        {"type": "volume", "size": "2", "destination": "/scratch"},
    ]) == [
        {"type": "bind", "destination": "/etc/x", "source": src},
        {"type": "volume", "destination": "/data", "source": "data"},
        {"type": "volume", "destination": "/scratch", "size": 2},
    ]


@pytest.mark.parametrize("m,why", [
    ({"type": "bind", "source": "!!", "destination": "/x"}, "base64"),
    ({"type": "bind", "source": "aGk=", "destination": "x"}, "absolute"),
    ({"type": "bind", "source": "aGk=", "destination": "/"}, "runtime mounts"),
    ({"type": "bind", "source": "aGk=", "destination": "/dev/shm/x"}, "runtime mounts"),
    ({"type": "bind", "source": "aGk=", "destination": "/x", "size": 1}, "'size' is for type 'volume'"),
    ({"type": "tmpfs", "source": "x", "destination": "/x"}, "Invalid mount type"),
    ({"source": "x", "size": 1, "destination": "/x"}, "not both"),
    ({"source": "Bad_Name", "destination": "/x"}, "PersistentVolumeClaim"),
    ({"size": 0, "destination": "/x"}, "at least 1"),
    ({"size": True, "destination": "/x"}, "whole number"),
    ({"size": 10**40, "destination": "/x"}, "at most"),
])
def test_bad_mounts(m: dict[str, object], why: str) -> None:
    with pytest.raises(mounts.BadMount, match=why):
        mounts.check_mounts([m])


def test_two_mounts_at_one_place_are_refused() -> None:
    with pytest.raises(mounts.BadMount, match="Two mounts"):
        mounts.check_mounts([{"source": "a", "destination": "/d"}, {"size": 1, "destination": "/d/"}])


def test_injected_files_come_from_a_secret_through_an_init_copy() -> None:
    r = record([{"type": "bind", "source": "aGk=", "destination": "/etc/a"},
                {"source": "data", "destination": "/data"},
                {"type": "bind", "source": "Ynll", "destination": "/b"}])
    secret = mounts.files_secret(r, "ns", labels={"l": "v"}, owner=OWNER)
    assert secret is not None and secret["data"] == {"f0": "aGk=", "f1": "Ynll"} and secret["immutable"] is True
    volumes, vmounts, init = mounts.pod_parts(r, helper_image="helper:1")
    assert {"name": "zun-v1", "persistentVolumeClaim": {"claimName": "data"}} in volumes
    assert {"name": "zun-files", "mountPath": "/etc/a", "subPath": "f0"} in vmounts
    assert {"name": "zun-files", "mountPath": "/b", "subPath": "f1"} in vmounts
    assert {"name": "zun-v1", "mountPath": "/data"} in vmounts
    (copy,) = init
    assert copy["image"] == "helper:1" and "aGk=" not in str(copy) and "/etc/a" not in str(copy)
    assert mounts.new_claims(r, "ns", labels={}, owner=OWNER) == []


def test_a_size_makes_a_claim_the_record_owns() -> None:
    r = record([{"size": 3, "destination": "/s"}])
    (claim,) = mounts.new_claims(r, "ns", labels={"l": "v"}, owner=OWNER)
    assert claim["metadata"]["name"] == "zun-u-v0" and claim["metadata"]["ownerReferences"] == [OWNER]
    assert claim["spec"]["resources"]["requests"]["storage"] == "3Gi"
    assert mounts.files_secret(r, "ns", labels={}, owner=OWNER) is None
    volumes, vmounts, init = mounts.pod_parts(r, helper_image="")
    assert volumes == [{"name": "zun-v0", "persistentVolumeClaim": {"claimName": "zun-u-v0"}}] and init == []
