"""pause / unpause between zunk8s and its node agent, declared on the Pod (pure).

zunk8s never dials a node: it writes what it wants on the Pod (``WANT``: ``paused <request>`` or
``running <request>``), the agent on the Pod's node watches its node's Pods, freezes or thaws the
container through containerd, and answers on the same Pod (``DONE``: the same words, or
``error <request> <why>``). zunk8s waits for the answer through its Pod watch. The request id
ties an answer to the ask, so an old answer is never taken for a new one.

The agent says it is alive with a Lease per node and installation (``lease_name``), renewed every
``AGENT_RENEW`` seconds; zunk8s sends a pause only to a node whose agent renewed recently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from zunk8s.translate import labels as L

Obj = dict[str, Any]
State = Literal["paused", "running"]

WANT = f"{L.PREFIX}/want-state"
DONE = f"{L.PREFIX}/node-state"
AGENT_RENEW = 10.0
# An agent not heard from for this long serves its node no more.
AGENT_STALE = 3 * AGENT_RENEW


@dataclass(frozen=True)
class Answer:
    request: str
    state: State | None  # None: the agent could not do it
    error: str | None = None


def ask(state: State, request: str) -> str:
    return f"{state} {request}"


def wanted(pod: Obj) -> tuple[State, str] | None:
    """What zunk8s asked of this Pod's container, if anything: (state, request id)."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(WANT)
    if not value:
        return None
    state, _, request = str(value).partition(" ")
    if state not in ("paused", "running") or not request:
        return None
    return state, request  # type: ignore[return-value]


def answer(pod: Obj) -> Answer | None:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(DONE)
    if not value:
        return None
    state, _, rest = str(value).partition(" ")
    request, _, why = rest.partition(" ")
    if state == "error":
        return Answer(request=request, state=None, error=why or "the node agent failed")
    if state in ("paused", "running"):
        return Answer(request=request, state=state)  # type: ignore[arg-type]
    return None


def done_value(state: State, request: str) -> str:
    return f"{state} {request}"


def error_value(request: str, why: str) -> str:
    # One line, bounded: it is an annotation value shown to users as a status_reason.
    return f"error {request} {' '.join(why.split())[:400]}"


def container_id(pod: Obj) -> str | None:
    """The runtime's id of the Pod's (only) container: ``containerd://<id>`` -> ``<id>``."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        cid = str(cs.get("containerID") or "")
        if "running" in (cs.get("state") or {}) and "://" in cid:
            return cid.split("://", 1)[1]
    return None


def lease_name(instance: str, node: str) -> str:
    return f"zunk8s-agent-{instance}-{node}"[:253]


def lease_body(*, name: str, namespace: str, node: str, instance: str, now: datetime) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {L.MANAGED_BY: L.MANAGED_BY_VALUE, L.INSTANCE: instance}},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": int(AGENT_STALE), "renewTime": micro_time(now)},
    }


def micro_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def agent_alive(lease: Obj | None, now: datetime) -> bool:
    if lease is None:
        return False
    renewed = (lease.get("spec") or {}).get("renewTime")
    if not renewed:
        return False
    when = datetime.strptime(str(renewed).replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=now.tzinfo)
    return now - when < timedelta(seconds=AGENT_STALE)
