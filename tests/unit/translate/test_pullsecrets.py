"""Zun's registries as a ZunRegistry and its pull Secret (zunk8s/translate/pullsecrets.py)."""

import base64
import json
from typing import Any

import pytest

from zunk8s.translate import pullsecrets as P


def registry(**fields: str) -> dict[str, Any]:
    obj = P.registry_object(namespace="ns", uuid="u1", fields={"domain": "r.io", **fields}, project_id="p",
                            user_id="u", labels={"l": "v"}, created="2026-01-01 00:00:00")
    obj["metadata"].update(uid="uid-1", resourceVersion="7")
    return obj


def auths(data: dict[str, str]) -> Any:
    return json.loads(base64.b64decode(data[P.DATA_KEY]))["auths"]


def test_bodies_as_zuns_schema_takes_them() -> None:
    assert P.check_body({"registry": {"domain": "r.io"}}, create=True) == {"domain": "r.io"}
    assert P.check_body({"registry": {}}, create=False) == {}
    for body, words in [({}, "'registry' is a required"), ({"registry": {}, "x": 1}, "'x' was unexpected"),
                        ({"registry": {"name": "n1"}}, "'domain' is a required"),
                        ({"registry": {"domain": "r.io", "email": "e"}}, "'email' was unexpected"),
                        ({"registry": {"domain": "http://r.io"}}, "without a scheme"),
                        ({"registry": {"domain": "r.io", "name": "a"}}, "field 'name'"),
                        ({"registry": {"domain": "r.io", "username": None}}, "not of type 'string'"),
                        ({"registry": {"domain": "r.io", "password": "pw"}}, "A password needs a username"),
                        ({"registry": []}, "not of type 'object'"), ([], "JSON object")]:
        with pytest.raises(P.BadRegistry, match=words):
            P.check_body(body, create=True)


@pytest.mark.parametrize("password", ["", "p" * 256, 12345678])
def test_a_bad_password_is_never_echoed(password: object) -> None:
    with pytest.raises(P.BadRegistry) as e:
        P.check_body({"registry": {"domain": "r.io", "username": "u", "password": password}}, create=True)
    assert password == "" or str(password) not in str(e.value)


def test_the_secret_keys_the_credentials_by_domain_and_is_owned() -> None:
    reg = registry(name="n1", username="alice")
    assert "password" not in json.dumps(reg["spec"]).replace("has_password", "")
    secret = P.secret_body(reg, "s3cret")
    assert secret["type"] == "kubernetes.io/dockerconfigjson" and secret["metadata"]["name"] == "zun-registry-u1"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    entry = auths(secret["data"])["r.io"]
    assert (entry["username"], entry["password"]) == ("alice", "s3cret")
    assert base64.b64decode(entry["auth"]).decode() == "alice:s3cret"
    assert auths(P.secret_body(registry(), None)["data"]) == {}  # no user: anonymous pulls, as Zun's


def test_the_view_hides_the_password() -> None:
    view = P.view(registry(name="n1", username="alice"), "http://z")
    assert view["password"] == "***"
    assert (view["uuid"], view["name"], view["domain"], view["username"], view["project_id"]) == ("u1", "n1", "r.io", "alice", "p")
    assert view["links"][0] == {"href": "http://z/v1/registries/u1", "rel": "self"}


def test_updates() -> None:
    reg = registry(name="n1", username="alice", password="old")
    patch, data = P.plan_update(reg, {"name": "n2"})
    assert patch == {"metadata": {"resourceVersion": "7"}, "spec": {"name": "n2"}} and data is None
    patch, data = P.plan_update(reg, {"password": "new"})
    assert data is not None and auths(data)["r.io"]["password"] == "new" and patch["spec"] == {"has_password": True}
    with pytest.raises(P.BadRegistry, match="Give the password again"):
        P.plan_update(reg, {"domain": "q.io"})
    _, data = P.plan_update(reg, {"domain": "q.io", "password": "pw"})
    assert data is not None and list(auths(data)) == ["q.io"]
    with pytest.raises(P.BadRegistry, match="needs a username"):
        P.plan_update(registry(), {"password": "pw"})


def test_images_on_the_registry() -> None:
    assert P.image_on("r.io", "team/app:1") == "r.io/team/app:1"
    assert P.image_on("r.io:5000", "app") == "r.io:5000/app"
    assert P.image_on("localhost:5056", "localhost:5056/private/b:1") == "localhost:5056/private/b:1"
    assert P.image_on("r.io/team", "r.io/team/app") == "r.io/team/app"
    for image in ("other.io/app", "r.io/other/app"):
        with pytest.raises(P.BadRegistry, match="credentials are given only to that registry"):
            P.image_on("r.io/team", image)
