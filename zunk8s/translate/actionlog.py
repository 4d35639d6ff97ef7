"""Zun's container action log (``GET .../container_actions[/<request id>]``), pure: which
actions are recorded and with which events, the stored shape, its bound, and Zun's views.

The log lives on the record's status, ``status.actions``: a map from the request id of the
call that started an action (the ``x-openstack-request-id`` its client got back) to the action.
Why there, and why a map (service/operations.py and service/actionlog.py write it):

- durable and gone with the container, with nothing else to create, watch or clean up: the
  record outlives zunk8s and the Pod, and Kubernetes deletes the log with it;
- no extra request for an action that claims the record: the action and its first event are
  written in the claim's conditional write, their end in the task's final write, so the log
  and task_state never disagree, on any replica, after any crash (a re-driven task ends the
  action it finds on the record);
- a JSON merge patch of one key adds or ends one action without reading or resending the
  others, so the appends of actions that claim nothing (execute, attach, resize, put_archive,
  update) need no condition and cannot lose a concurrent entry; writing the same key twice
  (a retried write, a re-driven task) cannot double an entry;
- bounded: each write that adds an action removes the oldest beyond ``MAX_ACTIONS`` (set to
  null in the same patch), so the record, and every replica's cache of it, stays small.

Stored entries leave out what the view can derive (the request id is the key, the container's
uuid the record's) and unset fields (a merge patch removes a key set to null anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

# Actions kept per container; adding one more removes the oldest.
MAX_ACTIONS = 100
# A failed event's traceback is kept to its last this many characters (innermost frames and
# the error itself), so a log of failures stays well inside a Kubernetes object's size.
MAX_TRACEBACK = 2000

# Zun's action names (zun/compute/container_actions.py).
ZUN_ACTIONS = frozenset({
    "create", "delete", "reboot", "rebuild", "stop", "start", "pause", "unpause", "exec_cmd", "kill", "update",
    "container_attach", "resize", "add_security_group", "remove_security_group", "put_archive", "commit",
    "network_detach", "network_attach",
})

START_EVENT = "compute__do_container_start"
# The events each recorded action starts with: Zun's compute manager names them
# "compute_" + the name of the method its wrap_container_event decorates, so its private
# ``_do_container_stop`` gives ``compute__do_container_stop``. A create that runs the container
# goes on with START_EVENT (``_do_container_start``). Zun records no event for delete.
# Zun defines exec_cmd, container_attach, resize, put_archive and update but never records
# them; zunk8s does (README), naming their events after the compute method that serves them,
# except resize (a terminal's size): clients send one on every window change, and those would
# push real actions out of the bounded log.
EVENTS: Mapping[str, tuple[str, ...]] = {
    "create": ("compute__do_container_create",),
    "start": (START_EVENT,),
    "stop": ("compute__do_container_stop",),
    "reboot": ("compute__do_container_reboot",),
    "kill": ("compute__do_container_kill",),
    "rebuild": ("compute__do_container_rebuild",),
    "pause": ("compute__do_container_pause",),
    "unpause": ("compute__do_container_unpause",),
    "commit": ("compute__do_container_commit",),
    "delete": (),
    "add_security_group": ("compute__add_security_group",),
    "remove_security_group": ("compute__remove_security_group",),
    "network_attach": ("compute__do_network_attach",),
    "network_detach": ("compute__do_network_detach",),
    "exec_cmd": ("compute_container_exec",),
    "container_attach": ("compute_container_attach",),
    "put_archive": ("compute_container_put_archive",),
    "update": ("compute_container_update",),
}

# zunk8s's verbs (the state table's names, service/states.py) that Zun logs under another name.
_ZUN_NAME: Mapping[str, str] = {
    "delete_force": "delete",
    "delete_after_stop": "delete",
    "execute": "exec_cmd",
    "attach": "container_attach",
    "rename": "update",
    "resize_container": "update",
}

ACTION_KEYS = ("action", "container_uuid", "message", "project_id", "request_id", "start_time", "finish_time", "user_id")
EVENT_KEYS = ("event", "start_time", "finish_time", "result", "traceback")


def logged_as(verb: str) -> str | None:
    """The action name the log records ``verb`` under, or None when it records no action for it."""
    name = _ZUN_NAME.get(verb, verb)
    return name if name in EVENTS else None


@dataclass(frozen=True)
class Begun:
    """An action as its request began it: who, when (Zun's ``strtime``), which request."""

    request_id: str
    action: str
    user_id: str
    project_id: str
    start_time: str


def _compact(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if v is not None}


def begun_entry(begun: Begun) -> Obj:
    """The stored action as it begins: its first event (if Zun records one) begun with it."""
    events = [{"event": name, "start_time": begun.start_time} for name in EVENTS.get(begun.action, ())]
    return _compact({
        "action": begun.action,
        "user_id": begun.user_id,
        "project_id": begun.project_id,
        "start_time": begun.start_time,
        "events": events,
    })


def _events(entry: Mapping[str, Any]) -> list[Obj]:
    raw = entry.get("events")
    return [dict(e) for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def _end_events(events: Iterable[Obj], *, now: str, error: str | None) -> list[Obj]:
    """Every open event ended at ``now``: Success, or, with ``error``, the last one Error."""
    out = [dict(e) for e in events]
    still_open = [e for e in out if not e.get("finish_time")]
    for event in still_open:
        event.update(finish_time=now, result="Success")
    if error is not None and still_open:
        still_open[-1].update(result="Error", traceback=error[-MAX_TRACEBACK:])
    return out


def next_event(entry: Mapping[str, Any], event: str, *, now: str) -> Obj:
    """``entry`` with its open events ended (Success) and ``event`` begun at ``now``: a create
    whose container is made goes on to start it."""
    return {**entry, "events": [*_end_events(_events(entry), now=now, error=None), {"event": event, "start_time": now}]}


def is_ended(entry: Mapping[str, Any]) -> bool:
    return bool(entry.get("finish_time"))


def ended_entry(entry: Mapping[str, Any], *, now: str, error: str | None) -> Obj:
    """``entry`` ended at ``now``; ``error`` (why it failed, a traceback) makes it Zun's failed
    action: message "Error", its last open event's result "Error" with ``error`` as traceback."""
    out = {**entry, "finish_time": now, "events": _end_events(_events(entry), now=now, error=error)}
    if error is not None:
        out["message"] = "Error"
    return out


def _order_key(item: tuple[str, Any]) -> tuple[str, str]:
    request_id, entry = item
    return (str(entry.get("start_time") or "") if isinstance(entry, dict) else "", request_id)


def newest_first(log: Mapping[str, Any]) -> list[tuple[str, Obj]]:
    """The log's actions, newest first (Zun's actions_get: created_at descending); entries that
    are not objects (a hand edit) are left out."""
    items = [(rid, e) for rid, e in log.items() if isinstance(e, dict)]
    return sorted(items, key=_order_key, reverse=True)


def log_patch(log: Mapping[str, Any], request_id: str, entry: Obj, *, keep: int = MAX_ACTIONS) -> Obj:
    """The merge patch of ``status.actions`` that writes ``entry`` under ``request_id`` and, when
    that adds an action, removes (nulls) the oldest ones beyond ``keep``. ``log`` is the log the
    writer sees; a concurrent append it does not see yet is left alone (the next write trims)."""
    patch: Obj = {request_id: entry}
    if request_id not in log:
        others = [rid for rid, _ in newest_first(log) if rid != request_id]
        others += [rid for rid, e in log.items() if not isinstance(e, dict)]
        for rid in others[max(keep - 1, 0):]:
            patch[rid] = None
    return patch


def action_view(container_uuid: str, request_id: str, entry: Mapping[str, Any]) -> Obj:
    """Zun's format_action: its keys, unset ones null."""
    return {
        "action": entry.get("action"),
        "container_uuid": container_uuid,
        "message": entry.get("message"),
        "project_id": entry.get("project_id"),
        "request_id": request_id,
        "start_time": entry.get("start_time"),
        "finish_time": entry.get("finish_time"),
        "user_id": entry.get("user_id"),
    }


def event_view(event: Mapping[str, Any], *, show_traceback: bool) -> Obj:
    """Zun's format_event: the traceback only for callers policy ``container:action:events`` lets
    see it, null for others."""
    return {
        "event": event.get("event"),
        "start_time": event.get("start_time"),
        "finish_time": event.get("finish_time"),
        "result": event.get("result"),
        "traceback": event.get("traceback") if show_traceback else None,
    }


def actions_view(container_uuid: str, log: Mapping[str, Any]) -> list[Obj]:
    """``{"containerActions": ...}``'s list: newest first."""
    return [action_view(container_uuid, rid, e) for rid, e in newest_first(log)]


def action_detail(
    container_uuid: str, log: Mapping[str, Any], request_id: str, *, show_traceback: bool
) -> Obj | None:
    """One action with its ``events`` (newest first, as Zun's action_events_get), or None."""
    entry = log.get(request_id)
    if not isinstance(entry, dict):
        return None
    events: Sequence[Obj] = sorted(_events(entry), key=lambda e: str(e.get("start_time") or ""), reverse=True)
    return {
        **action_view(container_uuid, request_id, entry),
        "events": [event_view(e, show_traceback=show_traceback) for e in events],
    }
