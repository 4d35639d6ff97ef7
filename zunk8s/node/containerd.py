"""The node's containerd, over its gRPC socket: the only code that talks to it.

Only what the agent needs, in containerd's own API (services/tasks/v1): a task's Pause, Resume
and Get. The request messages have one field (the container id) and the answer of Get is read
for two (the status, the pid): both are encoded and decoded here by hand (protobuf's wire format: a
tag, a length, the bytes), rather than generating and shipping stubs for three calls.
"""

from __future__ import annotations

from typing import Literal

import grpc
import grpc.aio

TASKS = "/containerd.services.tasks.v1.Tasks"
# containerd.v1.types.Status
_STATUSES = {0: "unknown", 1: "created", 2: "running", 3: "stopped", 4: "paused", 5: "pausing"}
TaskStatus = Literal["unknown", "created", "running", "stopped", "paused", "pausing"]


class ContainerdError(Exception):
    """containerd refused or could not be reached; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def container_request(container_id: str) -> bytes:
    """PauseTaskRequest / ResumeTaskRequest / GetRequest: field 1, the container id."""
    data = container_id.encode()
    return b"\x0a" + _varint(len(data)) + data


def _fields(data: bytes) -> dict[int, bytes | int]:
    """The top-level fields of a protobuf message (the last of each number)."""
    out: dict[int, bytes | int] = {}
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, kind = key >> 3, key & 7
        if kind == 0:
            out[number], i = _read_varint(data, i)
        elif kind == 2:
            size, i = _read_varint(data, i)
            if i + size > len(data):
                raise ContainerdError("truncated answer from containerd")
            out[number], i = data[i:i + size], i + size
        elif kind == 1:
            i += 8
        elif kind == 5:
            i += 4
        else:
            raise ContainerdError(f"unreadable answer from containerd (wire type {kind})")
    return out


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ContainerdError("truncated answer from containerd")
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def task_status(get_response: bytes) -> TaskStatus:
    """GetResponse.process (field 1) .status (field 4)."""
    process = _fields(get_response).get(1, b"")
    status = _fields(process if isinstance(process, bytes) else b"").get(4, 0)
    return _STATUSES.get(status if isinstance(status, int) else 0, "unknown")  # type: ignore[return-value]


def task_pid(get_response: bytes) -> int:
    """GetResponse.process (field 1) .pid (field 3): the container's main process on the node;
    0 when it has none (not started, or gone)."""
    process = _fields(get_response).get(1, b"")
    pid = _fields(process if isinstance(process, bytes) else b"").get(3, 0)
    return pid if isinstance(pid, int) else 0


class Containerd:
    def __init__(self, socket: str, *, namespace: str = "k8s.io", timeout: float = 10.0) -> None:
        self._channel = grpc.aio.insecure_channel(f"unix://{socket}")
        self._metadata = (("containerd-namespace", namespace),)
        self._timeout = timeout

    async def close(self) -> None:
        await self._channel.close()

    async def _call(self, method: str, container_id: str) -> bytes:
        call = self._channel.unary_unary(f"{TASKS}/{method}")
        try:
            answer: bytes = await call(container_request(container_id), metadata=self._metadata, timeout=self._timeout)
        except grpc.aio.AioRpcError as e:
            raise ContainerdError(f"containerd {method}: {e.details() or e.code().name}") from None
        return answer

    async def status(self, container_id: str) -> TaskStatus:
        return task_status(await self._call("Get", container_id))

    async def pid(self, container_id: str) -> int:
        """The container's main process id on the node (for stats: zunk8s/node/metrics.py)."""
        pid = task_pid(await self._call("Get", container_id))
        if pid <= 0:
            raise ContainerdError(f"containerd knows no process of container {container_id}")
        return pid

    async def pause(self, container_id: str) -> None:
        """Freeze the container's processes (the cgroup freezer); already frozen is done."""
        if await self.status(container_id) != "paused":
            await self._call("Pause", container_id)

    async def resume(self, container_id: str) -> None:
        if await self.status(container_id) in ("paused", "pausing"):
            await self._call("Resume", container_id)
