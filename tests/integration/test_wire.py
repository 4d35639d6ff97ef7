"""Wire behaviour: discovery, microversion headers, the error envelope, routing errors."""

from __future__ import annotations

import re

import pytest

from tests.integration.zunapi import ZunAPI

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_root_document(zun: ZunAPI) -> None:
    r = await zun.call("GET", "/", version=None)
    assert r.status == 200
    assert r.body["versions"][0]["status"] == "CURRENT"
    assert r.body["versions"][0]["max_version"] == "1.40"
    assert r.body["versions"][0]["min_version"] == "1.1"
    assert r.body["versions"][0]["links"][0]["href"].endswith("/v1/")
    assert re.match(r"^req-[0-9a-f-]{36}$", r.headers["x-openstack-request-id"])
    assert "OpenStack-API-Version" not in r.headers


async def test_v1_document_and_headers(zun: ZunAPI) -> None:
    r = await zun.call("GET", "/v1", version=None)
    assert r.status == 200
    assert r.body["containers"][0]["href"].endswith("/v1/containers/")
    assert r.body["containers"][1]["rel"] == "bookmark"
    assert r.headers["OpenStack-API-Version"] == "container 1.1"
    assert r.headers["OpenStack-API-Minimum-Version"] == "container 1.1"
    assert r.headers["OpenStack-API-Maximum-Version"] == "container 1.40"
    r = await zun.call("GET", "/v1/containers", version="latest")
    assert r.headers["OpenStack-API-Version"] == "container 1.40"


@pytest.mark.parametrize(
    ("header", "fragment"),
    [("container 1.41", "minor version is not supported"), ("container 2.0", "Mutually exclusive"), ("compute 1.2", "Invalid service type"), ("container x", "Invalid value")],
)
async def test_bad_versions_are_406(zun: ZunAPI, header: str, fragment: str) -> None:
    r = await zun.call("GET", "/v1/containers", version=None, headers={"OpenStack-API-Version": header})
    assert r.status == 406
    err = r.body["errors"][0]
    assert err["status"] == 406 and fragment in err["detail"] and err["request_id"] == ""


async def test_unknown_route_and_method(zun: ZunAPI) -> None:
    r = await zun.call("GET", "/v1/nothing-here")
    assert r.status == 404
    assert r.body["errors"][0]["code"] == "container."
    assert r.body["errors"][0]["title"] == "Not Found"
    c = await zun.create()
    r = await zun.call("PUT", f"/v1/containers/{c['uuid']}")
    assert r.status == 405 and "Allow" in r.headers
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/frobnicate")
    assert r.status == 404
    r = await zun.call("GET", f"/v1/containers/{c['uuid']}/start")
    assert r.status == 405
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}")


async def test_not_found_envelope(zun: ZunAPI) -> None:
    r = await zun.call("GET", "/v1/containers/00000000-0000-0000-0000-000000000000")
    assert r.status == 404
    err = r.body["errors"][0]
    assert err["code"] == "container.container-not-found"
    assert err["detail"] == "Container 00000000-0000-0000-0000-000000000000 could not be found."
    assert r.headers["OpenStack-API-Version"] == "container 1.40"


async def test_action_outside_its_versions(zun: ZunAPI) -> None:
    c = await zun.create()
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/rename", params={"name": "x1"}, version="1.14")
    assert r.status == 406
    assert "not supported for this version" in r.body["errors"][0]["detail"]
    r = await zun.call("GET", f"/v1/containers/{c['uuid']}/network_list", version="1.12")
    assert r.status == 406
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}")


async def test_create_needs_json(zun: ZunAPI) -> None:
    r = await zun.call("POST", "/v1/containers", headers={"Content-Type": "text/plain"})
    assert r.status == 400
    async with zun.client.post(
        "/v1/containers", data=b"image=busybox", headers={"Content-Type": "text/plain", "OpenStack-API-Version": "container 1.40"}
    ) as resp:
        assert resp.status == 415
    r = await zun.call("POST", "/v1/containers", params={"bogus": "1"}, json={"image": "busybox"})
    assert r.status == 400 and "bogus" in r.body["errors"][0]["detail"]


BAD_CREATES = [
    ({"image": "x"}, 400, "container.schema-validation-error"),
    ({"image": "busybox", "memory": "3"}, 400, "container.schema-validation-error"),
    ({"image": "busybox", "cpu": 100}, 400, "container.schema-validation-error"),
    ({"image": "busybox", "environment": {"A": 1}}, 400, "container.schema-validation-error"),
    ({"image": "busybox", "nope": 1}, 400, "container.schema-validation-error"),
    ({"image": "busybox", "restart_policy": {"Name": "always", "MaximumRetryCount": 3}}, 400, "container.invalid-value"),
    ({"image": "busybox", "exposed_ports": {"80/sctp": {}}}, 400, "container.invalid-value"),
    ({"image": "busybox", "image_pull_policy": "always"}, 403, "container.policy-not-authorized"),
    ({"image": "busybox", "runtime": "runc"}, 403, "container.policy-not-authorized"),
    ({"image": "busybox", "privileged": True}, 403, "container.policy-not-authorized"),
    ({"image": "busybox", "security_groups": ["default"]}, 501, "container.not-implemented"),
    ({"image": "busybox", "cpu_policy": "dedicated"}, 501, "container.not-implemented"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_CREATES)
async def test_bad_creates(zun: ZunAPI, body: dict[str, object], status: int, code: str) -> None:
    r = await zun.call("POST", "/v1/containers", json=body)
    assert r.status == status, r.body
    assert r.body["errors"][0]["code"] == code
    assert r.body["errors"][0]["detail"]


async def test_legacy_command_string_at_default_version(zun: ZunAPI) -> None:
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "command": ["sleep", "1"]}, version=None)
    assert r.status == 400
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "command": "sleep 'a b'"}, version=None)
    assert r.status == 202, r.body
    assert r.body["command"] == ["sleep", "a b"]
    await zun.call("DELETE", f"/v1/containers/{r.body['uuid']}")
