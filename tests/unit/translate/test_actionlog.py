"""Zun's action log (pure): what an action records, its end, the bound, and Zun's views."""

from __future__ import annotations

from typing import Any

import pytest

from zunk8s.translate.actionlog import (
    EVENTS,
    MAX_ACTIONS,
    MAX_TRACEBACK,
    START_EVENT,
    ZUN_ACTIONS,
    Begun,
    action_detail,
    actions_view,
    begun_entry,
    ended_entry,
    log_patch,
    logged_as,
    next_event,
)

T0, T1, T2 = "2026-12-02T11:00:00.000001", "2026-12-02T11:00:01.500000", "2026-12-02T11:00:03.000000"


def begun(action: str = "stop", *, rid: str = "req-1", at: str = T0) -> Begun:
    return Begun(request_id=rid, action=action, user_id="u1", project_id="p1", start_time=at)


@pytest.mark.parametrize(
    ("verb", "action"),
    [
        ("start", "start"), ("stop", "stop"), ("reboot", "reboot"), ("kill", "kill"), ("rebuild", "rebuild"),
        ("delete", "delete"), ("delete_force", "delete"), ("delete_after_stop", "delete"),
        ("execute", "exec_cmd"), ("attach", "container_attach"), ("resize", None), ("put_archive", "put_archive"),
        ("update", "update"), ("rename", "update"), ("resize_container", "update"),
        ("add_security_group", "add_security_group"), ("network_attach", "network_attach"),
        ("pause", "pause"), ("unpause", "unpause"), ("commit", "commit"),
        # Not actions of Zun's log:
        ("top", None), ("logs", None), ("get_archive", None), ("execute_resize", None), ("stats", None),
        ("network_list", None),
    ],
)
def test_verbs_are_logged_under_zun_names(verb: str, action: str | None) -> None:
    assert logged_as(verb) == action


def test_every_logged_action_is_one_of_zuns() -> None:
    assert set(EVENTS) <= ZUN_ACTIONS
    # wrap_container_event(prefix='compute') on Zun's private methods: "compute_" + "_do_container_stop".
    assert EVENTS["stop"] == ("compute__do_container_stop",)
    assert EVENTS["add_security_group"] == ("compute__add_security_group",)
    assert EVENTS["delete"] == ()  # Zun's _do_container_delete is not wrapped


def test_an_action_begins_with_its_first_event() -> None:
    assert begun_entry(begun()) == {
        "action": "stop",
        "user_id": "u1",
        "project_id": "p1",
        "start_time": T0,
        "events": [{"event": "compute__do_container_stop", "start_time": T0}],
    }
    assert begun_entry(begun("delete"))["events"] == []


def test_success_ends_every_open_event() -> None:
    entry = ended_entry(begun_entry(begun()), now=T1, error=None)
    assert entry["finish_time"] == T1 and "message" not in entry
    assert entry["events"] == [
        {"event": "compute__do_container_stop", "start_time": T0, "finish_time": T1, "result": "Success"}
    ]


def test_a_create_that_runs_goes_on_to_start() -> None:
    made = next_event(begun_entry(begun("create")), START_EVENT, now=T1)
    assert made["events"] == [
        {"event": "compute__do_container_create", "start_time": T0, "finish_time": T1, "result": "Success"},
        {"event": START_EVENT, "start_time": T1},
    ]
    failed = ended_entry(made, now=T2, error="Traceback...\nImage pull failed")
    assert failed["message"] == "Error" and failed["finish_time"] == T2
    # The event that was under way failed; the one that ended before keeps its Success.
    assert [(e["event"], e["result"], e.get("traceback")) for e in failed["events"]] == [
        ("compute__do_container_create", "Success", None),
        (START_EVENT, "Error", "Traceback...\nImage pull failed"),
    ]


def test_a_traceback_keeps_its_end() -> None:
    long = "frame\n" * 1000 + "ValueError: the reason"
    event = ended_entry(begun_entry(begun()), now=T1, error=long)["events"][0]
    assert len(event["traceback"]) == MAX_TRACEBACK and event["traceback"].endswith("ValueError: the reason")


def test_a_failed_action_without_events_says_error() -> None:
    assert ended_entry(begun_entry(begun("delete")), now=T1, error="boom") == {
        "action": "delete", "user_id": "u1", "project_id": "p1", "start_time": T0, "finish_time": T1,
        "events": [], "message": "Error",
    }


def _log(n: int) -> dict[str, Any]:
    return {f"req-{i:03d}": begun_entry(begun(rid=f"req-{i:03d}", at=f"2026-12-02T10:{i // 60:02d}:{i % 60:02d}.000000"))
            for i in range(n)}


def test_appending_to_a_full_log_drops_the_oldest() -> None:
    log = _log(MAX_ACTIONS)
    new = begun_entry(begun(rid="req-new", at=T0))
    patch = log_patch(log, "req-new", new)
    assert patch == {"req-new": new, "req-000": None}
    log.update(patch)
    kept = {k: v for k, v in log.items() if v is not None}
    assert len(kept) == MAX_ACTIONS and "req-000" not in kept


def test_a_log_over_its_bound_is_trimmed_by_the_next_append() -> None:
    # Two replicas appended at once, each seeing a full log: one more than the bound for now.
    patch = log_patch(_log(MAX_ACTIONS + 1), "req-new", begun_entry(begun(rid="req-new", at=T0)))
    assert [k for k, v in patch.items() if v is None] == ["req-001", "req-000"]


def test_rewriting_an_action_drops_nothing() -> None:
    log = _log(MAX_ACTIONS)
    ended = ended_entry(log["req-000"], now=T1, error=None)
    assert log_patch(log, "req-000", ended) == {"req-000": ended}


def test_the_list_is_newest_first_in_zuns_shape() -> None:
    log = {
        "req-a": ended_entry(begun_entry(begun("create", rid="req-a", at=T0)), now=T1, error=None),
        "req-b": begun_entry(begun("stop", rid="req-b", at=T2)),
        "junk": "not an action",  # a hand edit is left out, not a 500
    }
    assert actions_view("uuid-1", log) == [
        {"action": "stop", "container_uuid": "uuid-1", "message": None, "project_id": "p1", "request_id": "req-b",
         "start_time": T2, "finish_time": None, "user_id": "u1"},
        {"action": "create", "container_uuid": "uuid-1", "message": None, "project_id": "p1", "request_id": "req-a",
         "start_time": T0, "finish_time": T1, "user_id": "u1"},
    ]


def test_the_detail_shows_events_and_hides_tracebacks_from_non_admins() -> None:
    made = next_event(begun_entry(begun("create", rid="req-a")), START_EVENT, now=T1)
    log = {"req-a": ended_entry(made, now=T2, error="the traceback")}
    shown = action_detail("uuid-1", log, "req-a", show_traceback=False)
    assert shown is not None and shown["message"] == "Error" and shown["request_id"] == "req-a"
    assert shown["events"] == [  # newest first, as Zun's action_events_get
        {"event": START_EVENT, "start_time": T1, "finish_time": T2, "result": "Error", "traceback": None},
        {"event": "compute__do_container_create", "start_time": T0, "finish_time": T1, "result": "Success",
         "traceback": None},
    ]
    admin = action_detail("uuid-1", log, "req-a", show_traceback=True)
    assert admin is not None and admin["events"][0]["traceback"] == "the traceback"
    assert action_detail("uuid-1", log, "req-zzz", show_traceback=True) is None
