"""Container logs: every run's, as Docker keeps them for a container across restarts.

Kubernetes keeps a container's logs only while its Pod exists, and each start of a Zun
container is a new Pod. When zunk8s deletes a Pod that has logs (a stop that outlived its
timeout, a kill, the next start, a restart after a failure) it first appends them (with
timestamps) to a ConfigMap owned by the record, keeping the newest ``LOG_ARCHIVE_LIMIT``
bytes (a ConfigMap holds at most 1 MiB). ``read_logs`` gives the saved runs followed by the
current Pod's, applying tail / since / timestamps itself when there are saved runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from zunk8s.errors import ZunError
from zunk8s.kube import crd
from zunk8s.kube.errors import KubeRejected
from zunk8s.kube.gateway import KubeGateway, read_log_archive, save_log_archive
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate import labels as L
from zunk8s.translate.names import CONTAINER_NAME, project_hash
from zunk8s.translate.status import now_utc

# A ConfigMap's data may total at most 1 MiB (1,048,576 bytes); leave room for the object.
LOG_ARCHIVE_LIMIT = 1000 * 1000


@dataclass(frozen=True)
class LogsQuery:
    tail: int | None
    since_seconds: int | None
    timestamps: bool
    # "Stdout" or "Stderr" when only one of Zun's stdout/stderr flags is set; None for both.
    stream: str | None = None


def log_archive_name(uuid: str) -> str:
    return f"zun-logs-{uuid}"


def keep_newest(data: bytes, limit: int = LOG_ARCHIVE_LIMIT) -> bytes:
    """The last ``limit`` bytes of ``data``, starting at a line."""
    if len(data) <= limit:
        return data
    cut = data[-limit:]
    newline = cut.find(b"\n")
    return cut[newline + 1 :] if newline >= 0 else cut


async def archive_logs(gw: KubeGateway, entry: Entry, pod: str) -> bool:
    """Append ``pod``'s logs to the record's saved logs before zunk8s deletes it; True if
    anything was saved."""
    try:
        data = await gw.read_logs(
            entry.namespace,
            pod,
            container=CONTAINER_NAME,
            tail=None,
            since_seconds=None,
            timestamps=True,
            limit_bytes=LOG_ARCHIVE_LIMIT,
        )
    except ZunError:
        return False  # nothing readable (never started, or already gone)
    if not data:
        return False
    name = log_archive_name(entry.uuid)
    earlier = await read_log_archive(gw, entry.namespace, name) if entry.status.logs_saved else None
    if earlier:
        data = earlier + (b"" if earlier.endswith(b"\n") else b"\n") + data
    owner = {
        "apiVersion": crd.API_VERSION,
        "kind": crd.KIND,
        "name": entry.uuid,
        "uid": entry.uid,
        "controller": True,
        "blockOwnerDeletion": False,
    }
    await save_log_archive(
        gw,
        entry.namespace,
        name,
        data=keep_newest(data),
        owner=owner,
        labels=L.owner_labels(
            uuid=entry.uuid, project_hash=project_hash(entry.record.project_id), instance=gw.instance
        ),
    )
    return True


async def read_logs(gw: KubeGateway, entry: Entry, query: LogsQuery) -> bytes:
    check_state("logs", uuid=entry.uuid, status=entry.status.status)
    pod = entry.status.pod
    cached = gw.cached_pod(entry.namespace, pod) if pod is not None else None
    # A Pod being deleted had its logs saved first: reading it too would show them twice.
    live = cached is not None and not (cached.get("metadata") or {}).get("deletionTimestamp")
    saved = await read_log_archive(gw, entry.namespace, log_archive_name(entry.uuid)) if entry.status.logs_saved else None
    if not saved:
        return await _live_logs(gw, entry.namespace, pod, query) if live and pod is not None else b""
    # Saved runs first, then the current Pod's; filtered here, on the timestamps both carry.
    # The saved copy holds both streams merged (README: "Logs").
    current = b""
    if live and pod is not None:
        current = await _live_logs(gw, entry.namespace, pod, LogsQuery(None, query.since_seconds, True, query.stream))
    joined = saved + (b"" if saved.endswith(b"\n") or not current else b"\n") + current
    return filter_archived(joined, query, now=now_utc())


async def _live_logs(gw: KubeGateway, namespace: str, pod: str, query: LogsQuery) -> bytes:
    try:
        return await _pod_logs(gw, namespace, pod, query)
    except KubeRejected as e:
        # 400 "container ... is waiting to start": no logs yet.
        if e.http_status == 400:
            return b""
        raise


async def _pod_logs(gw: KubeGateway, namespace: str, pod: str, query: LogsQuery) -> bytes:
    if query.stream is not None and gw.log_streams is not False:
        try:
            # The API refuses tailLines together with stream (for now), so tail is applied here.
            data = await gw.read_logs(
                namespace,
                pod,
                container=CONTAINER_NAME,
                tail=None,
                since_seconds=query.since_seconds,
                timestamps=query.timestamps,
                stream=query.stream,
            )
            gw.log_streams = True
            return tail_lines(data, query.tail)
        except KubeRejected as e:
            if "stream" not in e.fields:
                raise
            gw.log_streams = False  # the cluster cannot split the streams: both, merged
    return await gw.read_logs(
        namespace,
        pod,
        container=CONTAINER_NAME,
        tail=query.tail,
        since_seconds=query.since_seconds,
        timestamps=query.timestamps,
    )


def tail_lines(data: bytes, tail: int | None) -> bytes:
    if tail is None:
        return data
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-tail:]) if tail else b""


def filter_archived(data: bytes, query: LogsQuery, *, now: datetime) -> bytes:
    """Apply since/tail/timestamps to logs archived with timestamps (RFC3339Nano prefix)."""
    lines = data.splitlines(keepends=True)
    if query.since_seconds is not None:
        cutoff = now.timestamp() - query.since_seconds
        kept = []
        for line in lines:
            moment = log_time(line.split(b" ", 1)[0].decode(errors="replace"))
            if moment is None or moment.timestamp() >= cutoff:
                kept.append(line)
        lines = kept
    lines = tail_lines(b"".join(lines), query.tail).splitlines(keepends=True)
    if not query.timestamps:
        lines = [line.split(b" ", 1)[1] if b" " in line else line for line in lines]
    return b"".join(lines)


def log_time(stamp: str) -> datetime | None:
    """Parse a kubelet log timestamp (RFC3339 with nanoseconds, which fromisoformat refuses)."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())[:6].ljust(6, "0")
    return moment.replace(microsecond=int(digits))
