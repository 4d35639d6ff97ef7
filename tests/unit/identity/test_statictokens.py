"""Static-token mode: digests in a file, reloaded when it changes, a bad file never loses the list."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from zunk8s.identity.base import Identity, Unauthenticated, token_digest
from zunk8s.identity.statictokens import StaticTokens, new_entry


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, entries: list[dict[str, object]]) -> None:
    path.write_text(json.dumps({"tokens": entries}))


async def test_tokens_map_to_identities_and_reload(tmp_path: Path) -> None:
    token, entry = new_entry(project_id="alpha", user_id="ci", roles=["member"])
    assert entry["sha256"] == token_digest(token) and token not in json.dumps(entry)
    path = tmp_path / "tokens.json"
    write(path, [entry])
    clock = Clock()
    auth = StaticTokens(str(path), clock=clock)
    assert await auth.authenticate({"X-Auth-Token": token}) == Identity("alpha", "ci", frozenset({"member"}))
    for headers in ({}, {"X-Auth-Token": ""}, {"X-Auth-Token": token + "x"}):
        with pytest.raises(Unauthenticated) as err:
            await auth.authenticate(headers)
        assert err.value.status == 401

    # Revoked: the file no longer lists it (picked up once the check interval has passed).
    other, other_entry = new_entry(project_id="beta", user_id="u2", roles=[])
    write(path, [other_entry])
    os.utime(path, ns=(1, 1))  # a different stamp even within one mtime tick
    assert await auth.authenticate({"X-Auth-Token": token})  # not checked again yet
    clock.now = 2.0
    with pytest.raises(Unauthenticated):
        await auth.authenticate({"X-Auth-Token": token})
    assert (await auth.authenticate({"X-Auth-Token": other})).project_id == "beta"

    # A broken file keeps the list in force.
    path.write_text("{not json")
    clock.now = 4.0
    assert (await auth.authenticate({"X-Auth-Token": other})).project_id == "beta"


@pytest.mark.parametrize(
    "content",
    [
        "",
        "[]",
        '{"tokens": [{"sha256": "abc", "project_id": "p", "user_id": "u"}]}',
        '{"tokens": [{"sha256": "' + "a" * 64 + '", "project_id": "", "user_id": "u"}]}',
        '{"tokens": [], "extra": 1}',
    ],
)
def test_a_bad_file_stops_start_up(tmp_path: Path, content: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="cannot use the tokens file"):
        StaticTokens(str(path))
