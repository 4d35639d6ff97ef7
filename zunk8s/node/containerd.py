"""The node's containerd, over its gRPC socket: the only code that talks to it.

Only what the agent needs, in containerd's own API: a task's Pause, Resume and Get (tasks/v1);
for commit, a snapshot's parent, mounts and a read-only view of it (snapshots/v1), the diff of
two mounts as a layer (diff/v1), reading and deleting content (content/v1), an image's target
(images/v1) and a lease that keeps what a commit makes from containerd's garbage collector while
it works, and lets it go if the agent dies (leases/v1). The messages are encoded and decoded by
hand (node/protowire.py) rather than generating and shipping stubs for a dozen calls.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import grpc
import grpc.aio

from zunk8s.node import protowire as wire
from zunk8s.node.protowire import message_field

TASKS = "/containerd.services.tasks.v1.Tasks"
SNAPSHOTS = "/containerd.services.snapshots.v1.Snapshots"
DIFF = "/containerd.services.diff.v1.Diff"
CONTENT = "/containerd.services.content.v1.Content"
IMAGES = "/containerd.services.images.v1.Images"
LEASES = "/containerd.services.leases.v1.Leases"
# containerd's garbage collector drops a lease past this label's time (an agent that died).
GC_EXPIRE = "containerd.io/gc.expire"
# containerd.v1.types.Status
_STATUSES = {0: "unknown", 1: "created", 2: "running", 3: "stopped", 4: "paused", 5: "pausing"}
TaskStatus = Literal["unknown", "created", "running", "stopped", "paused", "pausing"]


class ContainerdError(Exception):
    """containerd refused or could not be reached; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def container_request(container_id: str) -> bytes:
    """PauseTaskRequest / ResumeTaskRequest / GetRequest: field 1, the container id."""
    return message_field(1, container_id.encode())


def _parse(data: bytes) -> dict[int, list[wire.Value]]:
    try:
        return wire.fields(data)
    except wire.WireError as e:
        raise ContainerdError(f"unreadable answer from containerd: {e}") from None


def task_status(get_response: bytes) -> TaskStatus:
    """GetResponse.process (field 1) .status (field 4)."""
    process = _parse(wire.last_bytes(_parse(get_response), 1))
    return _STATUSES.get(wire.last_int(process, 4), "unknown")  # type: ignore[return-value]


def task_pid(get_response: bytes) -> int:
    """GetResponse.process (field 1) .pid (field 3): the container's main process on the node;
    0 when it has none (not started, or gone)."""
    return wire.last_int(_parse(wire.last_bytes(_parse(get_response), 1)), 3)


@dataclass(frozen=True)
class Mount:
    """containerd.types.Mount: how to mount a snapshot (overlay, its lower and upper dirs)."""

    type: str
    source: str
    target: str = ""
    options: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return (wire.string_field(1, self.type) + wire.string_field(2, self.source) + wire.string_field(3, self.target)
                + b"".join(message_field(4, o.encode()) for o in self.options))

    @classmethod
    def decode(cls, data: bytes) -> Mount:
        f = _parse(data)
        options = tuple(v.decode(errors="replace") for v in f.get(4, []) if isinstance(v, bytes))
        return cls(type=wire.last_str(f, 1), source=wire.last_str(f, 2), target=wire.last_str(f, 3), options=options)


@dataclass(frozen=True)
class Descriptor:
    """containerd.types.Descriptor: a blob in the content store."""

    media_type: str
    digest: str
    size: int

    @classmethod
    def decode(cls, data: bytes) -> Descriptor:
        f = _parse(data)
        return cls(media_type=wire.last_str(f, 1), digest=wire.last_str(f, 2), size=wire.last_int(f, 3))


def mounts_of(answer: bytes, number: int = 1) -> list[Mount]:
    return [Mount.decode(v) for v in _parse(answer).get(number, []) if isinstance(v, bytes)]


def diff_request(left: list[Mount], right: list[Mount], media_type: str) -> bytes:
    return (b"".join(message_field(1, m.encode()) for m in left) + b"".join(message_field(2, m.encode()) for m in right)
            + wire.string_field(3, media_type))


def snapshot_parent(stat_answer: bytes) -> str:
    """StatSnapshotResponse.info (1) .parent (2)."""
    return wire.last_str(_parse(wire.last_bytes(_parse(stat_answer), 1)), 2)


def image_target(get_answer: bytes) -> Descriptor:
    """GetImageResponse.image (1) .target (3)."""
    return Descriptor.decode(wire.last_bytes(_parse(wire.last_bytes(_parse(get_answer), 1)), 3))


