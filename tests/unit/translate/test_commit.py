"""commit's pure parts: names, the ask and answer on the Pod, what of the diff is kept, the
image config and manifest (zunk8s/translate/commit.py)."""

from typing import Any

import pytest

from zunk8s.records import Record
from zunk8s.translate import commit

REG = "localhost:5055/zunk8s"


def record(**fields: object) -> Record:
    base = {"uuid": "u", "name": "n", "project_id": "p", "user_id": "x", "image": "busybox", "created_at": "t"}
    return Record.model_validate({**base, **fields})


@pytest.mark.parametrize("repository,tag,why", [
    ("Upper", "v1", "Invalid repository"),
    ("a//b", "v1", "Invalid repository"),
    ("-a", "v1", "Invalid repository"),
    ("example.com/x", "v1", "names a registry"),
    ("localhost/x", "v1", "names a registry"),
    ("reg:5000/x", "v1", "names a registry"),
    ("ok", ".v1", "Invalid tag"),
    ("ok", "v" * 129, "Invalid tag"),
    ("a" * 250, "v1", "too long"),
])
def test_names_no_registry_takes_are_refused(repository: str, tag: str, why: str) -> None:
    with pytest.raises(commit.BadName, match=why):
        commit.check_names(repository, tag, registry=REG)


def test_names_a_registry_takes() -> None:
    for repository, tag in [("snap", "latest"), ("team/app-1", "v1.2_3"), ("a.b__c", "X")]:
        commit.check_names(repository, tag, registry=REG)
    assert commit.reference(REG, "zun-p", "team/app", "v1") == "localhost:5055/zunk8s/zun-p/team/app:v1"


def test_only_names_without_a_registry_can_be_committed_ones() -> None:
    assert commit.split_image("snap") == ("snap", "latest")
    assert commit.split_image("snap:v1") == ("snap", "v1")
    assert commit.split_image("team/app:v1") == ("team/app", "v1")
    for image in ("localhost:5055/x:1", "example.com/x", "localhost/x:1", "x@sha256:00", "UPPER:1"):
        assert commit.split_image(image) is None, image


def test_the_image_id_is_the_name_in_the_project() -> None:
    a = commit.image_uuid("ns1", "snap", "v1")
    assert a == commit.image_uuid("ns1", "snap", "v1")
    assert a != commit.image_uuid("ns2", "snap", "v1") != commit.image_uuid("ns1", "snap", "v2")


def test_what_the_container_ran_goes_into_the_config() -> None:
    assert commit.config_changes(record()) == {}
    assert commit.config_changes(record(command=["sleep", "1"], environment={"A": "1"}, workdir="/w")) == {
        "Cmd": ["sleep", "1"], "Env": ["A=1"], "WorkingDir": "/w"}
    # A new entrypoint drops the image's CMD (as Kubernetes runs it).
    assert commit.config_changes(record(entrypoint=["/bin/sh"])) == {"Entrypoint": ["/bin/sh"], "Cmd": []}


def test_ask_and_answer_round_trip() -> None:
    ask = commit.Ask(request="req-1", reference=REG + "/ns/x:v1", config={"Cmd": ["a"]}, comment="c",
                     image="id", repository="x", tag="v1")
    pod = {"metadata": {"annotations": {commit.WANT: commit.ask(ask),
                                        commit.DONE: commit.done_value("req-1", "sha256:ab", 12)}}}
    assert commit.wanted(pod) == ask
    assert commit.answer(pod) == commit.Answer(request="req-1", digest="sha256:ab", size=12)
    failed = {"metadata": {"annotations": {commit.DONE: commit.error_value("req-2", "no\nway " * 200)}}}
    answer = commit.answer(failed)
    assert answer is not None and answer.digest is None and answer.error is not None
    assert "\n" not in answer.error and len(answer.error) <= 400
    for junk in ("", "{", "[]", '{"request": 1}', '{"request": "r", "digest": 5, "size": 1}'):
        assert commit.answer({"metadata": {"annotations": {commit.DONE: junk}}}) is None, junk
        assert commit.wanted({"metadata": {"annotations": {commit.WANT: junk}}}) is None, junk


