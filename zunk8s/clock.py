"""The clock, and every time format zunk8s reads or writes, in one place.

``now_utc`` is the only function here that reads the clock; everything else is pure (callers
pass ``now``), so translate/ and schemas/ may use it. Formats: Zun's ``str(datetime)``
(``YYYY-MM-DD HH:MM:SS.ffffff``, no zone) and its ``strtime`` (``T`` for the space),
Kubernetes' RFC 3339 (``...Z``), the kubelet's log prefix (RFC 3339 with nanoseconds) and
Docker's log ``since`` (``YYYY-MM-DD HH:MM:SS,mmm``).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

ZUN_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
ZUN_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
# Zun's `since` pattern for logs (schemas/queries.py): Docker's log time, comma before the ms.
SINCE_FORMAT = "%Y-%m-%d %H:%M:%S,%f"


def now_utc() -> datetime:
    """The clock, kept out of the pure functions (callers pass ``now``)."""
    return datetime.now(timezone.utc)


def zun_timestamp(moment: datetime) -> str:
    """Zun's ``str(datetime)`` format: space separator, microseconds, no zone."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).strftime(ZUN_FORMAT)


def zun_iso_timestamp(moment: datetime) -> str:
    """Zun's ``utils.strtime`` (``YYYY-MM-DDTHH:MM:SS.ffffff``, UTC, no zone): the service
    list's times, which its view formats itself instead of leaving them to ``str``."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).strftime(ZUN_ISO_FORMAT)


def parse_zun_time(text: str | None) -> datetime | None:
    """A time written by ``zun_timestamp`` (UTC), or None when unset or not in that format."""
    if not text:
        return None
    try:
        return datetime.strptime(text, ZUN_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def kube_time(text: str | None) -> datetime | None:
    """A Kubernetes time (``creationTimestamp``, ``startedAt``: RFC 3339, ``Z`` for UTC), or None
    when unset or unparseable (Python 3.11's ``fromisoformat`` takes the ``+00:00`` form)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def kube_timestamp(moment: datetime) -> str:
    """A time as Kubernetes writes one in a status (``2024-05-01T12:00:00.123456Z``, UTC)."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def kube_now() -> str:
    """The clock, as Kubernetes writes a time (``kube_timestamp(now_utc())``)."""
    return kube_timestamp(now_utc())


def keystone_time(text: str) -> float:
    """Keystone's ``expires_at`` (ISO 8601, UTC, microseconds, ``Z``) as a POSIX time;
    ValueError for anything else."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def log_time(stamp: str) -> datetime | None:
    """A kubelet log line's timestamp (RFC 3339 with nanoseconds, which ``fromisoformat``
    refuses), truncated to microseconds; None when it is not one."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())[:6].ljust(6, "0")
    return moment.replace(microsecond=int(digits))


def parse_since_time(text: str) -> datetime | None:
    """Docker's log time as Zun's ``since`` takes it (``YYYY-MM-DD HH:MM:SS,mmm``, UTC); None
    when the fields are out of range (month 99)."""
    try:
        return datetime.strptime(text, SINCE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def epoch_to_rfc3339(seconds: float) -> str:
    """Seconds since the epoch as Docker writes a file's mtime (``2017-07-14T02:40:00Z``)."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def seconds_since_kube_time(text: str | None, now: datetime) -> float:
    """Seconds from a Kubernetes time to ``now``; infinite when unset or unparseable."""
    moment = kube_time(text)
    return math.inf if moment is None else (now - moment).total_seconds()


def seconds_since_zun_time(text: str | None, now: datetime) -> float:
    """Seconds from a Zun time to ``now``; infinite when unset or unparseable."""
    moment = parse_zun_time(text)
    return math.inf if moment is None else (now - moment).total_seconds()
