"""Container logs: every run's, as Docker keeps them for a container across restarts.

Kubernetes keeps a container's logs only while its Pod exists, and each start of a Zun
container is a new Pod. When zunk8s deletes a Pod that has logs (a stop that outlived its
timeout, a kill, the next start, a restart after a failure) it first appends them (with
timestamps) to a ConfigMap owned by the record, keeping the newest ``LOG_ARCHIVE_LIMIT``
bytes (a ConfigMap holds at most 1 MiB). ``Logs.read`` gives the saved runs followed by the
current Pod's, applying tail / since / timestamps itself when there are saved runs (the text
work is translate/logtext.py).
"""

from __future__ import annotations

from zunk8s.clock import now_utc
from zunk8s.kube.errors import KubeError, KubeRejected
from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate import labels as L
from zunk8s.translate.logtext import (
    LOG_ARCHIVE_LIMIT,
    LogsQuery,
    filter_archived,
    join_logs,
    keep_newest,
    log_archive_name,
)
from zunk8s.translate.names import CONTAINER_NAME, project_hash
from zunk8s.translate.objects import log_archive_configmap, record_owner


class Logs:
    """Read a container's logs, and save a Pod's before it is deleted."""

    def __init__(self, gw: KubeGateway) -> None:
        self._gw = gw

    async def archive(self, entry: Entry, pod: str) -> bool:
        """Append ``pod``'s logs to the record's saved logs before zunk8s deletes it; True if
        anything was saved. Kubernetes failing to save them raises its KubeError."""
        try:
            data = await self._gw.read_logs(
                entry.namespace,
                pod,
                container=CONTAINER_NAME,
                tail=None,
                since_seconds=None,
                timestamps=True,
                limit_bytes=LOG_ARCHIVE_LIMIT,
            )
        except KubeError:
            return False  # nothing readable (never started, or already gone)
        if not data:
            return False
        name = log_archive_name(entry.uuid)
        earlier = await self._gw.read_log_archive(entry.namespace, name) if entry.status.logs_saved else None
        if earlier:
            data = join_logs(earlier, data)
        labels = L.owner_labels(
            uuid=entry.uuid, project_hash=project_hash(entry.record.project_id), instance=self._gw.instance
        )
        await self._gw.save_log_archive(
            log_archive_configmap(
                entry.namespace, name, data=keep_newest(data), owner=record_owner(entry.uuid, entry.uid), labels=labels
            )
        )
        return True

    async def read(self, entry: Entry, query: LogsQuery) -> bytes:
        """Zun's logs: the saved runs' then the current Pod's (409 in states without logs)."""
        check_state("logs", uuid=entry.uuid, status=entry.status.status)
        pod = entry.status.pod
        cached = self._gw.cached_pod(entry.namespace, pod) if pod is not None else None
        # A Pod being deleted had its logs saved first: reading it too would show them twice.
        live = cached is not None and not (cached.get("metadata") or {}).get("deletionTimestamp")
        saved = (
            await self._gw.read_log_archive(entry.namespace, log_archive_name(entry.uuid))
            if entry.status.logs_saved
            else None
        )
        if not saved:
            return await self._live(entry.namespace, pod, query) if live and pod is not None else b""
        # Saved runs first, then the current Pod's; filtered here, on the timestamps both carry.
        # The saved copy holds both streams merged (README: "Logs").
        current = b""
        if live and pod is not None:
            current = await self._live(entry.namespace, pod, LogsQuery(None, query.since_seconds, True, query.stream))
        return filter_archived(join_logs(saved, current), query, now=now_utc())

    async def _live(self, namespace: str, pod: str, query: LogsQuery) -> bytes:
        try:
            # One stream alone where the cluster can split them, both merged where it cannot:
            # the gateway decides (and applies tail itself when it must).
            return await self._gw.read_logs(
                namespace,
                pod,
                container=CONTAINER_NAME,
                tail=query.tail,
                since_seconds=query.since_seconds,
                timestamps=query.timestamps,
                stream=query.stream,
            )
        except KubeRejected as e:
            # 400 "container ... is waiting to start": no logs yet.
            if e.http_status == 400:
                return b""
            raise
