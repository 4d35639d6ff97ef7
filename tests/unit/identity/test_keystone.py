"""Keystone mode's pure parts: reading a validated token, the token cache. (Validation against
a real Keystone is tested in tests/integration/test_keystone.py.)"""

from __future__ import annotations

import pytest

from zunk8s.clock import keystone_time
from zunk8s.identity.base import Identity, Unauthenticated, token_digest
from zunk8s.identity.keystone import TokenCache, identity_from

TOKEN = {
    "user": {"id": "u-1", "name": "alice"},
    "project": {"id": "p-1", "name": "alpha"},
    "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
    "expires_at": "2026-11-27T07:46:12.000000Z",
}


def test_identity_from_a_project_scoped_token() -> None:
    assert identity_from(TOKEN) == Identity("p-1", "u-1", frozenset({"member", "reader"}))


@pytest.mark.parametrize(
    "token",
    [
        {"user": {"id": "u"}},  # unscoped: no project, no roles
        {"user": {"id": "u"}, "domain": {"id": "default"}, "roles": [{"name": "admin"}]},  # domain-scoped
        {"user": {"id": "u"}, "system": {"all": True}, "roles": [{"name": "admin"}]},  # system-scoped
        {"user": {"id": "u"}, "project": {}},
    ],
)
def test_tokens_not_scoped_to_a_project_are_refused(token: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        identity_from(token)


def test_keystone_time() -> None:
    assert keystone_time("1970-01-01T00:01:00.000000Z") == 60.0
    with pytest.raises(ValueError):
        keystone_time("2026-11-27T07:46:12Z")


def test_cache_deadlines_and_size() -> None:
    cache = TokenCache(size=2)
    ident = Identity("p", "u", frozenset())
    cache.put("a", ident, until=10)
    cache.put("b", None, until=5)
    assert cache.get("a", now=9) == (True, ident)
    assert cache.get("b", now=4) == (True, None)  # refused a moment ago
    assert cache.get("b", now=5) == (False, None)  # expired: asked again
    cache.put("c", ident, until=10)
    cache.put("d", ident, until=10)
    assert len(cache) == 2 and cache.get("a", now=0) == (False, None)  # the oldest went first


def test_the_cache_keys_are_digests() -> None:
    assert token_digest("secret-token") != "secret-token" and len(token_digest("x")) == 64
