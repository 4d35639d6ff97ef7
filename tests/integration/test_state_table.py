"""Every action in every reachable state of Zun's allowed-state table.

Disallowed combinations must give 409 ``container.invalid-state-exception`` and change nothing;
allowed ones must be carried out (202/200/204), or, for an action zunk8s cannot do on
Kubernetes, give its 501 only after the state check passed.
"""

from __future__ import annotations

import asyncio
import base64
import io
import tarfile
from typing import Any, cast

import pytest

from tests.integration.zunapi import Response, ZunAPI
from zunk8s.service.states import VALID_STATES, Action

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXEC_ID = "a" * 64


def _tar_b64() -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("f.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    return base64.b64encode(buf.getvalue()).decode()


# Files are reachable only while the container runs (Kubernetes exec): Zun allows the archive
# actions in Created/Stopped too, and zunk8s answers those with a 409 that says why.
ARCHIVE = {"Running": 200, "Created": 409, "Stopped": 409}
# action key -> (method, path suffix, query, body, version, roles, success status [per state])
CALLS: dict[str, tuple[str, str, dict[str, str], Any, str, str | None, int | dict[str, int]]] = {
    "start": ("POST", "start", {}, None, "1.40", None, 202),
    "stop": ("POST", "stop", {"timeout": "1"}, None, "1.40", None, 202),
    "reboot": ("POST", "reboot", {"timeout": "1"}, None, "1.40", None, 202),
    "rebuild": ("POST", "rebuild", {}, None, "1.40", None, 202),
    "pause": ("POST", "pause", {}, None, "1.40", None, 409),  # no node agent serves the node here
    "unpause": ("POST", "unpause", {}, None, "1.40", None, 501),
    "kill": ("POST", "kill", {"signal": "SIGKILL"}, None, "1.40", None, 202),
    "execute": ("POST", "execute", {"command": "true"}, None, "1.40", None, 200),
    # An exec id nobody created: Zun (Docker) answers 400 "no such exec instance".
    "execute_resize": ("POST", "execute_resize", {"exec_id": EXEC_ID, "w": "80", "h": "24"}, None, "1.40", None, 400),
    # The shared container is not interactive: Zun's 400 NoInteractiveFlag.
    "attach": ("GET", "attach", {}, None, "1.40", None, 400),
    "resize": ("POST", "resize", {"w": "80", "h": "24"}, None, "1.40", None, 200),
    "top": ("GET", "top", {}, None, "1.40", None, 200),
    "stats": ("GET", "stats", {}, None, "1.40", None, 409),  # no node agent serves the node here: 409, after the state check
    "logs": ("GET", "logs", {}, None, "1.40", None, 200),
    "get_archive": ("GET", "get_archive", {"path": "/etc"}, None, "1.40", None, ARCHIVE),
    "put_archive": ("POST", "put_archive", {"path": "/tmp"}, {"data": _tar_b64()}, "1.40", None, ARCHIVE),
    # After the state check: no node agent serves the node here (Running), and a container stopped
    # with timeout 0 was killed, so its filesystem is gone (Stopped): 409s saying so.
    "commit": ("POST", "commit", {"repository": "r"}, None, "1.40", None, 409),
    "update": ("PATCH", "", {}, {"name": "renamed-x"}, "1.40", None, 200),
    "resize_container": ("POST", "resize_container", {}, None, "1.40", None, 202),  # no change asked: none made
    "add_security_group": ("POST", "add_security_group", {"name": "sg"}, None, "1.14", None, 400),  # no group "sg": Zun's 400, after its state check
    "remove_security_group": ("POST", "remove_security_group", {"name": "sg"}, None, "1.14", None, 400),
    "delete": ("DELETE", "", {}, None, "1.40", None, 204),
    "delete_force": ("DELETE", "", {"force": "true"}, None, "1.40", "admin", 204),
    "delete_after_stop": ("DELETE", "", {"stop": "true"}, None, "1.40", None, 204),
}
MUTATING = {"start", "stop", "reboot", "rebuild", "kill", "update", "delete", "delete_force", "delete_after_stop"}
STATES = ("Created", "Running", "Stopped", "Error")
PROJECT = "proj-states"


async def test_table_covers_every_action() -> None:
    assert set(CALLS) == set(VALID_STATES)


def _expected(action: str, state: str) -> int:
    success = CALLS[action][6]
    return success[state] if isinstance(success, dict) else success


async def _call(zun: ZunAPI, uuid: str, action: str) -> Response:
    method, suffix, query, body, version, roles, _ = CALLS[action]
    path = f"/v1/containers/{uuid}" + (f"/{suffix}" if suffix else "")
    return await zun.call(method, path, params=query or None, json=body, version=version, roles=roles, project=PROJECT)


async def _make(zun: ZunAPI, state: str) -> str:
    if state == "Created":
        c = await zun.create(project=PROJECT)
    elif state == "Error":
        c = await zun.create(project=PROJECT, run=True, image="localhost/no-such-image:1")
    else:
        c = await zun.create(project=PROJECT, run=True)
    uuid = str(c["uuid"])
    if state == "Stopped":
        await zun.wait_for(uuid, "Running", project=PROJECT)
        r = await zun.call("POST", f"/v1/containers/{uuid}/stop", params={"timeout": "0"}, project=PROJECT)
        assert r.status == 202
    await zun.wait_for(uuid, state, project=PROJECT, timeout=90)
    return uuid


async def _cleanup(zun: ZunAPI, uuid: str) -> None:
    await zun.call("DELETE", f"/v1/containers/{uuid}", params={"force": "true"}, roles="admin", project=PROJECT)


@pytest.mark.parametrize("state", STATES)
async def test_every_action_in_state(zun: ZunAPI, state: str) -> None:
    shared = await _make(zun, state)
    try:
        for action, allowed in VALID_STATES.items():
            if state not in allowed:
                r = await _call(zun, shared, action)
                assert r.status == 409, (state, action, r.status, r.body)
                assert r.body["errors"][0]["code"] == "container.invalid-state-exception", (state, action)
            elif action not in MUTATING:
                r = await _call(zun, shared, action)
                assert r.status == _expected(action, state), (state, action, r.status, r.body)
        # Nothing above changed the container.
        assert (await zun.show(shared, project=PROJECT))["status"] == state

        async def allowed_mutation(action: str) -> None:
            uuid = await _make(zun, state)
            r = await _call(zun, uuid, action)
            assert r.status == _expected(action, state), (state, action, r.status, r.body)
            if not action.startswith("delete"):
                await _cleanup(zun, uuid)

        await asyncio.gather(*(allowed_mutation(a) for a in sorted(MUTATING) if state in VALID_STATES[cast(Action, a)]))
    finally:
        await _cleanup(zun, shared)
