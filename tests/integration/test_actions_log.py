"""Zun's action log over HTTP (GET .../container_actions[/<request id>]), against the real cluster:
what a run, stop, start and execute record, under the request ids their clients got back; a
failed action; the 404 and the tracebacks policy hides; and the log as another replica (a
second app, with its own caches) reads it from the record."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import Response, ZunAPI
from zunk8s.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

P = "proj-actions"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")  # Zun's strtime


@pytest.fixture(scope="module")
async def other_replica(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    app = create_app(make_settings(cluster, ns_prefix))
    async with TestClient(TestServer(app)) as c:
        yield ZunAPI(c, image=cluster.image)


def request_id(r: Response) -> str:
    (rid,) = [v for k, v in r.headers.items() if k.lower() == "x-openstack-request-id"]
    assert rid.startswith("req-")
    return rid


async def actions_of(api: ZunAPI, uuid: str, **kw: Any) -> list[dict[str, Any]]:
    r = await api.call("GET", f"/v1/containers/{uuid}/container_actions", project=P, **kw)
    assert r.status == 200, r.body
    assert list(r.body) == ["containerActions"]
    listed: list[dict[str, Any]] = r.body["containerActions"]
    return listed


async def action(api: ZunAPI, uuid: str, rid: str, **kw: Any) -> dict[str, Any]:
    r = await api.call("GET", f"/v1/containers/{uuid}/container_actions/{rid}", project=P, **kw)
    assert r.status == 200, r.body
    shown: dict[str, Any] = r.body
    return shown


async def test_run_stop_start_execute_are_logged(zun: ZunAPI, other_replica: ZunAPI) -> None:
    r = await zun.call("POST", "/v1/containers", params={"run": "true"}, project=P,
                       json={"image": zun.image, "command": ["sleep", "3600"], "name": "logged"})
    assert r.status == 202, r.body
    uuid, rids = r.body["uuid"], {"create": request_id(r)}
    await zun.wait_for(uuid, "Running", project=P)
    r = await zun.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "1"}, project=P)
    assert r.status == 202, r.body
    rids["stop"] = request_id(r)
    await zun.wait_for(uuid, "Stopped", project=P)
    r = await zun.call("POST", f"/v1/containers/{uuid}/start", project=P)
    assert r.status == 202, r.body
    rids["start"] = request_id(r)
    await zun.wait_for(uuid, "Running", project=P)
    r = await zun.call("POST", f"/v1/containers/{uuid}/execute", params={"command": "echo hi", "run": "true"}, project=P)
    assert r.status == 200 and r.body["exit_code"] == 0, r.body
    rids["exec_cmd"] = request_id(r)
    # Reads and refused calls are no actions: logs, top, a start while it runs (409).
    await zun.action(uuid, "logs", project=P, expect=200)
    await zun.action(uuid, "start", project=P, expect=409)

    listed = await actions_of(zun, uuid)
    # Newest first, as Zun's actions_get (created_at descending), under each call's request id.
    assert [(a["action"], a["request_id"]) for a in listed] == [
        (name, rids[name]) for name in ("exec_cmd", "start", "stop", "create")
    ]
    for a in listed:
        assert set(a) == {"action", "container_uuid", "message", "project_id", "request_id", "start_time",
                          "finish_time", "user_id"}
        assert a["container_uuid"] == uuid and a["project_id"] == P and a["user_id"] == "user-1"
        assert a["message"] is None
        assert TIME.match(a["start_time"]) and TIME.match(a["finish_time"]) and a["start_time"] <= a["finish_time"]
    starts = [a["start_time"] for a in listed]
    assert starts == sorted(starts, reverse=True)
    # Each action ended before the next began (each waited for the last to settle).
    assert all(newer["start_time"] >= older["finish_time"] for newer, older in zip(listed, listed[1:]))

    expected_events = {
        "create": ["compute__do_container_start", "compute__do_container_create"],  # newest first
        "stop": ["compute__do_container_stop"],
        "start": ["compute__do_container_start"],
        "exec_cmd": ["compute_container_exec"],
    }
    for name, rid in rids.items():
        shown = await action(zun, uuid, rid)
        assert {k: v for k, v in shown.items() if k != "events"} == next(a for a in listed if a["request_id"] == rid)
        assert [e["event"] for e in shown["events"]] == expected_events[name]
        for e in shown["events"]:
            assert set(e) == {"event", "start_time", "finish_time", "result", "traceback"}
            assert e["result"] == "Success" and e["traceback"] is None
            assert shown["start_time"] <= e["start_time"] <= e["finish_time"] <= shown["finish_time"]

    # Another replica (its own caches, filled from the API server) reads the same log (once
    # its watch has delivered the last write).
    for _ in range(50):
        if await actions_of(other_replica, uuid) == listed:
            break
        await asyncio.sleep(0.1)
    assert await actions_of(other_replica, uuid) == listed
    assert await action(other_replica, uuid, rids["stop"]) == await action(zun, uuid, rids["stop"])
    # ... and appends to it: the next action, through it, is on the log read through this one.
    r = await other_replica.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "1"}, project=P)
    assert r.status == 202, r.body
    await other_replica.wait_for(uuid, "Stopped", project=P)
    await zun.wait_for(uuid, "Stopped", project=P)
    newest = (await actions_of(zun, uuid))[0]
    assert newest["action"] == "stop" and newest["request_id"] == request_id(r) and newest["finish_time"]

    # An unknown request id: Zun's 404, in Zun's words.
    r = await zun.call("GET", f"/v1/containers/{uuid}/container_actions/req-nope", project=P)
    assert r.status == 404, r.body
    err = r.body["errors"][0]
    assert err["detail"] == "The Action resource req-nope could not be found." and err["code"] == "container.resource-not-found"
    # Another project's container is not found, whatever the request id.
    r = await zun.call("GET", f"/v1/containers/{uuid}/container_actions/{rids['stop']}", project="proj-other")
    assert r.status == 404 and "Container" in r.body["errors"][0]["detail"]
    r = await zun.call("GET", f"/v1/containers/{uuid}/container_actions", project="proj-other")
    assert r.status == 404
    r = await zun.call("POST", f"/v1/containers/{uuid}/container_actions", project=P)
    assert r.status == 405
    r = await zun.call("DELETE", f"/v1/containers/{uuid}/container_actions/{rids['stop']}", project=P)
    assert r.status == 405
    # The rule is checked as Zun checks it: on the caller, before the container is looked up.
    r = await zun.call("GET", "/v1/containers/no-such-one/container_actions", project=P)
    assert r.status == 404

    r = await zun.call("DELETE", f"/v1/containers/{uuid}", project=P)
    assert r.status == 204, r.body
    await zun.wait_gone(uuid, project=P)


async def test_a_failed_action_and_its_traceback(zun: ZunAPI) -> None:
    r = await zun.call("POST", "/v1/containers", params={"run": "true"}, project=P,
                       json={"image": "localhost/no-such-image-for-actions:1", "command": ["true"]})
    assert r.status == 202, r.body
    uuid, rid = r.body["uuid"], request_id(r)
    failed = await zun.wait_for(uuid, "Error", project=P)
    (listed,) = await actions_of(zun, uuid)
    assert listed["action"] == "create" and listed["request_id"] == rid
    assert listed["message"] == "Error" and listed["finish_time"]

    shown = await action(zun, uuid, rid)
    # The container was made (its Pod), then could not start: that event failed.
    assert [(e["event"], e["result"]) for e in shown["events"]] == [
        ("compute__do_container_start", "Error"), ("compute__do_container_create", "Success")
    ]
    assert all(e["traceback"] is None for e in shown["events"])  # container:action:events is admin_api
    admin = await action(zun, uuid, rid, roles="admin")
    # Why it failed: the reason the final write gave the container (the kubelet's pull error).
    assert "ImagePull" in admin["events"][0]["traceback"] or "image" in admin["events"][0]["traceback"].lower()
    assert "ImagePull" in failed["status_reason"] or "image" in failed["status_reason"].lower()
    assert admin["events"][1]["traceback"] is None

    r = await zun.call("DELETE", f"/v1/containers/{uuid}", project=P)
    assert r.status == 204, r.body
