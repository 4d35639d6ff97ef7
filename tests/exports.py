"""Reading what a project script's ``env`` subcommand prints (``export KEY="value"`` lines):
``deploy/local-cluster env`` and ``deploy/keystone env``."""

from __future__ import annotations

import shlex


def parse_exports(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            parts = shlex.split(value) if value else []
            env[key] = parts[0] if parts else ""
    return env
