"""Keystone mode: the token in X-Auth-Token is validated by Keystone (``GET
/v3/auth/tokens?nocatalog`` with zunk8s's own service token) and the project, user and roles
come from Keystone's answer.

keystonemiddleware is a WSGI filter making blocking calls, so an aiohttp server validates
tokens itself (../shared/keystone.md): one service token, re-issued a minute before it
expires and once when Keystone answers 401 for it; validated tokens cached until
``min(now + cache_ttl, expires_at)`` (a token revoked in Keystone is still accepted here for
up to cache_ttl: the trade-off keystonemiddleware makes too); refused tokens cached for
``negative_cache_ttl``; concurrent first uses of one token share one Keystone call. Tokens
not scoped to a project (unscoped, domain- or system-scoped) are refused: Zun's containers
belong to projects. Keystone unreachable, or refusing zunk8s's own credentials, is a 503 —
never a request let through.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from zunk8s.clock import keystone_time
from zunk8s.errors import BackendUnavailable
from zunk8s.identity.base import TOKEN_HEADER, Identity, Unauthenticated, presented_token, token_digest
from zunk8s.settings import KeystoneSettings

log = structlog.get_logger(__name__)

# The service token is re-issued this long before Keystone says it expires.
RENEW_BEFORE = 60.0


def identity_from(token: Mapping[str, Any]) -> Identity:
    """Project, user and roles of a validated token body; Unauthenticated if it is not scoped
    to a project (Keystone validates unscoped tokens: they have no project and no roles)."""
    project = token.get("project")
    if not isinstance(project, dict) or not project.get("id"):
        raise Unauthenticated("The token is not scoped to a project; ask Keystone for a project-scoped token.")
    roles = frozenset(str(r.get("name")) for r in token.get("roles") or [] if isinstance(r, dict) and r.get("name"))
    return Identity(project_id=str(project["id"]), user_id=str((token.get("user") or {}).get("id") or ""), roles=roles)


class TokenCache:
    """Validated (Identity) and refused (None) tokens, each until its own deadline; at most
    ``size`` entries (the oldest go first)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[float, Identity | None]] = OrderedDict()

    def get(self, key: str, now: float) -> tuple[bool, Identity | None]:
        """(found, identity): found with None is a token refused a moment ago."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= now:
            del self._entries[key]
            return False, None
        return True, entry[1]

    def put(self, key: str, value: Identity | None, until: float) -> None:
        self._entries[key] = (until, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class KeystoneAuthenticator:
    mode = "keystone"

    def __init__(self, settings: KeystoneSettings, *, clock: Any = time.time) -> None:
        self._s = settings
        self._clock = clock
        self.www_authenticate = f'Keystone uri="{settings.auth_url}"'
        self._session: aiohttp.ClientSession | None = None
        self._service_token: str | None = None
        self._service_expires = 0.0
        self._service_lock = asyncio.Lock()
        self._cache = TokenCache(settings.cache_size)
        self._inflight: dict[str, asyncio.Future[Identity]] = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._s.timeout, sock_connect=self._s.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def _unauthenticated(self, detail: str) -> Unauthenticated:
        return Unauthenticated(detail, www_authenticate=self.www_authenticate)

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        token = presented_token(headers, www_authenticate=self.www_authenticate)
        key = token_digest(token)
        found, identity = self._cache.get(key, self._clock())
        if found:
            if identity is None:
                raise self._unauthenticated("The token is not valid (expired, revoked or unknown).")
            return identity
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Identity] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            identity = await self._validate(token, key)
        except BaseException as e:
            if not isinstance(e, asyncio.CancelledError):
                future.set_exception(e)
                future.exception()  # retrieved: waiters re-raise it; nobody waiting is fine too
            else:
                future.cancel()
            raise
        else:
            future.set_result(identity)
            return identity
        finally:
            del self._inflight[key]

    async def _validate(self, token: str, key: str) -> Identity:
        for attempt in (0, 1):
            service = await self._service(renew=attempt == 1)
            status, body = await self._call(
                "GET",
                "/auth/tokens?nocatalog",
                headers={TOKEN_HEADER: service, "X-Subject-Token": token},
            )
            if status == 401 and attempt == 0:
                continue  # our own token went bad (expired early, revoked): log in again
            if status == 404:
                self._cache.put(key, None, self._clock() + self._s.negative_cache_ttl)
                raise self._unauthenticated("The token is not valid (expired, revoked or unknown).")
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("token"), dict):
                raise BackendUnavailable(
                    f"Keystone could not validate the token (answered {status} to zunk8s's service user"
                    f"{' ' + repr(self._s.username) if status in (401, 403) else ''})."
                )
            data: dict[str, Any] = body["token"]
            try:
                identity = identity_from(data)
            except Unauthenticated:
                self._cache.put(key, None, self._clock() + self._s.negative_cache_ttl)
                raise self._unauthenticated(
                    "The token is not scoped to a project; ask Keystone for a project-scoped token."
                ) from None
            until = self._clock() + self._s.cache_ttl
            try:
                until = min(until, keystone_time(str(data.get("expires_at"))))
            except ValueError:
                pass  # no or odd expiry: the TTL alone bounds it
            self._cache.put(key, identity, until)
            return identity
        raise BackendUnavailable("Keystone refused zunk8s's service token twice in a row.")

    async def _service(self, *, renew: bool) -> str:
        async with self._service_lock:
            fresh = self._service_token is not None and self._clock() < self._service_expires - RENEW_BEFORE
            if fresh and not renew and self._service_token is not None:
                return self._service_token
            s = self._s
            body = {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {"name": s.username, "domain": {"name": s.user_domain_name}, "password": self._password()}
                        },
                    },
                    "scope": {"project": {"name": s.project_name, "domain": {"name": s.project_domain_name}}},
                }
            }
            status, answer, subject = await self._issue(body)
            if status != 201 or not subject:
                # The password is never logged; the status says enough (401: wrong credentials).
                raise BackendUnavailable(
                    f"zunk8s cannot log in to Keystone as {s.username!r} (Keystone answered {status})."
                )
            self._service_token = subject
            try:
                self._service_expires = keystone_time(str(answer["token"]["expires_at"]))
            except (KeyError, TypeError, ValueError):
                self._service_expires = self._clock() + 300
            log.info("keystone_service_token", user=s.username, expires_in=round(self._service_expires - self._clock()))
            return subject

    def _password(self) -> str:
        if self._s.password is not None:
            return self._s.password.get_secret_value()
        try:
            return Path(str(self._s.password_file)).read_text().rstrip("\r\n")
        except OSError as e:
            raise BackendUnavailable(f"Cannot read the Keystone password file: {e.strerror}.") from None

    async def _issue(self, body: dict[str, Any]) -> tuple[int, Any, str | None]:
        try:
            async with self._http().post(self._s.auth_url + "/auth/tokens", json=body) as resp:
                answer = await resp.json(content_type=None) if resp.status == 201 else None
                return resp.status, answer, resp.headers.get("X-Subject-Token")
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise BackendUnavailable(f"Keystone is unreachable at {self._s.auth_url}: {_why(e)}.") from e

    async def _call(self, method: str, path: str, *, headers: dict[str, str]) -> tuple[int, Any]:
        try:
            async with self._http().request(method, self._s.auth_url + path, headers=headers) as resp:
                body = await resp.json(content_type=None) if resp.status == 200 else None
                return resp.status, body
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise BackendUnavailable(f"Keystone is unreachable at {self._s.auth_url}: {_why(e)}.") from e


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "no answer in time"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
