"""Static-token mode, for clusters without Keystone: a file (a mounted Secret) lists tokens by
their SHA-256 digest, each with the project, user and roles it stands for. zunk8s never holds
the tokens themselves, and reads the file again when it changes (checked at most once a
second), so tokens are added or revoked without a restart. A file that stops parsing keeps
the previous list in force (and says so in the log).

    {"tokens": [{"sha256": "<64 hex>", "project_id": "alpha", "user_id": "ci", "roles": ["member"]}]}

Tokens must be long random strings (``zunk8s static-token`` makes one, 256 bits): a digest of
a guessable token protects nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zunk8s.filestamp import file_stamp
from zunk8s.identity.base import Identity, Unauthenticated, presented_token, token_digest

log = structlog.get_logger(__name__)

CHECK_EVERY = 1.0


class TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    project_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)


class TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens: list[TokenEntry]


def new_entry(*, project_id: str, user_id: str, roles: list[str]) -> tuple[str, dict[str, Any]]:
    """A new random token and the line that grants it (the token is shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    entry = TokenEntry(sha256=token_digest(token), project_id=project_id, user_id=user_id, roles=roles)
    return token, entry.model_dump()


def load(path: str) -> dict[str, Identity]:
    """The identities the file grants, by token digest; ValueError saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            parsed = TokenFile.model_validate(json.load(f))
    except (OSError, ValueError, ValidationError) as e:
        raise ValueError(f"cannot use the tokens file {path}: {e}") from None
    return {
        e.sha256: Identity(project_id=e.project_id, user_id=e.user_id, roles=frozenset(e.roles)) for e in parsed.tokens
    }


class StaticTokens:
    mode = "static"

    def __init__(self, path: str, *, clock: Any = time.monotonic) -> None:
        self._path = path
        self._clock = clock
        self._identities = load(path)  # a bad file at start-up stops zunk8s
        self._stamp = file_stamp(self._path)
        self._checked = clock()

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked < CHECK_EVERY:
            return
        self._checked = now
        stamp = file_stamp(self._path)
        if stamp == self._stamp:
            return
        try:
            self._identities = load(self._path)
        except ValueError as e:
            log.error("static_tokens_not_reloaded", error=str(e))
        else:
            log.info("static_tokens_reloaded", tokens=len(self._identities))
        self._stamp = stamp

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        token = presented_token(headers)
        self._refresh()
        identity = self._identities.get(token_digest(token))
        if identity is None:
            raise Unauthenticated("The token is not valid.")
        return identity

    async def close(self) -> None:
        return None
