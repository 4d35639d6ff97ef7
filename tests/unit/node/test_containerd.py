"""containerd's messages, encoded and decoded by hand (zunk8s/node/containerd.py)."""

import pytest

from zunk8s.node.containerd import ContainerdError, container_request, task_pid, task_status

CID = "f62dffab0fbc7dd0145ac1dee61dcf54dc03a705c1b9b84510cc025613c8cc36"


def test_the_request_is_field_one() -> None:
    assert container_request("abc") == b"\x0a\x03abc"
    long = container_request(CID * 3)  # 192 bytes: a two-byte length
    assert long[:3] == b"\x0a\xc0\x01" and long[3:] == (CID * 3).encode()


def test_the_status_of_a_get_answer() -> None:
    # A GetResponse as containerd 1.6 sent it on the local cluster: process{id, pid, status=2}.
    process = b"\x12\x40" + CID.encode() + b"\x18\xd2\xce\x01" + b"\x20\x02"
    answer = b"\x0a" + bytes([len(process)]) + process
    assert task_status(answer) == "running"
    assert task_status(b"\x0a" + bytes([len(process)]) + process[:-1] + b"\x04") == "paused"
    assert task_status(b"") == "unknown"
    with pytest.raises(ContainerdError):
        task_status(b"\x0a\x05ab")  # truncated


def test_the_pid_of_a_get_answer() -> None:
    # The same answer: process.pid (field 3) is the container's main process on the node (stats).
    process = b"\x12\x40" + CID.encode() + b"\x18\xd2\xce\x01" + b"\x20\x02"
    assert task_pid(b"\x0a" + bytes([len(process)]) + process) == 26450
    stopped = b"\x12\x40" + CID.encode() + b"\x20\x03"
    assert task_pid(b"\x0a" + bytes([len(stopped)]) + stopped) == 0  # no process: no pid


def test_the_wire_helpers_round_trip() -> None:
    from zunk8s.node import protowire as wire

    msg = wire.string_field(1, "k") + wire.int_field(2, 300) + wire.map_field(3, {"a": "b", "c": "d"}) + wire.string_field(4, "")
    parsed = wire.fields(msg)
    assert wire.last_str(parsed, 1) == "k" and wire.last_int(parsed, 2) == 300
    entries = [wire.fields(e) for e in parsed[3] if isinstance(e, bytes)]
    assert [(wire.last_str(e, 1), wire.last_str(e, 2)) for e in entries] == [("a", "b"), ("c", "d")]
    assert 4 not in parsed  # proto3 leaves an empty string out
    assert wire.varint(-1) == b"\xff" * 9 + b"\x01"  # int64 -1: ten bytes
    with pytest.raises(wire.WireError):
        wire.fields(b"\x0b")  # wire type 3 (groups) is not protobuf 3's


def test_mounts_descriptors_and_snapshots() -> None:
    from zunk8s.node.containerd import Descriptor, Mount, diff_request, image_target, mounts_of, snapshot_parent
    from zunk8s.node.protowire import message_field, string_field

    upper = Mount(type="overlay", source="overlay", options=("upperdir=/u", "lowerdir=/l"))
    assert Mount.decode(upper.encode()) == upper
    answer = message_field(1, upper.encode()) + message_field(1, Mount(type="bind", source="/s").encode())
    assert [m.type for m in mounts_of(answer)] == ["overlay", "bind"]
    request = diff_request([Mount(type="bind", source="/s")], [upper], "application/vnd.oci.image.layer.v1.tar")
    assert b"upperdir=/u" in request and request.endswith(b"application/vnd.oci.image.layer.v1.tar")
    info = string_field(1, "cid") + string_field(2, "sha256:parent")
    assert snapshot_parent(message_field(1, info)) == "sha256:parent"
    target = string_field(1, "application/vnd.oci.image.manifest.v1+json") + string_field(2, "sha256:m") + b"\x18\x80\x02"
    image = string_field(1, "busybox") + message_field(3, target)
    assert image_target(message_field(1, image)) == Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:m", 256)
