"""What every authentication mode gives and how it fails."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from zunk8s.errors import ZunError

# The header every Zun client sends its token in (keystoneauth, python-zunclient).
TOKEN_HEADER = "X-Auth-Token"


@dataclass(frozen=True)
class Identity:
    project_id: str
    user_id: str
    # Role names as the token lists them (Keystone expands implied roles: member brings reader).
    roles: frozenset[str]


class Unauthenticated(ZunError):
    """401: no token, or one that is not (or no longer) valid. ``www_authenticate`` is the
    challenge header (Keystone's ``Keystone uri="..."``) that tells a client where to log in."""

    status = 401
    code = ""
    title = "Unauthorized"

    def __init__(self, detail: str, *, www_authenticate: str | None = None) -> None:
        super().__init__(detail)
        self.www_authenticate = www_authenticate


def token_digest(token: str) -> str:
    """SHA-256 of a token: what static tokens are listed by, and what the Keystone cache is
    keyed by (neither holds tokens themselves: a memory or file dump hands out none)."""
    return hashlib.sha256(token.encode()).hexdigest()


def presented_token(headers: Mapping[str, str], *, www_authenticate: str | None = None) -> str:
    """The token the request carries; Unauthenticated (401) if it carries none."""
    token = headers.get(TOKEN_HEADER, "").strip()
    if not token:
        raise Unauthenticated("The request you have made requires authentication.", www_authenticate=www_authenticate)
    return token


class Authenticator(Protocol):
    mode: str

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """The caller's identity; Unauthenticated (401) or BackendUnavailable (503: the identity
        service cannot be asked) otherwise. Never lets a request through unchecked."""
        ...

    async def close(self) -> None: ...
