"""Zun's registries as pull Secrets (zunk8s/translate/pullsecrets.py)."""

import base64
import json
from typing import Any

import pytest

from zunk8s.translate import pullsecrets as P


def secret(**fields: str) -> dict[str, Any]:
    return P.secret_body(namespace="ns", uuid="u1", fields={"domain": "r.io", **fields}, project_id="p", user_id="u",
                         labels={"l": "v"}, created="2026-01-01 00:00:00")


def auths(obj: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(obj["data"][P.DATA_KEY]))["auths"]


def test_bodies_as_zuns_schema_takes_them() -> None:
    assert P.check_body({"registry": {"domain": "r.io"}}, create=True) == {"domain": "r.io"}
    assert P.check_body({"registry": {}}, create=False) == {}
    for body, words in [({}, "'registry' is a required"), ({"registry": {}, "x": 1}, "'x' was unexpected"),
                        ({"registry": {"name": "n1"}}, "'domain' is a required"),
                        ({"registry": {"domain": "r.io", "email": "e"}}, "'email' was unexpected"),
                        ({"registry": {"domain": "http://r.io"}}, "without a scheme"),
                        ({"registry": {"domain": "r.io", "name": "a"}}, "field 'name'"),
                        ({"registry": {"domain": "r.io", "username": None}}, "not of type 'string'"),
                        ({"registry": []}, "not of type 'object'"), ([], "JSON object")]:
        with pytest.raises(P.BadRegistry, match=words):
            P.check_body(body, create=True)


@pytest.mark.parametrize("password", ["", "p" * 256, 12345678])
def test_a_bad_password_is_never_echoed(password: object) -> None:
    with pytest.raises(P.BadRegistry) as e:
        P.check_body({"registry": {"domain": "r.io", "password": password}}, create=True)
    assert str(password) not in str(e.value) or password == ""


def test_the_secret_keys_the_credentials_by_domain() -> None:
    obj = secret(name="n1", username="alice", password="s3cret")
    assert obj["type"] == "kubernetes.io/dockerconfigjson" and obj["metadata"]["name"] == "zun-registry-u1"
    entry = auths(obj)["r.io"]
    assert (entry["username"], entry["password"]) == ("alice", "s3cret")
    assert base64.b64decode(entry["auth"]).decode() == "alice:s3cret"
    assert auths(secret()) == {}  # no user: anonymous pulls, as Zun's
    assert "s3cret" not in json.dumps(obj["metadata"])


def test_the_view_hides_the_password() -> None:
    view = P.view(secret(name="n1", username="alice", password="s3cret"), "http://z")
    assert view["password"] == "***" and "s3cret" not in json.dumps(view)
    assert (view["uuid"], view["name"], view["domain"], view["username"], view["project_id"]) == ("u1", "n1", "r.io", "alice", "p")
    assert view["links"][0] == {"href": "http://z/v1/registries/u1", "rel": "self"}
    assert P.view(secret(), "")["name"] is None and P.view(secret(), "")["password"] == "***"


def test_an_update_keeps_what_it_does_not_change() -> None:
    obj = secret(name="n1", username="alice", password="s3cret")
    obj["metadata"]["resourceVersion"] = "7"
    patch = P.update_patch(obj, {"domain": "q.io"})
    assert patch["metadata"]["resourceVersion"] == "7"
    assert auths(patch)["q.io"]["password"] == "s3cret"
    assert patch["metadata"]["annotations"][f"{P._ANN['domain']}"] == "q.io"
    assert auths(P.update_patch(obj, {"password": "new"}))["r.io"]["password"] == "new"


def test_images_on_the_registry() -> None:
    assert P.image_on("r.io", "team/app:1") == "r.io/team/app:1"
    assert P.image_on("r.io:5000", "app") == "r.io:5000/app"
    assert P.image_on("localhost:5056", "localhost:5056/private/b:1") == "localhost:5056/private/b:1"
    assert P.image_on("r.io/team", "r.io/team/app") == "r.io/team/app"
    with pytest.raises(P.BadRegistry, match="only to that registry"):
        P.image_on("r.io", "other.io/app")
