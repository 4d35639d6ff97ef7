"""Capsule templates as Zun's schema checks them (zunk8s/schemas/capsules.py)."""

import json
from typing import Any

import pytest

from zunk8s.errors import SchemaValidationError
from zunk8s.schemas.capsules import check_body


def body(**spec: Any) -> dict[str, Any]:
    return {"template": {"kind": "capsule", "metadata": {"name": "demo"},
                         "spec": {"containers": [{"image": "busybox"}], **spec}}}


def test_a_template_as_zun_reads_it() -> None:
    t = check_body(body(restartPolicy="OnFailure", initContainers=[{"image": "busybox", "command": ["true"]}],
                        containers=[{"image": "nginx", "name": "web", "args": ["-g"], "env": {"A": "1"},
                                     "resources": {"requests": {"cpu": "0.5", "memory": 128}},
                                     "ports": [{"containerPort": "80"}],
                                     "volumeMounts": [{"name": "data", "mountPath": "/d", "readOnly": "true"}]}],
                        volumes=[{"name": "data", "cinder": {"size": 1, "autoRemove": True}}]))
    c = t.containers[0]
    assert (c.name, c.cpu, c.memory, c.environment, c.ports[0].port) == ("web", 0.5, "128", {"A": "1"}, 80)
    assert c.mounts[0].read_only and t.restart_policy == "on-failure" and t.volumes[0].size == 1
    # Zun takes the template as a JSON string too, and the deprecated top-level restartPolicy.
    s = body()
    s["template"]["restartPolicy"] = "Never"
    assert check_body({"template": json.dumps(s["template"])}).restart_policy == "no"


@pytest.mark.parametrize(("b", "words"), [
    ({}, "'template' is a required"),
    ({"template": {}, "nets": []}, "'nets' was unexpected"),
    (body(containers=[]), "one container at least"),
    (body(containers=[{"image": "b1", "livenessProbe": {}}]), "'livenessProbe' was unexpected"),
    (body(containers=[{"image": "b1", "resources": {"requests": {"cpu": 100}}}]), "maximum"),
    (body(containers=[{"image": "b1", "ports": [{"containerPort": 70000}]}]), "port number"),
    (body(containers=[{"image": "b1", "env": {"PASSWORD": 5}}]), "map strings to strings"),
    (body(volumes=[{"name": "v1", "cinder": {"size": 1}}]), "volume mount parameters is invalid"),
    (body(containers=[{"image": "b1", "volumeMounts": [{"name": "v2", "mountPath": "/x"}]}]), "do not declare"),
    (body(dnsPolicy="None"), "not 'dnsPolicy'"),
])
def test_bad_templates(b: dict[str, Any], words: str) -> None:
    with pytest.raises(SchemaValidationError, match=words):
        check_body(b)


def test_an_environment_value_is_never_echoed() -> None:
    with pytest.raises(SchemaValidationError) as e:
        check_body(body(containers=[{"image": "b1", "env": {"TOKEN": ["s3cr3t-value"]}}]))
    assert "s3cr3t-value" not in str(e.value)
