from zunk8s.node.containerd import _varint, container_request, task_pid, task_status


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def get_response(**process: int | bytes) -> bytes:
    """containerd's GetResponse: process (1) = Process{container_id 1, id 2, pid 3, status 4, …}."""
    numbers = {"container_id": 1, "id": 2, "pid": 3, "status": 4, "exit_status": 9}
    body = b"".join(field(numbers[k], v) for k, v in process.items())
    return field(1, body)


def test_the_pid_and_status_of_a_task() -> None:
    cid = b"55a313556f10283a3cbd64622ceaca95f82b81dfd1d4ea42c5ea63d23d46da04"
    answer = get_response(container_id=cid, id=cid, pid=6970, status=2, exit_status=0)
    assert task_pid(answer) == 6970
    assert task_status(answer) == "running"
    assert task_pid(get_response(container_id=cid, status=3)) == 0  # stopped: no process


def test_a_request_names_the_container() -> None:
    assert container_request("abc") == b"\x0a\x03abc"
