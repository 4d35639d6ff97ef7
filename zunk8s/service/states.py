"""Zun's allowed-state table (zun/common/utils.py VALID_STATES), kept as data."""

from __future__ import annotations

from typing import Literal

from zunk8s.errors import InvalidStateException
from zunk8s.records import Status

# The actions the table has a row for: a typo is a type error, not a KeyError at run time.
Action = Literal[
    "start", "stop", "reboot", "rebuild", "pause", "unpause", "kill", "execute", "execute_resize",
    "attach", "resize", "top", "stats", "logs", "get_archive", "put_archive", "commit", "update",
    "resize_container", "add_security_group", "remove_security_group", "delete", "delete_force",
    "delete_after_stop",
]

def _in(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


VALID_STATES: dict[Action, frozenset[Status]] = {
    "start": _in("Created", "Stopped", "Error"),
    "stop": _in("Running"),
    "reboot": _in("Created", "Running", "Stopped", "Error"),
    "rebuild": _in("Created", "Running", "Stopped", "Error"),
    "pause": _in("Running"),
    "unpause": _in("Paused"),
    "kill": _in("Running"),
    "execute": _in("Running"),
    "execute_resize": _in("Running"),
    "attach": _in("Running"),
    "resize": _in("Running"),
    "top": _in("Running"),
    "stats": _in("Running"),
    "logs": _in("Created", "Error", "Paused", "Running", "Stopped", "Unknown"),
    "get_archive": _in("Created", "Paused", "Running", "Stopped"),
    "put_archive": _in("Created", "Paused", "Running", "Stopped"),
    "commit": _in("Running", "Stopped", "Paused"),
    "update": _in("Created", "Running", "Stopped", "Paused"),
    "resize_container": _in("Created", "Running", "Stopped", "Paused"),
    "add_security_group": _in("Created", "Running", "Stopped", "Paused"),
    "remove_security_group": _in("Created", "Running", "Stopped", "Paused"),
    "delete": _in("Created", "Error", "Stopped", "Deleted", "Dead"),
    "delete_force": _in(
        "Created",
        "Creating",
        "Error",
        "Running",
        "Stopped",
        "Unknown",
        "Deleted",
        "Dead",
        "Restarting",
        "Rebuilding",
        "Deleting",
    ),
    "delete_after_stop": _in("Running", "Created", "Error", "Stopped", "Deleted", "Dead"),
}


def check_state(action: Action, *, uuid: str, status: Status) -> None:
    """Raise Zun's 409 when ``action`` is not allowed in ``status``."""
    if status not in VALID_STATES[action]:
        # Zun words the action with its key, minus the suffix used for delete variants.
        verb = action.split("_")[0] if action.startswith("delete") else action
        raise InvalidStateException(f"Cannot {verb} container {uuid} in {status} state")
