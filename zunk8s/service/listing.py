"""Filtering, sorting and paging of container lists, as Zun's DB layer does it (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zunk8s.errors import ContainerNotFound, InvalidValue
from zunk8s.records import Record
from zunk8s.schemas.params import ascii_int
from zunk8s.service.registry import Entry

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


def parse_list_query(params: dict[str, str]) -> ListQuery:
    limit_raw = params.get("limit")
    if limit_raw in (None, "", "None"):
        limit = MAX_LIMIT
    else:
        # ASCII digits only (int() also takes ' 5', '٣' and '+5'), bounded (schemas/params.py).
        parsed = ascii_int(str(limit_raw))
        if parsed is None or parsed <= 0:
            raise InvalidValue("Limit must be positive integer")
        limit = parsed
        limit = min(limit, MAX_LIMIT)
    sort_key = params.get("sort_key") or "id"
    if sort_key not in SORT_KEYS:
        raise InvalidValue(f"The sort_key value \"{sort_key}\" is invalid. Must be one of: {', '.join(sorted(SORT_KEYS))}")
    sort_dir = params.get("sort_dir") or "asc"
    if sort_dir not in ("asc", "desc"):
        raise InvalidValue(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
    marker = params.get("marker")
    filters = {k: params[k] for k in FILTERS if k in params and params[k] != "None"}
    return ListQuery(limit=limit, marker=marker or None, sort_key=sort_key, sort_dir=sort_dir, filters=filters)


def _field(entry: Entry, key: str) -> Any:
    if key == "id":
        return (entry.record.created_at, entry.uuid)
    if key in ("status", "task_state", "host"):
        return getattr(entry.status, key)
    return getattr(entry.record, key)


def _matches(entry: Entry, filters: dict[str, str]) -> bool:
    for key, wanted in filters.items():
        value = _field(entry, key)
        if isinstance(value, bool):
            if str(value).lower() != wanted.lower():
                return False
        elif value is None or str(value) != wanted:
            return False
    return True


def _sort_value(entry: Entry, key: str) -> tuple[int, Any]:
    value = _field(entry, key)
    # None sorts first, as NULLs do in MySQL ascending order.
    return (0, "") if value is None else (1, value if isinstance(value, (int, float, tuple)) else str(value))


def page(entries: Sequence[Entry], query: ListQuery) -> list[Entry]:
    selected = [e for e in entries if _matches(e, query.filters)]
    selected.sort(key=lambda e: (_sort_value(e, query.sort_key), _sort_value(e, "id")), reverse=query.sort_dir == "desc")
    if query.marker is not None:
        index = next((i for i, e in enumerate(selected) if e.uuid == query.marker), None)
        if index is None:
            raise ContainerNotFound(query.marker)
        selected = selected[index + 1 :]
    return selected[: query.limit]
