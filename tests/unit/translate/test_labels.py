"""Labels: which user labels Kubernetes takes, and the installation's instance label."""

import json

from zunk8s.translate import labels as L


def test_label_validity() -> None:
    assert L.is_valid_label_key("app")
    assert L.is_valid_label_key("example.com/app")
    assert not L.is_valid_label_key("bad key")
    assert not L.is_valid_label_key("kubernetes.io/x")
    assert not L.is_valid_label_key(f"{L.PREFIX}/uuid")
    assert L.is_valid_label_value("")
    assert not L.is_valid_label_value("x" * 64)
    valid, annotation = L.split_user_labels({"ok": "v", "no way": "v"})
    assert valid == {"ok": "v"}
    assert annotation is not None and json.loads(annotation) == {"ok": "v", "no way": "v"}


def test_instance_names() -> None:
    assert L.instance_for("zun-").startswith("zun-")
    assert L.instance_for("zt1a2b3c-").startswith("zt1a2b3c-")
    # Prefixes that read alike once label-safe still name different installations (#13 class 9).
    for a, b in (("rel-", "rel"), ("zun-", "zun"), ("a b/c-", "a-b-c"), ("x.", "x-")):
        assert L.instance_for(a) != L.instance_for(b)
    for prefix in ("", "-", "zun-", "a" * 200, "Ünïcode-", "a b/c-"):
        value = L.instance_for(prefix)
        assert L.is_valid_label_value(value) and value, prefix
        assert L.instance_for(prefix) == value  # stable across restarts
    assert L.managed_selector("zun") == "app.kubernetes.io/managed-by=zunk8s,zunk8s.openstack.org/instance=zun"
