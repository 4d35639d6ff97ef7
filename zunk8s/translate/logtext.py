"""Container log text: the logs query, tail / since / timestamps over saved logs, and the
ConfigMap that keeps the logs of a container's earlier runs (service/logs.py).

Pure: bytes in, bytes out; the time is passed in (``now``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from zunk8s.clock import log_time

# A ConfigMap's data may total at most 1 MiB (1,048,576 bytes); leave room for the object.
LOG_ARCHIVE_LIMIT = 1000 * 1000
# pods/log's `stream` values (KEP-3288).
LogStream = Literal["Stdout", "Stderr"]


@dataclass(frozen=True)
class LogsQuery:
    tail: int | None
    since_seconds: int | None
    timestamps: bool
    # "Stdout" or "Stderr" when only one of Zun's stdout/stderr flags is set; None for both.
    stream: LogStream | None = None


def log_archive_name(uuid: str) -> str:
    """The ConfigMap holding the saved logs of container ``uuid``."""
    return f"zun-logs-{uuid}"


def keep_newest(data: bytes, limit: int = LOG_ARCHIVE_LIMIT) -> bytes:
    """The last ``limit`` bytes of ``data``, starting at a line."""
    if len(data) <= limit:
        return data
    cut = data[-limit:]
    newline = cut.find(b"\n")
    return cut[newline + 1 :] if newline >= 0 else cut


def tail_lines(data: bytes, tail: int | None) -> bytes:
    """The last ``tail`` lines of ``data`` (all of it for None, nothing for 0)."""
    if tail is None:
        return data
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-tail:]) if tail else b""


def filter_archived(data: bytes, query: LogsQuery, *, now: datetime) -> bytes:
    """Apply since/tail/timestamps to logs archived with timestamps (RFC3339Nano prefix).

    A line whose prefix is no timestamp is kept by ``since`` (it cannot be dated)."""
    lines = data.splitlines(keepends=True)
    if query.since_seconds is not None:
        cutoff = now.timestamp() - query.since_seconds
        kept = []
        for line in lines:
            moment = log_time(line.split(b" ", 1)[0].decode(errors="replace"))
            if moment is None or moment.timestamp() >= cutoff:
                kept.append(line)
        lines = kept
    lines = tail_lines(b"".join(lines), query.tail).splitlines(keepends=True)
    if not query.timestamps:
        lines = [line.split(b" ", 1)[1] if b" " in line else line for line in lines]
    return b"".join(lines)


def join_logs(earlier: bytes, later: bytes) -> bytes:
    """Two runs' logs one after the other, a newline between them when ``earlier`` lacks its
    last one (and ``later`` has anything to follow it)."""
    if not later:
        return earlier
    return earlier + (b"" if earlier.endswith(b"\n") else b"\n") + later
