"""The real Keystone of the test bed (``deploy/keystone``): its address, the test users, and
tokens issued and revoked through its REST API."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from tests.exports import parse_exports
from zunk8s.settings import KeystoneSettings

ROOT = Path(__file__).resolve().parent.parent
KEYSTONE = ROOT / "deploy" / "keystone"
USERS = ("admin", "service", "alice", "bob", "rita")


@dataclass(frozen=True)
class User:
    name: str
    password: str
    project: str


@dataclass
class Keystone:
    url: str
    users: dict[str, User]
    env: dict[str, str] = field(default_factory=dict)

    def service_settings(self, **overrides: Any) -> KeystoneSettings:
        svc = self.users["service"]
        return KeystoneSettings(
            auth_url=self.url, username=svc.name, password=SecretStr(svc.password), project_name=svc.project, **overrides
        )

    async def token(self, user: str, *, scoped: bool = True) -> tuple[str, dict[str, Any]]:
        """A new token of ``user`` (project-scoped to its project, or unscoped) and its body."""
        u = self.users[user]
        auth: dict[str, Any] = {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": u.name, "domain": {"name": "Default"}, "password": u.password}},
            }
        }
        if scoped:
            auth["scope"] = {"project": {"name": u.project, "domain": {"name": "Default"}}}
        async with aiohttp.ClientSession() as s, s.post(f"{self.url}/auth/tokens", json={"auth": auth}) as r:
            assert r.status == 201, (user, r.status, await r.text())
            body: dict[str, Any] = (await r.json())["token"]
            return r.headers["X-Subject-Token"], body

    async def revoke(self, token: str) -> None:
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        async with aiohttp.ClientSession() as s, s.delete(f"{self.url}/auth/tokens", headers=headers) as r:
            assert r.status == 204, (r.status, await r.text())


def keystone_command(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(KEYSTONE), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    assert result.returncode == 0, f"deploy/keystone {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


def start_keystone(env: dict[str, str] | None = None) -> Keystone:
    """``deploy/keystone up`` (quick when it already runs) and what ``env`` says of it."""
    keystone_command("up", env=env)
    values = parse_exports(keystone_command("env", env=env))
    users = {
        name: User(
            name=values[f"ZUNK8S_TEST_KEYSTONE_{name.upper()}_USER"],
            password=values[f"ZUNK8S_TEST_KEYSTONE_{name.upper()}_PASSWORD"],
            project=values[f"ZUNK8S_TEST_KEYSTONE_{name.upper()}_PROJECT"],
        )
        for name in USERS
    }
    return Keystone(url=values["ZUNK8S_KEYSTONE_URL"], users=users, env=values)
