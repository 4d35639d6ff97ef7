"""Registry helpers: what counts as a uuid when looking a container up."""

from zunk8s.service.registry import is_uuid_like


def test_uuid_like() -> None:
    assert is_uuid_like("0342dad3-1111-2222-3333-444455556666")
    assert is_uuid_like("0342dad3111122223333444455556666")
    assert not is_uuid_like("web-1")