def test_mount_stubs_are_dropped_and_changes_kept() -> None:
    pod = {"spec": {"containers": [{"volumeMounts": [{"mountPath": "/data/vol"}]}]}}
    points = commit.mount_points(pod)
    assert "/data/vol" in points and "/etc/hosts" in points and "/dev/termination-log" in points
    entries = [("bin", True), ("bin/.wh.vi", False), ("etc", True), ("etc/hosts", False), ("etc/hostname", False),
               ("etc/resolv.conf", False), ("data", True), ("data/vol", True), ("new.txt", False),
               ("var", True), ("var/run", True), ("var/run/secrets", True), ("var/run/secrets/kubernetes.io", True),
               ("var/run/secrets/kubernetes.io/serviceaccount", True)]
    assert commit.kept_entries(entries, points) == {"bin", "bin/.wh.vi", "new.txt"}
    # A directory on a mount's path stays when the user changed something else in it.
    assert commit.kept_entries([("etc", True), ("etc/hosts", False), ("etc/passwd", False)], points) == {
        "etc", "etc/passwd"}
    assert commit.kept_entries([("./etc/", True), ("./etc/motd", False)], points) == {"etc", "etc/motd"}


def test_the_config_is_the_bases_with_the_layer_and_changes() -> None:
    base: dict[str, Any] = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin", "A=0"], "Cmd": ["sh"]},
            "container_config": {"Cmd": ["x"]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:b"]},
            "history": [{"created_by": "base"}]}
    new = commit.image_config(base, diff_id="sha256:n", changes={"Env": ["A=1"], "Cmd": ["run"]},
                              created="2026-01-01T00:00:00Z", comment="c")
    assert new["config"] == {"Env": ["PATH=/bin", "A=1"], "Cmd": ["run"]}
    assert new["rootfs"]["diff_ids"] == ["sha256:b", "sha256:n"]
    assert [h.get("created_by") for h in new["history"]] == ["base", "zunk8s commit"]
    assert "container_config" not in new and new["created"] == "2026-01-01T00:00:00Z"
    assert base["rootfs"]["diff_ids"] == ["sha256:b"]  # the base is not changed


def test_docker_layers_keep_their_bytes_in_an_oci_manifest() -> None:
    d = commit.layer_descriptor({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                 "digest": "sha256:a", "size": 3})
    assert d == {"mediaType": commit.OCI_LAYER + "+gzip", "digest": "sha256:a", "size": 3}
    m = commit.manifest(config_digest="sha256:c", config_size=9, layers=[d])
    assert m["mediaType"] == commit.OCI_MANIFEST and m["config"]["mediaType"] == commit.OCI_CONFIG


def test_an_index_gives_the_nodes_platform() -> None:
    index = {"manifests": [{"digest": "sha256:arm", "platform": {"architecture": "arm64", "os": "linux"}},
                           {"digest": "sha256:amd", "platform": {"architecture": "amd64", "os": "linux"}}]}
    assert commit.platform_manifest(index, architecture="amd64") == index["manifests"][1]
    assert commit.platform_manifest(index, architecture="s390x") is None


def test_pods_run_the_committed_image_by_digest() -> None:
    assert commit.pinned("localhost:5055/zunk8s/ns/snap:v1", "sha256:ab") == "localhost:5055/zunk8s/ns/snap@sha256:ab"
    assert commit.committed_ref(None) is None
    assert commit.committed_ref({"spec": {"image_ref": "r@sha256:ab"}}) == "r@sha256:ab"


def test_the_container_id_of_a_running_or_ended_container() -> None:
    running = {"status": {"containerStatuses": [{"containerID": "containerd://abc", "state": {"running": {}},
                                                 "imageID": "sha256:img"}]}}
    ended = {"status": {"containerStatuses": [{"containerID": "containerd://abc", "state": {"terminated": {}}}]}}
    waiting = {"status": {"containerStatuses": [{"containerID": "", "state": {"waiting": {}}}]}}
    assert commit.container_id(running) == commit.container_id(ended) == "abc"
    assert commit.container_id(waiting) is None and commit.container_id({}) is None
    assert commit.image_names(running) == ["sha256:img"]
    # One image imported under one name and pulled under another: every name, the reported id first.
    both = {"spec": {"containers": [{"image": "localhost/bb:1"}]},
            "status": {"containerStatuses": [{"imageID": "localhost:5056/private/bb@sha256:ab", "image": "localhost/bb:1"}]}}
    assert commit.image_names(both) == ["localhost:5056/private/bb@sha256:ab", "localhost/bb:1"]
