"""Query strings of the container and host lists and of the stream actions, parsed and validated.

Zun's own limits and wording: the lists' ``limit`` / ``sort_key`` / ``sort_dir`` / filters
(Zun's DB API), logs' ``since``, resize's ``w`` / ``h`` and execute_resize's ``exec_id``.
Pure: the time is passed in (``now``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zunk8s.clock import parse_since_time
from zunk8s.errors import InvalidValue, SchemaValidationError
from zunk8s.records import Record
from zunk8s.schemas.params import ascii_int, shown, unset
from zunk8s.translate.hosts import DEFAULT_SORT_KEY as DEFAULT_HOST_SORT_KEY

# --- GET /v1/containers -------------------------------------------------------------------

FILTERS = ("name", "image", "project_id", "user_id", "memory", "host", "task_state", "status", "auto_remove")
MAX_LIMIT = 1000
# Zun sorts by its integer primary key by default; creation order is the same order here.
SORT_KEYS = {"id", "status", "task_state", "host", *Record.model_fields}


@dataclass(frozen=True)
class ListQuery:
    limit: int
    marker: str | None
    sort_key: str
    sort_dir: str
    filters: dict[str, str]


def parse_limit(params: Mapping[str, str]) -> int:
    """Zun's ``validate_limit``: a positive integer, at most MAX_LIMIT (the default)."""
    limit_raw = params.get("limit")
    if limit_raw in (None, "", "None"):
        return MAX_LIMIT
    # ASCII digits only (int() also takes ' 5', '٣' and '+5'), bounded (schemas/params.py).
    parsed = ascii_int(str(limit_raw))
    if parsed is None or parsed <= 0:
        raise InvalidValue("Limit must be positive integer")
    return min(parsed, MAX_LIMIT)


def parse_sort_dir(params: Mapping[str, str]) -> str:
    sort_dir = params.get("sort_dir") or "asc"
    if sort_dir not in ("asc", "desc"):
        raise InvalidValue(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
    return sort_dir


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """The list's paging, sorting and filters; InvalidValue with Zun's words otherwise."""
    limit = parse_limit(params)
    sort_key = params.get("sort_key") or "id"
    if sort_key not in SORT_KEYS:
        raise InvalidValue(f"The sort_key value \"{sort_key}\" is invalid. Must be one of: {', '.join(sorted(SORT_KEYS))}")
    sort_dir = parse_sort_dir(params)
    marker = params.get("marker")
    filters = {k: params[k] for k in FILTERS if k in params and params[k] != "None"}
    return ListQuery(limit=limit, marker=marker or None, sort_key=sort_key, sort_dir=sort_dir, filters=filters)


# --- GET /v1/hosts -------------------------------------------------------------------------


@dataclass(frozen=True)
class HostQuery:
    limit: int
    marker: str | None
    sort_key: str
    sort_dir: str


def parse_host_query(params: Mapping[str, str]) -> HostQuery:
    """The host list's paging and sorting as Zun's HostController reads them (other parameters
    are ignored, as there); the sort key is checked with the hosts (translate/hosts.py)."""
    limit = parse_limit(params)
    sort_dir = parse_sort_dir(params)
    return HostQuery(
        limit=limit,
        marker=params.get("marker") or None,
        sort_key=params.get("sort_key") or DEFAULT_HOST_SORT_KEY,
        sort_dir=sort_dir,
    )


# --- logs ---------------------------------------------------------------------------------

# Zun's pattern for `since` (seconds since the epoch, or Docker's log time), matched whole
# (fullmatch: `$` alone would accept a trailing newline) and in ASCII digits only.
SINCE_RE = re.compile(r"[0-9]{1,12}|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{1,3}")


def since_seconds(raw: Any, *, now: datetime) -> int | None:
    """Zun's ``since`` as Kubernetes' ``sinceSeconds`` counted back from ``now`` (at least 1);
    None when unset. SchemaValidationError for anything else."""
    if unset(raw):
        return None
    text = str(raw)
    invalid = SchemaValidationError(
        f"Invalid input for query parameters 'since'. Value: '{shown(text)}'. It must be seconds since "
        "the epoch (at most 12 digits) or a time 'YYYY-MM-DD HH:MM:SS,mmm'."
    )
    if not SINCE_RE.fullmatch(text):
        raise invalid
    if "-" not in text:
        moment = float(text)  # 1-12 ASCII digits (the pattern's first branch)
    else:
        stamp = parse_since_time(text)
        if stamp is None:
            raise invalid  # e.g. month 99
        moment = stamp.timestamp()
    # Kubernetes' sinceSeconds must be positive.
    return max(1, int(now.timestamp() - moment) + 1)


# --- resize / execute_resize --------------------------------------------------------------

# A terminal's rows and columns travel as uint16 in the resize channel (kubelet's TerminalSize).
MAX_TERMINAL_SIDE = 65535


def parse_size(params: Mapping[str, Any]) -> tuple[int, int]:
    """``w`` and ``h`` as (width, height), each 1..MAX_TERMINAL_SIDE; InvalidValue otherwise."""
    out = []
    for key in ("w", "h"):
        raw = params.get(key)
        value = ascii_int(raw) if isinstance(raw, str) else raw if type(raw) is int else None
        if value is None or not 1 <= value <= MAX_TERMINAL_SIDE:
            raise InvalidValue(
                f"Invalid input for query parameters '{key}'. Value: '{shown(raw)}'. "
                f"It must be a whole number from 1 to {MAX_TERMINAL_SIDE}."
            )
        out.append(value)
    return out[0], out[1]


def check_exec_id(exec_id: Any) -> str:
    """An exec id as Docker makes them (64 lowercase hex digits); InvalidValue otherwise."""
    text = exec_id if isinstance(exec_id, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidValue(f"Invalid input for query parameters 'exec_id'. Value: '{shown(text)}'. It must be 64 hex digits.")
    return text
