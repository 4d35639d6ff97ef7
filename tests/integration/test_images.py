"""/v1/images against the real cluster: an admin pulls an image onto the real node (the kubelet's
own pull, through a short-lived Pod), lists, shows and deletes it; a member gets Zun's 403."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Cluster
from tests.integration.conftest import make_settings
from tests.integration.zunapi import ZunAPI
from tests.registryimages import push_tiny_image
from zunk8s.app import create_app
from zunk8s.translate.names import namespace_for

ADMIN = "admin"
# Its own project: the module's other tests' projects have committed images of their own.
P = "proj-images"


@pytest.fixture(scope="module")
async def zun(cluster: Cluster, ns_prefix: str) -> AsyncIterator[ZunAPI]:
    async with TestClient(TestServer(create_app(make_settings(cluster, ns_prefix)))) as c:
        yield ZunAPI(c, image=cluster.image)


async def pulled(zun: ZunAPI, uuid: str, timeout: float = 60) -> dict[str, Any]:
    """The image once its id and size (the Node's figure, at the kubelet's next report) are in."""
    deadline = time.monotonic() + timeout
    while True:
        r = await zun.call("GET", f"/v1/images/{uuid}", roles=ADMIN, project=P)
        assert r.status == 200, r.body
        if r.body["image_id"] and r.body["size"]:
            return dict(r.body)
        assert time.monotonic() < deadline, r.body
        await asyncio.sleep(0.5)


async def test_pull_list_show_delete(zun: ZunAPI, cluster: Cluster) -> None:
    # The cluster's registry has zunk8s's own image (pushed by deploy/build-image).
    repo, tag = cluster.helper_image.rsplit(":", 1)
    r = await zun.call("POST", "/v1/images", json={"repo": f"{repo}:{tag}", "host": cluster.node}, roles=ADMIN,
                       project=P)
    assert r.status == 202, r.body
    assert r.headers["Location"].endswith(f"/v1/images/{r.body['uuid']}")
    assert list(r.body) == ["uuid", "links", "image_id", "project_id", "repo", "tag", "size", "host"]
    assert (r.body["repo"], r.body["tag"], r.body["host"], r.body["image_id"]) == (repo, tag, cluster.node, None)
    uuid = r.body["uuid"]
    shown = await pulled(zun, uuid)
    assert shown["image_id"].startswith("sha256:") or "@sha256:" in shown["image_id"], shown
    assert int(shown["size"]) > 10_000_000, shown  # zunk8s's image: tens of MB

    again = await zun.call("POST", "/v1/images", json={"repo": f"{repo}:{tag}", "host": cluster.node}, roles=ADMIN,
                       project=P)
    assert again.status == 409 and again.body["errors"][0]["detail"] == f"An image with tag {tag} and repo {repo} already exists."
    listed = await zun.call("GET", "/v1/images", roles=ADMIN, project=P)
    assert [i["uuid"] for i in listed.body["images"]] == [uuid] and listed.body["next"] is None
    paged = await zun.call("GET", "/v1/images", params={"limit": "1", "sort_key": "repo"}, roles=ADMIN, project=P)
    assert paged.body["next"].endswith(f"sort_key=repo&sort_dir=asc&limit=1&marker={uuid}")

    # Zun's policy: admins only; a member's 403 names the rule.
    for method, path in (("GET", "/v1/images"), ("GET", f"/v1/images/{uuid}"), ("DELETE", f"/v1/images/{uuid}")):
        r = await zun.call(method, path, project=P)
        assert r.status == 403 and "image:" in r.body["errors"][0]["detail"], (method, path, r.body)

    r = await zun.call("DELETE", f"/v1/images/{uuid}", roles=ADMIN, project=P)
    assert r.status == 200 and r.body is None, r.body
    r = await zun.call("GET", f"/v1/images/{uuid}", roles=ADMIN, project=P)
    assert r.status == 400 and r.body["errors"][0]["detail"] == f"Image {uuid} could not be found."


@pytest.mark.parametrize("body,status,words", [
    ({"repo": "busybox"}, 400, "'host' is a required property"),
    ({"repo": "busybox", "host": "no-such-node"}, 400, "The host no-such-node does not exist."),
    ({"repo": "busybox", "host": "h1", "x": 1}, 400, "('x' was unexpected)"),
    ({"repo": "!", "host": "h1"}, 400, "Invalid input for field 'repo'"),
    ({"repo": "busybox", "host": "h1", "size": "12T"}, 400, "Invalid input for field 'size'"),
    ({"repo": "busybox", "host": "h1", "size": "12", "tag": "v1"}, 400, "takes tag, size from the pull itself"),
])
async def test_bad_pulls(zun: ZunAPI, body: dict[str, Any], status: int, words: str) -> None:
    r = await zun.call("POST", "/v1/images", json=body, roles=ADMIN)
    assert r.status == status and words in r.body["errors"][0]["detail"], r.body


async def test_search_reads_the_registrys_catalog(zun: ZunAPI, cluster: Cluster, ns_prefix: str) -> None:
    token = f"srch{secrets.token_hex(3)}"
    base = cluster.commit_registry.partition("/")[2]  # the commit registry's path: zunk8s
    own, other = namespace_for(P, ns_prefix), namespace_for("proj-images-other", ns_prefix)
    push_tiny_image(cluster, f"{base}/{own}/{token}", "v1")
    push_tiny_image(cluster, f"{base}/{other}/{token}", "v1")  # another project's: never listed
    push_tiny_image(cluster, f"{base}/shared-{token}", "v2")
    host = cluster.commit_registry.partition("/")[0]

    r = await zun.call("GET", f"/v1/images/{token}/search", project=P)
    assert r.status == 200, r.body
    assert sorted((i["name"], tuple(i["tags"])) for i in r.body) == sorted([
        (f"{host}/{base}/{own}/{token}", ("v1",)), (f"{host}/{base}/shared-{token}", ("v2",))]), r.body
    assert r.body[0]["metadata"] == {"is_official": None, "star_count": None}
    # exact: the name a committed image is run by; a tag keeps only repositories that have it.
    exact = await zun.call("GET", f"/v1/images/{token}/search", project=P, params={"exact_match": "true"})
    assert [i["name"] for i in exact.body] == [f"{host}/{base}/{own}/{token}"], exact.body
    tagged = await zun.call("GET", f"/v1/images/{token}:v2/search", project=P)
    assert [i["name"] for i in tagged.body] == [f"{host}/{base}/shared-{token}"], tagged.body
    # A name with slashes and the registry's host, as the client sends it (unquoted).
    full = await zun.call("GET", f"/v1/images/{host}/{base}/shared-{token}/search", project=P)
    assert [i["name"] for i in full.body] == [f"{host}/{base}/shared-{token}"], full.body

    elsewhere = await zun.call("GET", f"/v1/images/registry.example.com/{token}/search", project=P)
    assert elsewhere.status == 400 and "searches only its own registry" in elsewhere.body["errors"][0]["detail"]
    glance = await zun.call("GET", f"/v1/images/{token}/search", project=P, params={"image_driver": "glance"})
    assert glance.status == 501, glance.body
    for params in ({"exact_match": "maybe"}, {"image_driver": "podman"}, {"x": "1"}):
        bad = await zun.call("GET", f"/v1/images/{token}/search", project=P, params=params)
        assert bad.status == 400, (params, bad.body)


async def test_search_without_a_registry_says_why(cluster: Cluster, ns_prefix: str) -> None:
    settings = make_settings(cluster, ns_prefix, images={"commit_registry": ""})
    async with TestClient(TestServer(create_app(settings))) as c:
        r = await ZunAPI(c, image=cluster.image).call("GET", "/v1/images/busybox/search")
    assert r.status == 501 and "no registry to search" in r.body["errors"][0]["detail"], r.body


async def test_search_of_a_registry_down_is_a_503(cluster: Cluster, ns_prefix: str) -> None:
    settings = make_settings(cluster, ns_prefix, images={"search_registry": "http://127.0.0.1:9"})
    async with TestClient(TestServer(create_app(settings))) as c:
        r = await ZunAPI(c, image=cluster.image).call("GET", "/v1/images/busybox/search")
    assert r.status == 503 and "cannot be reached" in r.body["errors"][0]["detail"], r.body
