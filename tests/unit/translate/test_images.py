"""Zun's /v1/images on Kubernetes (zunk8s/translate/images.py)."""

import pytest

from zunk8s.translate import images


def test_pull_bodies() -> None:
    assert images.check_pull({"repo": "busybox:1.36", "host": "node-1"}) == ("busybox:1.36", "node-1")
    for body, words in [({"host": "h1"}, "'repo' is a required"), ({"repo": "r1", "host": "h1", "x": 1}, "'x' was unexpected"),
                        ({"repo": "!!", "host": "h1"}, "field 'repo'"), ({"repo": "r1", "host": 5}, "field 'host'"),
                        ({"repo": "r1", "host": "h1", "size": True}, "field 'size'"),
                        ({"repo": "r1", "host": "h1", "image_pull_policy": "sometimes"}, "image_pull_policy"),
                        ({"repo": "r1", "host": "h1", "image_id": "sha256:ab"}, "takes image_id from the pull"),
                        ("r1", "not of type 'object'")]:
        with pytest.raises(images.BadPull, match=words):
            images.check_pull(body)


def test_repo_and_tag_as_zun_splits_them() -> None:
    assert images.split_repo("busybox") == ("busybox", "latest")
    assert images.split_repo("localhost:5055/a/b:v1") == ("localhost:5055/a/b", "v1")
    assert images.split_repo("localhost:5055/a/b") == ("localhost:5055/a/b", "latest")
    assert images.split_repo("r@sha256:ab") == ("r", "sha256:ab")
    assert images.reference("r", "sha256:ab") == "r@sha256:ab" and images.reference("r", "v1") == "r:v1"


def test_the_view_is_zuns() -> None:
    obj = images.image_object(namespace="ns", uuid="u1", repo="r", tag="t", host="h", project_id="p", labels={},
                              created="2026-01-01 00:00:00")
    obj["spec"]["size"] = 1234
    v = images.view(obj, "http://z")
    assert list(v) == list(images.VIEW_KEYS) and v["size"] == "1234" and v["image_id"] is None
    assert v["links"][0] == {"href": "http://z/v1/images/u1", "rel": "self"}
    assert images.row(obj)["id"] == "2026-01-01 00:00:00" and "links" not in images.row(obj)


def test_a_pull_ends_when_the_image_is_in_or_cannot_be() -> None:
    started = {"status": {"containerStatuses": [{"state": {"terminated": {"reason": "StartError"}},
                                                  "imageID": "localhost:5055/z@sha256:ab"}]}}
    failed = {"status": {"containerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull", "message": "no such"}}}]}}
    pending = {"status": {"containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}}
    assert images.pull_ended(started) and images.pull_ended(failed) and images.pull_ended(None)
    assert not images.pull_ended(pending) and not images.pull_ended({})
    assert images.pulled(started) == images.Pulled(image_id="localhost:5055/z@sha256:ab")
    assert images.pulled(failed) == images.Pulled(image_id=None, error="ErrImagePull: no such")
    assert images.pulled(pending) is None
    assert images.pulled(None) is not None


def test_the_size_comes_from_the_nodes_image_list() -> None:
    node = [{"names": ["localhost:5055/z@sha256:ab", "localhost:5055/z:1"], "sizeBytes": 42}]
    assert images.node_image_size(node, "localhost:5055/z@sha256:ab", "x") == 42
    assert images.node_image_size(node, "nope", "localhost:5055/z:1") == 42
    assert images.node_image_size(node, "nope", "nope") is None and images.node_image_size([], "a", "b") is None


def test_the_pull_pod_pulls_and_runs_nothing() -> None:
    pod = images.pull_pod(name="zun-pull-u", namespace="ns", image="r:t", host="n1", uuid="u", labels={"l": "v"})
    (c,) = pod["spec"]["containers"]
    assert pod["spec"]["nodeName"] == "n1" and c["imagePullPolicy"] == "Always" and c["command"] == [images.NO_COMMAND]
    assert pod["metadata"]["labels"] == {"l": "v", images.PULL_LABEL: "u"} and pod["spec"]["restartPolicy"] == "Never"
