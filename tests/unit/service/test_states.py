"""Zun's allowed-state table, pinned literally (zun/common/utils.py VALID_STATES, as recorded in
shared/zun-api.md §4). The expectations are written out here, not read from zunk8s's table, so
drift from Zun fails this test."""

from __future__ import annotations

from typing import cast, get_args

import pytest

from zunk8s.errors import InvalidStateException
from zunk8s.records import Status
from zunk8s.service.states import VALID_STATES, Action, check_state

ZUN_STATUSES = (
    "Error", "Running", "Stopped", "Paused", "Unknown", "Creating", "Created",
    "Deleted", "Deleting", "Rebuilding", "Dead", "Restarting",
)

ZUN_VALID_STATES = {
    "start": {"Created", "Stopped", "Error"},
    "stop": {"Running"},
    "reboot": {"Created", "Running", "Stopped", "Error"},
    "rebuild": {"Created", "Running", "Stopped", "Error"},
    "pause": {"Running"},
    "unpause": {"Paused"},
    "kill": {"Running"},
    "execute": {"Running"},
    "execute_resize": {"Running"},
    "attach": {"Running"},
    "resize": {"Running"},
    "top": {"Running"},
    "stats": {"Running"},
    "logs": {"Created", "Error", "Paused", "Running", "Stopped", "Unknown"},
    "get_archive": {"Created", "Paused", "Running", "Stopped"},
    "put_archive": {"Created", "Paused", "Running", "Stopped"},
    "commit": {"Running", "Stopped", "Paused"},
    "update": {"Created", "Running", "Stopped", "Paused"},
    "resize_container": {"Created", "Running", "Stopped", "Paused"},
    "add_security_group": {"Created", "Running", "Stopped", "Paused"},
    "remove_security_group": {"Created", "Running", "Stopped", "Paused"},
    "delete": {"Created", "Error", "Stopped", "Deleted", "Dead"},
    "delete_force": {
        "Created", "Creating", "Error", "Running", "Stopped", "Unknown",
        "Deleted", "Dead", "Restarting", "Rebuilding", "Deleting",
    },
    "delete_after_stop": {"Running", "Created", "Error", "Stopped", "Deleted", "Dead"},
}


def test_the_whole_table_is_zuns() -> None:
    assert {k: set(v) for k, v in VALID_STATES.items()} == ZUN_VALID_STATES


@pytest.mark.parametrize("action", sorted(ZUN_VALID_STATES))
@pytest.mark.parametrize("status", ZUN_STATUSES)
def test_each_cell(action: str, status: str) -> None:
    # Zun's own strings, as they are: the types are pinned to them by the test below.
    row, state = cast(Action, action), cast(Status, status)
    if status in ZUN_VALID_STATES[action]:
        check_state(row, uuid="u", status=state)
        return
    with pytest.raises(InvalidStateException) as err:
        check_state(row, uuid="u", status=state)
    verb = action.split("_")[0] if action.startswith("delete") else action
    assert err.value.detail == f"Cannot {verb} container u in {status} state"
    assert err.value.status == 409 and err.value.code == "invalid-state-exception"


def test_state_table_matches_zun() -> None:
    assert VALID_STATES["start"] == {"Created", "Stopped", "Error"}
    assert "Paused" not in VALID_STATES["delete_force"]
    with pytest.raises(InvalidStateException) as info:
        check_state("start", uuid="u1", status="Running")
    assert info.value.detail == "Cannot start container u1 in Running state"
    with pytest.raises(InvalidStateException) as info:
        check_state("delete_force", uuid="u1", status="Paused")
    assert info.value.detail == "Cannot delete container u1 in Paused state"
    check_state("logs", uuid="u1", status="Unknown")


def test_the_types_name_zuns_actions_and_statuses() -> None:
    assert set(get_args(Action)) == set(ZUN_VALID_STATES)
    assert set(get_args(Status)) == set(ZUN_STATUSES)
