"""Neutron's list filters (``?name=x&shared=true``), for every /network list zunk8s serves (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Obj = dict[str, Any]


def matches(view: Obj, filters: Mapping[str, Sequence[str]]) -> bool:
    """Neutron's list filters: each given field must equal one of its values (a boolean as
    Neutron reads one: ``true``/``True``/``1``); a filter on a field the view lacks, or on a
    list-valued one (subnets, tags, zones), is ignored."""
    for key, wanted in filters.items():
        value = view.get(key)
        if key not in view or isinstance(value, list):
            continue
        if isinstance(value, bool):
            if not any(_TRUE.get(w.lower()) is value for w in wanted):
                return False
        elif ("" if value is None else str(value)) not in wanted:
            return False
    return True


_TRUE = {"true": True, "1": True, "false": False, "0": False}
