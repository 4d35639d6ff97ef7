"""Wire behaviour: discovery, microversion headers, the error envelope, routing errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.integration.zunapi import Response, ZunAPI

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
    ({"image": "busybox", "security_groups": ["no-such-group"]}, 400, "container.invalid-value"),
    ({"image": "busybox", "nets": [{"network": "no-such-net"}]}, 404, "container.network-not-found"),
    ({"image": "busybox", "nets": [{"port": "p1"}]}, 400, "container.invalid-value"),
    ({"image": "busybox", "cpu_policy": "dedicated"}, 501, "container.not-implemented"),
    # Values Zun's schema lets through and Kubernetes refuses in a Pod: a 400 before anything
    # is written (a dry run), never a 202 and then an Error (#13, found by tests/fuzz).
    ({"image": "busybox", "environment": {"A=B": "x"}}, 400, "container.invalid-value"),
    ({"image": "busybox", "environment": {"\t": "x"}}, 400, "container.invalid-value"),
    ({"image": "localhost/zunk8s-busybox:1 "}, 400, "container.invalid-value"),
    ({"image": "busybox", "availability_zone": "a b"}, 400, "container.invalid-value"),
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


# --- issue #13: bad input over HTTP is a Zun-shaped 4xx, never a 500 ---------------------------

def _zun_error(r: Response, status: int) -> dict[str, object]:
    assert r.status == status, (r.status, r.body)
    assert isinstance(r.body, dict), r.body
    err = r.body["errors"][0]
    assert err["status"] == status and str(err["code"]).startswith("container.") and err["detail"], err
    return dict(err)


BAD_RAW_BODIES = [
    (b"[" * 2000, 400),
    (b'{"image": "busybox", "cpu": NaN}', 400),
    (b'{"image": "busybox", "cpu": Infinity}', 400),
    (b'{"image": "busybox", "memory": ' + b"9" * 4000 + b"}", 400),
    (b'{"image": "busybox", "healthcheck": {"test": 5}}', 400),
    (b'{"image": "busybox", "healthcheck": {"cmd": "true", "interval": "abc"}}', 400),
    (b'{"image": "busybox", "image_driver": "glance"}', 501),
    (b"\xff\xfe", 400),
    (b"[1, 2]", 400),
]


@pytest.mark.parametrize(("raw", "status"), BAD_RAW_BODIES)
async def test_bad_bodies(zun: ZunAPI, raw: bytes, status: int) -> None:
    headers = {"Content-Type": "application/json", "OpenStack-API-Version": "container 1.40"}
    async with zun.client.post("/v1/containers", data=raw, headers=headers) as resp:
        r = Response(resp.status, await resp.json(), dict(resp.headers))
    _zun_error(r, status)


async def test_bodies_are_capped(zun: ZunAPI) -> None:
    big = b'{"image": "busybox", "name": "' + b"x" * (1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json", "OpenStack-API-Version": "container 1.40"}
    async with zun.client.post("/v1/containers", data=big, headers=headers) as resp:
        r = Response(resp.status, await resp.json(), dict(resp.headers))
    assert "limit" in str(_zun_error(r, 413)["detail"])

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(64):
            yield b" " * 65536

    async with zun.client.post("/v1/containers", data=chunked(), headers=headers) as resp:
        r = Response(resp.status, await resp.json(), dict(resp.headers))
    _zun_error(r, 413)


@pytest.mark.parametrize("header", ["container 1.²", "container ².1", "container 1." + "9" * 5000, "container 1.٣"])
async def test_unicode_and_huge_versions_are_406(zun: ZunAPI, header: str) -> None:
    r = await zun.call("GET", "/v1/containers", version=None, headers={"OpenStack-API-Version": header})
    _zun_error(r, 406)


async def test_bad_numbers_in_queries(zun: ZunAPI) -> None:
    c = await zun.create(run=True, interactive=True, tty=True)
    await zun.wait_for(c["uuid"], "Running")
    base = f"/v1/containers/{c['uuid']}"
    for method, action, params in (
        ("POST", "stop", {"timeout": "²"}),
        ("POST", "reboot", {"timeout": "9" * 5000}),
        ("POST", "resize", {"w": "²", "h": "24"}),
        ("POST", "resize", {"w": "80", "h": "9" * 5000}),
        ("POST", "execute_resize", {"exec_id": "a" * 64, "w": "٣", "h": "3"}),
        ("GET", "logs", {"since": "123\n"}),
        ("GET", "logs", {"since": "x2020-01-01 00:00:00,000"}),
        ("GET", "logs", {"since": "2020-99-99 99:99:99,999"}),
        ("GET", "logs", {"since": "9" * 5000}),
    ):
        r = await zun.call(method, f"{base}/{action}", params=params)
        _zun_error(r, 400)
    # tail: any non-integer is "all", as Zun's driver reads it; never a 500.
    r = await zun.call("GET", f"{base}/logs", params={"tail": "²"})
    assert r.status == 200
    await zun.call("DELETE", base, params={"stop": "true"})


async def test_execute_takes_a_json_body(zun: ZunAPI) -> None:
    c = await zun.create(run=True)
    await zun.wait_for(c["uuid"], "Running")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/execute", json={"command": "echo from-body", "run": True})
    assert r.status == 200 and r.body["output"] == "from-body\n" and r.body["exit_code"] == 0, r.body
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/execute", json={"command": ["echo"]})
    _zun_error(r, 400)
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/execute", json=[1])
    _zun_error(r, 400)
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})


async def test_addresses_is_an_object(zun: ZunAPI) -> None:
    c = await zun.create()
    assert c["addresses"] == {}
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}")


@pytest.mark.parametrize(
    "path",
    ["/v1/networks", "/networks", "/v1/networks/abc"],
)
async def test_resources_not_served_yet_are_501(zun: ZunAPI, path: str) -> None:
    err = _zun_error(await zun.call("GET", path), 501)
    assert "zunk8s does not" in str(err["detail"])


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/services/enable"), ("PUT", "/v1/services/disable"), ("PUT", "/v1/services/force_down"),
     ("DELETE", "/v1/services"), ("GET", "/v1/services/x")],
)
async def test_service_actions_are_501(zun: ZunAPI, method: str, path: str) -> None:
    # GET /v1/services lists the replicas (test_hosts_services.py); they are not Zun's rows to edit.
    err = _zun_error(await zun.call(method, path, params={"host": "h", "binary": "zun-compute"}, roles="admin"), 501)
    assert "zunk8s does not delete, enable, disable or force down services" in str(err["detail"])


async def test_container_actions_are_served_at_both_paths(zun: ZunAPI) -> None:
    # The log itself: tests/integration/test_actions_log.py.
    c = await zun.create()
    r = await zun.call("GET", f"/v1/containers/{c['uuid']}/container_actions")
    assert r.status == 200 and isinstance(r.body["containerActions"], list), r.body
    err = _zun_error(await zun.call("GET", f"/v1/containers/{c['uuid']}/container_actions/req-1"), 404)
    assert err["detail"] == "The Action resource req-1 could not be found."
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}")


async def test_a_runtime_without_a_runtimeclass_is_400(zun: ZunAPI) -> None:
    r = await zun.call("POST", "/v1/containers", json={"image": zun.image, "runtime": "no-such-runtime"}, roles="admin")
    err = _zun_error(r, 400)
    assert "no-such-runtime" in str(err["detail"])


async def test_a_malformed_origin_is_refused_not_a_500(zun: ZunAPI) -> None:
    for headers in ({"Origin": "http://[::1"}, {"Origin": "http://a", "Host": "[::1"}):
        r = await zun.call("GET", "/websocket/", params={"token": "x", "uuid": ""}, headers=headers)
        assert r.status == 403, (headers, r.status, r.body)


async def test_a_command_too_long_for_kubernetes_is_400(zun: ZunAPI) -> None:
    c = await zun.create(run=True)
    await zun.wait_for(c["uuid"], "Running")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/execute", json={"command": "echo" + " a" * 110000})
    assert "at most" in str(_zun_error(r, 400)["detail"])
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})
