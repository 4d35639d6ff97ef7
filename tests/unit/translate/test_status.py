from datetime import datetime, timezone
from typing import Any

import pytest

from zunk8s.translate.status import observe_pod, status_detail

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)


def pod(phase: str, state: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"phase": phase, **status}
    if state is not None:
        st["containerStatuses"] = [{"name": "main", "restartCount": status.pop("restarts", 0), "state": state}]
        st.pop("restarts", None)
    return {"spec": {"nodeName": "zun-real-0"}, "status": st}


CASES = [
    (pod("Pending"), "Creating", None),
    (pod("Pending", {"waiting": {"reason": "ContainerCreating"}}), "Creating", None),
    (pod("Pending", {"waiting": {"reason": "ErrImagePull", "message": "not found"}}), "Error", "ErrImagePull: not found"),
    (pod("Pending", {"waiting": {"reason": "ImagePullBackOff", "message": "back-off"}}), "Error", "ImagePullBackOff: back-off"),
    (pod("Pending", {"waiting": {"reason": "InvalidImageName"}}), "Error", "InvalidImageName"),
    (
        pod("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes"}]),
        "Error",
        "Unschedulable: 0/1 nodes",
    ),
    (pod("Running", {"running": {"startedAt": "2026-11-27T11:55:00Z"}}), "Running", None),
    (pod("Running", {"waiting": {"reason": "CrashLoopBackOff"}}), "Restarting", None),
    (pod("Running", {"terminated": {"exitCode": 1}}), "Restarting", None),
    (pod("Succeeded", {"terminated": {"exitCode": 0, "finishedAt": "2026-11-27T11:52:00Z"}}), "Stopped", None),
    (pod("Failed", {"terminated": {"exitCode": 137}}, reason="DeadlineExceeded"), "Stopped", None),
    (pod("Failed", {"terminated": {"exitCode": 137}}, reason="Evicted", message="low memory"), "Stopped", "Evicted: low memory"),
]


@pytest.mark.parametrize(("p", "status", "reason"), CASES)
def test_observe(p: dict[str, Any], status: str, reason: str | None) -> None:
    obs = observe_pod(p)
    assert obs.status == status
    assert obs.reason == reason
    assert obs.host == "zun-real-0"


def test_terminal_flags() -> None:
    assert observe_pod(pod("Succeeded", {"terminated": {"exitCode": 0}})).terminal
    assert not observe_pod(pod("Running", {"terminated": {"exitCode": 1}})).terminal


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"status": "Running", "started_at": "2026-11-27T11:55:00Z"}, "Up 5 mins"),
        ({"status": "Running", "started_at": "2026-11-25T11:00:00Z"}, "Up 2 days"),
        ({"status": "Running", "started_at": "2026-11-27T11:59:30Z"}, "Up 30 seconds"),
        ({"status": "Stopped", "exit_code": 0, "finished_at": "2026-11-27T11:52:00Z"}, "Exited(0) 8 mins ago "),
        ({"status": "Stopped", "exit_code": 1, "finished_at": "2026-11-27T09:00:00Z"}, "Exited(1) 3 hours ago "),
        ({"status": "Created"}, "Created"),
        ({"status": "Error"}, None),
    ],
)
def test_status_detail(kw: dict[str, Any], expected: str | None) -> None:
    args: dict[str, Any] = {"started_at": None, "finished_at": None, "exit_code": None, **kw}
    assert status_detail(now=NOW, **args) == expected


# --- #13 class 12: lifecycle ---

def _pod(policy: str, state: dict[str, Any], phase: str = "Running") -> dict[str, Any]:
    return {
        "spec": {"restartPolicy": policy},
        "status": {"phase": phase, "containerStatuses": [{"name": "main", "restartCount": 0, "state": state}]},
    }


def test_an_exit_that_will_not_be_restarted_is_stopped_at_once() -> None:
    # The kubelet reports the container terminated before the Pod's phase says so.
    assert observe_pod(_pod("Never", {"terminated": {"exitCode": 1}})).status == "Stopped"
    assert observe_pod(_pod("OnFailure", {"terminated": {"exitCode": 0}})).status == "Stopped"
    assert observe_pod(_pod("OnFailure", {"terminated": {"exitCode": 1}})).status == "Restarting"
    assert observe_pod(_pod("Always", {"terminated": {"exitCode": 0}})).status == "Restarting"


def test_an_init_container_that_failed_is_the_containers_error() -> None:
    pod = {"spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
           "initContainerStatuses": [{"name": "zun-inject", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}],
           "containerStatuses": [{"name": "zun", "state": {"waiting": {"reason": "PodInitializing"}}}]}}
    observed = observe_pod(pod)
    assert observed.status == "Error" and observed.terminal
    assert observed.reason == "init container zun-inject: OOMKilled (exit code 137)"
