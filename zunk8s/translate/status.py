"""Pod status -> Zun status, and the time-dependent ``status_detail`` string.

Pure functions of (pod, record status, now). The mapping (DESIGN.md):
Pending / ContainerCreating -> Creating; running -> Running; exited -> Stopped;
image-pull errors and unschedulable Pods -> Error with a reason; crash-looping -> Restarting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zunk8s.clock import kube_time
from zunk8s.records import Status
from zunk8s.translate.names import CONTAINER_NAME

# Waiting reasons that will not resolve by themselves: the container is in Error.
ERROR_WAITING = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreCreateHookError",
    "PreStartHookError",
    "ContainerCannotRun",
}


@dataclass(frozen=True)
class Observed:
    status: Status
    reason: str | None = None
    host: str | None = None
    pod_ip: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    restart_count: int = 0
    # True when the container ended and the kubelet will not run it again in this Pod.
    terminal: bool = False


def _main_status(pod: dict[str, Any], name: str, key: str) -> dict[str, Any] | None:
    for cs in (pod.get("status") or {}).get(key) or []:
        if cs.get("name") == name:
            return dict(cs)
    return None


def _reason(state: dict[str, Any]) -> str:
    reason = state.get("reason") or ""
    message = state.get("message") or ""
    return f"{reason}: {message}" if reason and message else reason or message


def observe_pod(pod: dict[str, Any], *, container: str = CONTAINER_NAME, init: bool = False) -> Observed:
    """The Zun status of one of the Pod's containers (a Zun container's Pod has one; a capsule's
    has several, and init containers)."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    phase = status.get("phase") or "Pending"
    host = spec.get("nodeName")
    pod_ip = status.get("podIP")
    cs = _main_status(pod, container, "initContainerStatuses" if init else "containerStatuses")
    restarts = int((cs or {}).get("restartCount") or 0)
    common: dict[str, Any] = {"host": host, "pod_ip": pod_ip, "restart_count": restarts}
    if not init and phase == "Failed":
        # An init container that failed (killed out of memory, say) ends the Pod before its
        # containers run: the container is in Error, with that reason.
        for ics in status.get("initContainerStatuses") or []:
            term = (ics.get("state") or {}).get("terminated") or {}
            if term and term.get("exitCode") != 0:
                return Observed("Error", f"init container {ics.get('name')}: {_reason(term) or 'failed'} "
                                         f"(exit code {term.get('exitCode')})", terminal=True, **common)

    if cs is None:
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                if cond.get("reason") == "Unschedulable":
                    return Observed("Error", f"Unschedulable: {cond.get('message') or ''}".strip(), **common)
        if phase == "Failed":
            return Observed("Error", _reason(status) or "Pod failed", terminal=True, **common)
        return Observed("Creating", None, **common)

    state = cs.get("state") or {}
    if "running" in state:
        return Observed("Running", None, started_at=state["running"].get("startedAt"), **common)
    if "terminated" in state:
        term = state["terminated"]
        code = term.get("exitCode")
        # The kubelet runs it again only under its restart policy; until the Pod's phase
        # catches up, a container that will not be restarted is already Stopped, not Restarting.
        policy = spec.get("restartPolicy") or "Always"
        terminal = phase in ("Succeeded", "Failed") or policy == "Never" or (policy == "OnFailure" and code == 0)
        finished = {"started_at": term.get("startedAt"), "finished_at": term.get("finishedAt"), "exit_code": code}
        if not terminal:
            return Observed("Restarting", None, terminal=False, **finished, **common)
        reason = None
        if phase == "Failed" and status.get("reason") not in (None, "DeadlineExceeded"):
            reason = _reason(status)
        return Observed("Stopped", reason, terminal=True, **finished, **common)
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason") or ""
    if reason in ERROR_WAITING:
        return Observed("Error", _reason(waiting), **common)
    if reason == "CrashLoopBackOff":
        last = (cs.get("lastState") or {}).get("terminated") or {}
        return Observed(
            "Restarting",
            None,
            finished_at=last.get("finishedAt"),
            exit_code=last.get("exitCode"),
            started_at=last.get("startedAt"),
            **common,
        )
    if phase in ("Succeeded", "Failed"):
        return Observed("Stopped", _reason(status) or None, terminal=True, **common)
    return Observed("Creating", None, **common)


def _ago(delta_seconds: float) -> str:
    s = max(0, int(delta_seconds))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    mins, secs = divmod(rem, 60)
    for value, unit in ((days, "days"), (hours, "hours"), (mins, "mins"), (secs, "seconds")):
        if value:
            return f"{value} {unit}"
    return "0 seconds"


def status_detail(
    *, status: str, started_at: str | None, finished_at: str | None, exit_code: int | None, now: datetime
) -> str | None:
    """Docker-style detail, as Zun's docker driver writes it ("Up 5 mins", "Exited(0) 8 mins ago ")."""
    if status == "Running":
        started = kube_time(started_at)
        return f"Up {_ago((now - started).total_seconds())}" if started else "Up"
    if status == "Stopped" and exit_code is not None:
        finished = kube_time(finished_at)
        when = f" {_ago((now - finished).total_seconds())} ago " if finished else " "
        return f"Exited({exit_code}){when}"
    if status in ("Created", "Restarting", "Dead"):
        return status
    return None
