from datetime import datetime, timezone

import pytest

from zunk8s.errors import ContainerNotFound, Invalid, InvalidStateException, InvalidValue
from zunk8s.microversions import APIVersion
from zunk8s.records import Record, RecordStatus
from zunk8s.schemas.containers import validate_create
from zunk8s.schemas.params import parse_signal
from zunk8s.service.creating import check_supported
from zunk8s.service.listing import page, parse_list_query
from zunk8s.service.logs import LogsQuery, filter_archived
from zunk8s.service.registry import Entry, is_uuid_like
from zunk8s.service.states import VALID_STATES, check_state


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "KILL"), ("None", "KILL"), ("SIGKILL", "KILL"), ("kill", "KILL"), ("9", "KILL"), ("sigterm", "TERM"), ("15", "TERM"), ("HUP", "HUP"), ("SIGUSR1", "USR1")],
)
def test_signals(value: str | None, expected: str) -> None:
    assert parse_signal(value) == expected


def test_bad_signal() -> None:
    with pytest.raises(InvalidValue):
        parse_signal("SIGNOPE")


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


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"sort_key": "nope"}, {"sort_dir": "up"}])
def test_list_bad_params(params: dict[str, str]) -> None:
    with pytest.raises(InvalidValue):
        parse_list_query(params)


def test_unknown_marker() -> None:
    with pytest.raises(ContainerNotFound):
        page([_entry(1)], parse_list_query({"marker": "00000000-0000-0000-0000-999999999999"}))


def test_uuid_like() -> None:
    assert is_uuid_like("0342dad3-1111-2222-3333-444455556666")
    assert is_uuid_like("0342dad3111122223333444455556666")
    assert not is_uuid_like("web-1")


def test_archived_logs_filtering() -> None:
    data = (
        b"2026-11-27T11:00:00.123456789Z first\n"
        b"2026-11-27T11:59:00.000000001Z second\n"
        b"2026-11-27T11:59:30.5Z third\n"
    )
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
    assert filter_archived(data, LogsQuery(tail=None, since_seconds=None, timestamps=False), now=now) == b"first\nsecond\nthird\n"
    assert filter_archived(data, LogsQuery(tail=1, since_seconds=None, timestamps=False), now=now) == b"third\n"
    assert filter_archived(data, LogsQuery(tail=None, since_seconds=120, timestamps=False), now=now) == b"second\nthird\n"
    assert filter_archived(data, LogsQuery(tail=0, since_seconds=None, timestamps=True), now=now) == b""
    assert filter_archived(data, LogsQuery(tail=1, since_seconds=None, timestamps=True), now=now).startswith(b"2026-11-27T11:59:30.5Z")


@pytest.mark.parametrize(("hostname", "ok"), [("web-1", True), ("Web", False), ("a.b", False), ("a_b", False), ("x" * 64, False)])
def test_hostname_must_be_a_dns_label(hostname: str, ok: bool) -> None:
    spec = validate_create({"image": "ab", "hostname": hostname}, APIVersion(1, 40))
    if ok:
        check_supported(spec)
    else:
        with pytest.raises(Invalid):
            check_supported(spec)
