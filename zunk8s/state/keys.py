"""Every name zunk8s keeps in the state store, built here and nowhere else.

Two levels. Callers hand the store *names*: lock names (a container's uuid, or
``leader_lock``), value names (``exec_session_key``, ``terminal_size_key``), group names
(``replicas_group``) and channel names (``stream_id_for``). The Redis backend turns each
into a Redis key under the ``zunk8s:`` prefix (``lock_key``, ``token_key``, ``value_key``,
``group_key``, ``channel_key``); the
in-process backend uses the names as they are. These strings are what a running
installation has stored: changing one orphans what is there and splits replicas of
different versions.
"""

from __future__ import annotations

import secrets

# --- names callers hand the store --------------------------------------------------------


def leader_lock(instance: str) -> str:
    """The lock whose holder reconciles the installation ``instance`` (one leader each)."""
    return f"leader-{instance}"


def isolation_lock(namespace: str) -> str:
    """The lock under which a project's NetworkPolicies are derived and written (one writer at
    a time across replicas, so the last write is made from the newest groups and records)."""
    return f"isolation:{namespace}"


def exec_session_key(exec_id: str) -> str:
    """The value holding an interactive exec session until the client connects."""
    return f"exec:{exec_id}"


def stream_id_for(*, uuid: str, exec_id: str | None) -> str:
    """The stream an attach (``exec_id`` None) or an interactive exec is: its resizes are
    published on a channel of this name and remembered under ``terminal_size_key``."""
    return f"exec:{exec_id}" if exec_id else f"attach:{uuid}"


def new_token() -> str:
    """A fresh single-use websocket token (256 random bits, URL-safe): the name its session is
    kept under until a client takes it."""
    return secrets.token_urlsafe(32)


def terminal_size_key(stream_id: str) -> str:
    """The value holding the last terminal size asked for ``stream_id``."""
    return f"size:{stream_id}"


def replicas_group(instance: str) -> str:
    """The group in which each live replica of the installation ``instance`` keeps its
    heartbeat (Zun's services table: GET /v1/services)."""
    return f"replicas-{instance}"


# --- Redis keys the Redis backend builds from those names --------------------------------


def lock_key(name: str) -> str:
    return f"zunk8s:lock:{name}"


def token_key(token: str) -> str:
    return f"zunk8s:wstoken:{token}"


def value_key(name: str) -> str:
    return f"zunk8s:value:{name}"


def group_key(name: str) -> str:
    return f"zunk8s:group:{name}"


def channel_key(name: str) -> str:
    return f"zunk8s:chan:{name}"
