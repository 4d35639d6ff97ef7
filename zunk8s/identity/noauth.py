"""noauth (development only): identity from X-Project-Id / X-User-Id / X-Roles, as Zun's noauth
pipeline takes it, with configured defaults when a header is absent. Trusts the headers, so
zunk8s refuses to serve it on a non-loopback address unless told to (settings)."""

from __future__ import annotations

from collections.abc import Mapping

from zunk8s.identity.base import Identity
from zunk8s.settings import AuthSettings


class NoAuth:
    mode = "noauth"

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        s = self._settings
        roles_header = headers.get("X-Roles")
        roles = [r.strip() for r in roles_header.split(",")] if roles_header else list(s.default_roles)
        return Identity(
            project_id=headers.get("X-Project-Id") or s.default_project,
            user_id=headers.get("X-User-Id") or s.default_user,
            roles=frozenset(r for r in roles if r),
        )

    async def close(self) -> None:
        return None
