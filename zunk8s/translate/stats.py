"""stats between zunk8s and its node agent, declared on the Pod, and Zun's view of the answer (pure).

Like pause (translate/freeze.py): zunk8s writes ``WANT`` (``<request id>``) on the container's
Pod; the agent on the Pod's node measures the container (zunk8s/node/metrics.py) and answers on
the same Pod with ``DONE``, one line of compact JSON: ``{"request": ..., "cpu": ..., ...}`` (the
raw numbers, ``Measured``) or ``{"request": ..., "error": "<why>"}``. zunk8s waits for it
through its Pod watch and turns the numbers into Zun's seven keys (``zun_view``).

CPU % is measured over a short window (the agent reads the container's CPU time and the whole
host's CPU time twice, ``WINDOW`` seconds apart): Zun divides the container's cumulative CPU
time by the host's cumulative CPU time since boot, which says how much of everything the host
ever ran was this container, not how busy it is now. The ratio keeps Zun's scale (a share of
the whole host: 2 CPUs fully busy on a 4-CPU node is 50 %).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from zunk8s.translate import labels as L

Obj = dict[str, Any]

WANT = f"{L.PREFIX}/want-stats"
DONE = f"{L.PREFIX}/stats"
# Seconds between the agent's two CPU readings.
WINDOW = 0.5
MIB = 2**20


@dataclass(frozen=True)
class Measured:
    """One measurement of a container, as the agent reads it from the kernel (bytes, ns)."""

    cpu: int  # the container's CPU time over the window, ns
    system: int  # the whole host's CPU time (every CPU, idle included) over the same window, ns
    memory: int  # the cgroup's memory usage (page cache included)
    inactive_file: int  # the part of it that is inactive file cache (Zun subtracts it)
    limit: int  # the memory limit: the lowest of the container's, its Pod's and the node's RAM
    read: int  # block I/O bytes read and written, as the kernel accounts them
    write: int
    rx: int  # network bytes received and sent, every interface of the Pod but lo
    tx: int


@dataclass(frozen=True)
class Answer:
    request: str
    measured: Measured | None  # None: the agent could not measure
    error: str | None = None


def _annotations(pod: Obj | None) -> Obj:
    return ((pod or {}).get("metadata") or {}).get("annotations") or {}


def wanted(pod: Obj) -> str | None:
    """The request id of the stats zunk8s asked of this Pod's container, if any."""
    value = str(_annotations(pod).get(WANT) or "").strip()
    return value or None


def answer(pod: Obj | None) -> Answer | None:
    value = _annotations(pod).get(DONE)
    if not value:
        return None
    try:
        data = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("request"), str):
        return None
    request = data["request"]
    if "error" in data:
        return Answer(request=request, measured=None, error=str(data["error"]) or "the node agent failed")
    try:
        numbers = {name: int(data[name]) for name in Measured.__dataclass_fields__}
    except (KeyError, TypeError, ValueError):
        return Answer(request=request, measured=None, error=f"unreadable answer from the node agent: {value[:200]}")
    return Answer(request=request, measured=Measured(**numbers))


def done_value(request: str, measured: Measured) -> str:
    return json.dumps({"request": request, **asdict(measured)}, separators=(",", ":"))


def error_value(request: str, why: str) -> str:
    # One line, bounded: it is shown to users in a 409's detail.
    return json.dumps({"request": request, "error": " ".join(why.split())[:400]}, separators=(",", ":"))


def fresh(done: Answer | None, *, request: str, before: str | None) -> bool:
    """Whether ``done`` answers the ask ``request``: its own answer, or any answer written after
    the ask was (``before``: the request id of the answer on the Pod when zunk8s asked). Two asks
    at once overwrite each other's ask; the agent then answers the last one, measured after both
    were made, and both take that answer."""
    return done is not None and (done.request == request or done.request != before)


def zun_view(name: str, m: Measured) -> Obj:
    """Zun's answer (zun/container/docker/driver.py stats): exactly these seven keys, in its order."""
    usage = (m.memory - m.inactive_file) / MIB
    limit = m.limit / MIB
    return {
        "CONTAINER": name,
        "CPU %": float(m.cpu) / float(m.system) * 100 if m.system > 0 else 0.0,
        "MEM USAGE(MiB)": usage,
        "MEM LIMIT(MiB)": limit,
        "MEM %": usage / limit * 100 if limit > 0 else 0.0,
        "BLOCK I/O(B)": f"{m.read}/{m.write}",
        "NET I/O(B)": f"{m.rx}/{m.tx}",
    }