class Containerd:
    def __init__(self, socket: str, *, namespace: str = "k8s.io", timeout: float = 10.0) -> None:
        self._channel = grpc.aio.insecure_channel(f"unix://{socket}")
        self._metadata = (("containerd-namespace", namespace),)
        self._timeout = timeout

    async def close(self) -> None:
        await self._channel.close()

    async def _unary(self, method: str, request: bytes, *, lease: str | None = None) -> bytes:
        call = self._channel.unary_unary(method)
        metadata = self._metadata + ((("containerd-lease", lease),) if lease else ())
        try:
            answer: bytes = await call(request, metadata=metadata, timeout=self._timeout)
        except grpc.aio.AioRpcError as e:
            raise ContainerdError(f"containerd {method.rsplit('/', 1)[-1]}: {e.details() or e.code().name}") from None
        return answer

    async def _call(self, method: str, container_id: str) -> bytes:
        return await self._unary(f"{TASKS}/{method}", container_request(container_id))

    async def status(self, container_id: str) -> TaskStatus:
        return task_status(await self._call("Get", container_id))

    async def pid(self, container_id: str) -> int:
        """The container's main process id on the node (for stats: zunk8s/node/metrics.py)."""
        pid = task_pid(await self._call("Get", container_id))
        if pid <= 0:
            raise ContainerdError(f"containerd knows no process of container {container_id}")
        return pid

    async def running(self, container_id: str) -> bool:
        """Whether the container's task runs; an ended container has no task (the runtime
        deletes it when its process exits), which is not running either."""
        try:
            return await self.status(container_id) == "running"
        except ContainerdError as e:
            if "not found" in e.detail.lower():
                return False
            raise

    async def pause(self, container_id: str) -> None:
        """Freeze the container's processes (the cgroup freezer); already frozen is done."""
        if await self.status(container_id) != "paused":
            await self._call("Pause", container_id)

    async def resume(self, container_id: str) -> None:
        if await self.status(container_id) in ("paused", "pausing"):
            await self._call("Resume", container_id)

    @asynccontextmanager
    async def lease(self, *, expire: float) -> AsyncIterator[str]:
        """A lease for what is made inside (a view, a diff's blob): containerd's garbage collector
        keeps them while it holds and drops them after; it expires by itself after ``expire``
        seconds should the agent die before it lets go."""
        lease_id = f"zunk8s-{uuid.uuid4()}"
        until = (datetime.now(UTC) + timedelta(seconds=expire)).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self._unary(f"{LEASES}/Create", wire.string_field(1, lease_id) + wire.map_field(3, {GC_EXPIRE: until}))
        try:
            yield lease_id
        finally:
            try:
                await self._unary(f"{LEASES}/Delete", wire.string_field(1, lease_id))
            except ContainerdError:
                pass  # it expires by itself

    async def snapshot_parent(self, snapshotter: str, key: str) -> str:
        return snapshot_parent(await self._unary(f"{SNAPSHOTS}/Stat", wire.string_field(1, snapshotter) + wire.string_field(2, key)))

    async def snapshot_mounts(self, snapshotter: str, key: str) -> list[Mount]:
        return mounts_of(await self._unary(f"{SNAPSHOTS}/Mounts", wire.string_field(1, snapshotter) + wire.string_field(2, key)))

    async def view(self, snapshotter: str, key: str, parent: str, *, lease: str) -> list[Mount]:
        """A read-only view of snapshot ``parent`` under the new key ``key``."""
        request = wire.string_field(1, snapshotter) + wire.string_field(2, key) + wire.string_field(3, parent)
        return mounts_of(await self._unary(f"{SNAPSHOTS}/View", request, lease=lease))

    async def remove_snapshot(self, snapshotter: str, key: str) -> None:
        await self._unary(f"{SNAPSHOTS}/Remove", wire.string_field(1, snapshotter) + wire.string_field(2, key))

    async def diff(self, left: list[Mount], right: list[Mount], media_type: str, *, lease: str) -> Descriptor:
        """The changes from ``left`` to ``right`` as a layer blob (a tar with whiteouts) in the
        content store: DiffResponse.diff is field 3."""
        answer = await self._unary(f"{DIFF}/Diff", diff_request(left, right, media_type), lease=lease)
        return Descriptor.decode(wire.last_bytes(_parse(answer), 3))

    async def image_target(self, name: str) -> Descriptor:
        return image_target(await self._unary(f"{IMAGES}/Get", wire.string_field(1, name)))

    async def read(self, digest: str) -> AsyncIterator[bytes]:
        """A blob of the content store, in the chunks containerd sends (ReadContentResponse.data)."""
        call = self._channel.unary_stream(f"{CONTENT}/Read")
        try:
            async for chunk in call(wire.string_field(1, digest), metadata=self._metadata, timeout=None):
                yield wire.last_bytes(_parse(chunk), 2)
        except grpc.aio.AioRpcError as e:
            raise ContainerdError(f"containerd Read {digest}: {e.details() or e.code().name}") from None

    async def read_all(self, digest: str, *, limit: int) -> bytes:
        """A small blob (a manifest, a config) whole; more than ``limit`` bytes is refused."""
        out = bytearray()
        async for chunk in self.read(digest):
            out += chunk
            if len(out) > limit:
                raise ContainerdError(f"blob {digest} is larger than {limit} bytes")
        return bytes(out)

    async def has_content(self, digest: str) -> bool:
        try:
            await self._unary(f"{CONTENT}/Info", wire.string_field(1, digest))
        except ContainerdError as e:
            if "not found" in e.detail.lower():
                return False
            raise
        return True

    async def delete_content(self, digest: str) -> None:
        await self._unary(f"{CONTENT}/Delete", wire.string_field(1, digest))
