"""rebuild and resize_container on the real cluster: Zun's statuses and answers, the same
container (uuid, name, settings) made anew with a new image, run again only if it ran."""

from __future__ import annotations

from tests.integration.zunapi import ZunAPI


async def test_rebuild_a_running_container(zun: ZunAPI) -> None:
    c = await zun.create(run=True, environment={"A": "1"})
    before = await zun.wait_for(c["uuid"], "Running")
    await zun.action(c["uuid"], "execute", expect=200, command="touch /tmp/written-before", run="true")
    r = await zun.action(c["uuid"], "rebuild", image=zun.image)
    assert r.body is None
    shown = await zun.show(c["uuid"])
    assert shown["status"] in ("Rebuilding", "Running")
    again = await zun.action(c["uuid"], "rebuild", expect=409)  # busy, as Zun's second rebuild
    assert again.status == 409
    after = await zun.wait_for(c["uuid"], "Running")
    assert (after["uuid"], after["name"], after["environment"]) == (before["uuid"], before["name"], {"A": "1"})
    # A new container: the old writable layer is gone.
    out = await zun.action(c["uuid"], "execute", expect=200, command="ls /tmp/written-before", run="true")
    assert out.body["exit_code"] != 0, out.body
    assert after["status_detail"].startswith("Up")
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})


async def test_rebuild_a_stopped_container_leaves_it_created(zun: ZunAPI) -> None:
    c = await zun.create(run=True, command=["true"])
    await zun.wait_for(c["uuid"], "Stopped")
    await zun.action(c["uuid"], "rebuild", image="localhost/other-image:1")
    rebuilt = await zun.wait_for(c["uuid"], "Created")
    assert rebuilt["image"] == "localhost/other-image:1" and rebuilt["addresses"] == {}
    r = await zun.action(c["uuid"], "rebuild", image="x", expect=400)
    assert "image" in r.body["errors"][0]["detail"]
    r = await zun.action(c["uuid"], "rebuild", image_driver="podman", expect=400)
    r = await zun.action(c["uuid"], "rebuild", image_driver="glance", expect=501)
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}")


async def test_resize_container_answers_the_view_before_and_resizes(zun: ZunAPI) -> None:
    c = await zun.create(run=True, cpu=0.5, memory="128")
    await zun.wait_for(c["uuid"], "Running")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/resize_container", json={"cpu": 1, "memory": "256"})
    assert r.status == 202 and (r.body["cpu"], r.body["memory"]) == (0.5, "128"), r.body
    shown = await zun.wait_for(c["uuid"], "Running")
    assert (shown["cpu"], shown["memory"]) == (1.0, "256")
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/resize_container", json={"name": "other"})
    assert r.status == 400 and "only cpu and memory" in r.body["errors"][0]["detail"]
    r = await zun.call("POST", f"/v1/containers/{c['uuid']}/resize_container", json={"cpu": 1}, version="1.18")
    assert r.status == 406
    await zun.call("DELETE", f"/v1/containers/{c['uuid']}", params={"stop": "true"})
