"""What a record's status becomes from its Pod, and an action's final write (pure)."""

from __future__ import annotations

from typing import Any

from zunk8s.records import Record, RecordStatus
from zunk8s.translate.statuschanges import final_changes, not_running, pod_changes

RECORD = Record(uuid="u", name="n", project_id="p", user_id="x", image="busybox", created_at="2026-01-01 00:00:00.0")
ON_FAILURE_2 = RECORD.model_copy(update={"restart_policy": {"Name": "on-failure", "MaximumRetryCount": "2"}})

RUNNING = {
    "spec": {"nodeName": "zun-real-0", "restartPolicy": "Never"},
    "status": {
        "phase": "Running",
        "podIP": "10.88.0.7",
        "containerStatuses": [{"name": "main", "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}}}],
    },
}


def ended(code: int) -> dict[str, Any]:
    term = {"exitCode": code, "startedAt": "2026-01-01T00:00:01Z", "finishedAt": "2026-01-01T00:00:09Z"}
    return {
        "spec": {"nodeName": "zun-real-0", "restartPolicy": "Never"},
        "status": {
            "phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [{"name": "main", "restartCount": 0, "state": {"terminated": term}}],
        },
    }


def status(**fields: Any) -> RecordStatus:
    return RecordStatus.model_validate({"pod": "zun-u-1", "desired": "running", **fields})


def test_nothing_to_write_without_a_pod_name() -> None:
    assert pod_changes(RECORD, RecordStatus(), RUNNING) is None


def test_running_pod() -> None:
    changes = pod_changes(RECORD, status(status="Creating"), RUNNING)
    assert changes is not None
    assert changes["status"] == "Running" and changes["pod_ip"] == "10.88.0.7" and changes["host"] == "zun-real-0"


def test_in_sync_writes_nothing() -> None:
    first = pod_changes(RECORD, status(status="Creating"), RUNNING)
    assert first is not None
    assert pod_changes(RECORD, status(**first), RUNNING) is None


def test_pod_gone_while_wanted_running_is_an_error() -> None:
    changes = pod_changes(RECORD, status(status="Running"), None)
    assert changes == {
        "status": "Error",
        "status_reason": "Pod zun-u-1 was deleted outside zunk8s; start the container again.",
        "pod_ip": None,
    }
    assert pod_changes(RECORD, status(status="Stopped", desired="stopped"), None) is None


def test_on_failure_restarting_then_limit() -> None:
    changes = pod_changes(ON_FAILURE_2, status(status="Running", restart_count=1), ended(3))
    assert changes is not None and changes["status"] == "Restarting" and changes["exit_code"] == 3
    last = pod_changes(ON_FAILURE_2, status(status="Running", restart_count=2), ended(3))
    assert last is not None
    assert last["status"] == "Stopped" and last["desired"] == "stopped"
    assert last["status_reason"] == "maximum retry count 2 reached"


def test_a_kill_outcome_wins_and_clears_the_ip() -> None:
    # The killed Pod may still be in the cache, running: the outcome wins, and Stopped has no IP.
    outcome = {"status": "Stopped", "exit_code": 137, "status_reason": "killed", "finished_at": "t"}
    changes = final_changes(RECORD, status(status="Running", pod_ip="10.88.0.7", desired="stopped"), RUNNING, outcome)
    assert changes["status"] == "Stopped" and changes["exit_code"] == 137 and changes["status_reason"] == "killed"
    assert changes["pod_ip"] is None


def test_a_start_ends_with_what_the_pod_shows() -> None:
    changes = final_changes(RECORD, status(status="Stopped"), RUNNING, {})
    assert changes["status"] == "Running" and changes["pod_ip"] == "10.88.0.7"


def test_an_outcome_on_a_record_in_sync_is_just_the_outcome() -> None:
    assert final_changes(RECORD, status(status="Stopped", desired="stopped"), None, {"status": "Stopped"}) == {
        "status": "Stopped"
    }


def test_not_running() -> None:
    assert not_running(None) and not_running(ended(0)) and not not_running(RUNNING)
