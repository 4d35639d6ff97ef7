"""A container's view on the wire (#13 class 11: wire shapes)."""

from datetime import datetime, timezone
from typing import Any

from zunk8s.records import Record, RecordStatus
from zunk8s.schemas.views import VIEW_KEYS, container_view

ADMIN = frozenset({"host", "image_pull_policy", "privileged", "runtime"})


def _record(**kw: Any) -> Record:
    return Record(uuid="u1", name="n1", project_id="p", user_id="u", image="busybox", created_at="2026-01-01 00:00:00.000000", **kw)


def test_addresses_is_an_object_even_without_an_ip() -> None:
    view = container_view(_record(), RecordStatus(status="Created"), now=datetime.now(timezone.utc), base_url=None, hidden=ADMIN)
    assert view["addresses"] == {}


def test_updated_at_is_the_latest_change() -> None:
    st = RecordStatus(status="Running", updated_at="2026-01-02 00:00:00.000000")
    now = datetime.now(timezone.utc)
    later = _record(updated_at="2026-01-03 00:00:00.000000")
    assert container_view(later, st, now=now, base_url=None, hidden=ADMIN)["updated_at"] == "2026-01-03 00:00:00.000000"
    earlier = _record(updated_at="2026-01-01 12:00:00.000000")
    assert container_view(earlier, st, now=now, base_url=None, hidden=ADMIN)["updated_at"] == "2026-01-02 00:00:00.000000"


def test_the_view_keys_are_zuns_and_hidden_keys_are_absent() -> None:
    st = RecordStatus(status="Created")
    now = datetime.now(timezone.utc)
    full = container_view(_record(), st, now=now, base_url="http://z", hidden=frozenset())
    assert set(full) == set(VIEW_KEYS)
    member = container_view(_record(), st, now=now, base_url="http://z", hidden=ADMIN)
    assert set(member) == set(VIEW_KEYS) - ADMIN  # absent, not null, as Zun answers non-admins
