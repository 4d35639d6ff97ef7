"""Zun's allowed-state table (zun/common/utils.py VALID_STATES), kept as data."""

from __future__ import annotations

from zunk8s.errors import InvalidStateException

VALID_STATES: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "start": ["Created", "Stopped", "Error"],
        "stop": ["Running"],
        "reboot": ["Created", "Running", "Stopped", "Error"],
        "rebuild": ["Created", "Running", "Stopped", "Error"],
        "pause": ["Running"],
        "unpause": ["Paused"],
        "kill": ["Running"],
        "execute": ["Running"],
        "execute_resize": ["Running"],
        "attach": ["Running"],
        "resize": ["Running"],
        "top": ["Running"],
        "stats": ["Running"],
        "logs": ["Created", "Error", "Paused", "Running", "Stopped", "Unknown"],
        "get_archive": ["Created", "Paused", "Running", "Stopped"],
        "put_archive": ["Created", "Paused", "Running", "Stopped"],
        "commit": ["Running", "Stopped", "Paused"],
        "update": ["Created", "Running", "Stopped", "Paused"],
        "resize_container": ["Created", "Running", "Stopped", "Paused"],
        "add_security_group": ["Created", "Running", "Stopped", "Paused"],
        "remove_security_group": ["Created", "Running", "Stopped", "Paused"],
        "delete": ["Created", "Error", "Stopped", "Deleted", "Dead"],
        "delete_force": [
            "Created", "Creating", "Error", "Running", "Stopped", "Unknown",
            "Deleted", "Dead", "Restarting", "Rebuilding", "Deleting",
        ],
        "delete_after_stop": ["Running", "Created", "Error", "Stopped", "Deleted", "Dead"],
    }.items()
}


def check_state(action: str, *, uuid: str, status: str) -> None:
    """Raise Zun's 409 when ``action`` is not allowed in ``status``."""
    if status not in VALID_STATES[action]:
        # Zun words the action with its key, minus the suffix used for delete variants.
        verb = action.split("_")[0] if action.startswith("delete") else action
        raise InvalidStateException(f"Cannot {verb} container {uuid} in {status} state")
