"""The container list: paging, sorting and filters over registry entries."""

import pytest

from zunk8s.errors import ContainerNotFound
from zunk8s.records import Record, RecordStatus
from zunk8s.schemas.queries import parse_list_query
from zunk8s.service.listing import page
from zunk8s.service.registry import Entry


def _entry(n: int, **kw: object) -> Entry:
    rec = Record.model_validate(
        {
            "uuid": f"00000000-0000-0000-0000-{n:012d}",
            "name": f"c{n % 3}",
            "project_id": "p",
            "user_id": "u",
            "image": "img" if n % 2 else "other",
            "created_at": f"2026-11-27 00:00:{n:02d}.000000",
            **kw,
        }
    )
    return Entry(record=rec, status=RecordStatus(status="Running"), namespace="ns", uid="x", resource_version="1", has_status=True)


def test_list_paging_sorting_filters() -> None:
    entries = [_entry(i) for i in range(10)]
    first = page(entries, parse_list_query({"limit": "3"}))
    assert [e.uuid[-2:] for e in first] == ["00", "01", "02"]
    second = page(entries, parse_list_query({"limit": "3", "marker": first[-1].uuid}))
    assert [e.uuid[-2:] for e in second] == ["03", "04", "05"]
    desc = page(entries, parse_list_query({"sort_dir": "desc", "limit": "2"}))
    assert [e.uuid[-2:] for e in desc] == ["09", "08"]
    only = page(entries, parse_list_query({"image": "img", "name": "c1"}))
    assert [e.uuid[-2:] for e in only] == ["01", "07"]
    by_name = page(entries, parse_list_query({"sort_key": "name", "limit": "4"}))
    assert [e.record.name for e in by_name] == ["c0", "c0", "c0", "c0"]


def test_unknown_marker() -> None:
    with pytest.raises(ContainerNotFound):
        page([_entry(1)], parse_list_query({"marker": "00000000-0000-0000-0000-999999999999"}))
