"""Who is calling: the project, user and roles of one request (Zun's RequestContext)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    project_id: str
    user_id: str
    roles: frozenset[str]
    request_id: str
    # The policy's context_is_admin verdict for these roles (Zun's RequestContext.is_admin;
    # default rule role:admin), decided once when the identity is known.
    is_admin: bool = False
