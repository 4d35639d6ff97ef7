"""What to write into a record's status (pure): what its current Pod shows (``pod_changes``,
written by the reconciler through service/podsync.py when a Pod changes), and an action's
final write (``final_changes``: the action's outcome over what the Pod shows, written by
service/operations.py with task_state cleared), so an action ends in one write that already
says what the Pod says.
"""

from __future__ import annotations

from typing import Any

from zunk8s.records import Record, RecordStatus
from zunk8s.translate.pods import retry_limit, zunk8s_restarts
from zunk8s.translate.status import observe_pod

Changes = dict[str, Any]


def pod_changes(record: Record, st: RecordStatus, pod: dict[str, Any] | None) -> Changes | None:
    """The status fields that differ from what ``pod`` (the record's current Pod, None if it
    is gone) shows; None when nothing would change or the record names no Pod."""
    if st.pod is None:
        return None
    if pod is None:
        if st.desired == "running" and st.status not in ("Stopped", "Error", "Deleting"):
            return {
                "status": "Error",
                "status_reason": f"Pod {st.pod} was deleted outside zunk8s; start the container again.",
                "pod_ip": None,
            }
        return None
    obs = observe_pod(pod)
    changes: Changes = {
        "status": obs.status,
        "host": obs.host,
        "pod_ip": obs.pod_ip if obs.status == "Running" else None,
        "started_at": obs.started_at,
        "finished_at": obs.finished_at,
        "exit_code": obs.exit_code,
        # on-failure:N counts the Pods zunk8s made; otherwise the kubelet counts in the Pod.
        "restart_count": st.restart_count if zunk8s_restarts(record) else obs.restart_count,
    }
    if st.paused and obs.status == "Running":
        changes["status"] = "Paused"  # frozen by the node agent: the kubelet cannot tell
        changes["pod_ip"] = obs.pod_ip
    elif st.paused and obs.status in ("Stopped", "Error"):
        changes["paused"] = False  # its process ended (a frozen one only by SIGKILL): nothing is frozen
    # A reason we wrote (e.g. a stop-timeout kill or a retry limit) outlives the Pod's own.
    if obs.reason is not None or obs.status != "Stopped":
        changes["status_reason"] = obs.reason
    if zunk8s_restarts(record) and st.desired == "running":
        # on-failure:N: Restarting between a failed run and the next one's start, as Docker
        # shows it (the reconciler makes the next Pod); after N retries, Stopped.
        limit = retry_limit(record)
        failed = obs.status == "Stopped" and bool(obs.exit_code)
        if failed and st.restart_count >= limit:
            changes.update(desired="stopped", status_reason=f"maximum retry count {limit} reached")
        elif failed or (obs.status == "Creating" and st.restart_count > 0):
            changes["status"] = "Restarting"
    current = st.model_dump(exclude={"actions"})  # the action log is no Pod's business (and large)
    if all(current.get(k) == v for k, v in changes.items()):
        return None
    return changes


def final_changes(record: Record, st: RecordStatus, pod: dict[str, Any] | None, outcome: Changes) -> Changes:
    """An action's last write (without the task fields): its ``outcome`` (e.g. Stopped and 137
    after a kill) wins over what ``pod`` shows, the rest of what the Pod shows is kept, and a
    container that does not run has no IP (a killed Pod may still be in the cache, running)."""
    status = st.model_copy(update=outcome)
    changes = pod_changes(record, status, pod) or {}
    changes.update(outcome)
    if changes.get("status", st.status) not in ("Running", "Paused") and (changes.get("pod_ip") or st.pod_ip) is not None:
        changes["pod_ip"] = None
    return changes


def not_running(pod: dict[str, Any] | None) -> bool:
    """The Pod is gone or its container no longer runs (nor is about to)."""
    if pod is None:
        return True
    return observe_pod(pod).status not in ("Running", "Creating")
