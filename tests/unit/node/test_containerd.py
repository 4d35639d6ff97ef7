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
