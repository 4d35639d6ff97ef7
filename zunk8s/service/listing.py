"""Filtering, sorting and paging of container lists, as Zun's DB layer does it (pure).

The query itself is parsed in schemas/queries.py (``parse_list_query``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zunk8s.errors import ContainerNotFound
from zunk8s.schemas.queries import ListQuery
from zunk8s.service.registry import Entry


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
    """The entries matching the query's filters, sorted, after its marker, at most its limit."""
    selected = [e for e in entries if _matches(e, query.filters)]
    selected.sort(key=lambda e: (_sort_value(e, query.sort_key), _sort_value(e, "id")), reverse=query.sort_dir == "desc")
    if query.marker is not None:
        index = next((i for i, e in enumerate(selected) if e.uuid == query.marker), None)
        if index is None:
            raise ContainerNotFound(query.marker)
        selected = selected[index + 1 :]
    return selected[: query.limit]
