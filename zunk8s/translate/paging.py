"""Zun's paged lists (hosts, images): rows sorted by ``sort_key`` then uuid, after the row whose
uuid is ``marker``, at most ``limit`` (pure)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from zunk8s.errors import InvalidParameterValue, ZunError


def _sort_value(value: Any) -> tuple[int, Any]:
    # None sorts first, as NULLs do in MySQL ascending order.
    return (0, "") if value is None else (1, value)


def page(
    rows: Sequence[Mapping[str, Any]], *, sort_key: str, sort_dir: str, marker: str | None, limit: int,
    sort_keys: Collection[str], missing: Callable[[str], ZunError],
) -> list[Mapping[str, Any]]:
    """Zun looks the marker up (``missing(marker)`` when no row has it) before its DB checks the
    sort key (400)."""
    if marker is not None and not any(r.get("uuid") == marker for r in rows):
        raise missing(marker)
    if sort_key not in sort_keys:
        # zun/db/sqlalchemy/api.py _paginate_query's words.
        raise InvalidParameterValue(f'The sort_key value "{sort_key}" is an invalid field for sorting')
    ordered = sorted(rows, key=lambda r: (_sort_value(r.get(sort_key)), str(r.get("uuid"))), reverse=sort_dir == "desc")
    if marker is not None:
        index = next(i for i, r in enumerate(ordered) if r.get("uuid") == marker)
        ordered = ordered[index + 1 :]
    return ordered[:limit]
