"""Who is calling: the project, user and roles of one request (Zun's RequestContext)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    project_id: str
    user_id: str
    roles: frozenset[str]
    request_id: str

    @property
    def is_admin(self) -> bool:
        # Zun's policy: context_is_admin = role:admin
        return "admin" in self.roles
