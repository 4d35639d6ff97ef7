"""The action log rides on the action contract's two writes (service/operations.py): the claim
begins the action, the final write (finish or fail) ends it, in the same PATCH as task_state.

The gateway stand-in keeps records as the API server would for these calls: JSON merge patches
applied to the status, resourceVersion bumped, a stale resourceVersion refused (KubeConflict).
"""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from zunk8s.errors import Conflict
from zunk8s.kube.errors import KubeConflict, KubeUnavailable
from zunk8s.kube.gateway import Key, KubeGateway
from zunk8s.service import operations
from zunk8s.service.actionlog import begun
from zunk8s.service.context import Caller
from zunk8s.service.operations import Operations
from zunk8s.service.registry import Entry, Registry
from zunk8s.service.tasks import TaskRunner
from zunk8s.state.memory import MemoryStore
from zunk8s.translate.statuschanges import Changes

Obj = dict[str, Any]
CALLER = Caller(project_id="p1", user_id="u1", roles=frozenset({"member"}), request_id="req-stop")
KEY = ("zun-p1", "c-1")


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


class StubGateway:
    def __init__(self, status: Obj) -> None:
        spec = {"uuid": "c-1", "name": "c", "project_id": "p1", "user_id": "u1", "image": "i",
                "created_at": "2026-12-02 00:00:00.000000"}
        meta = {"name": "c-1", "namespace": "zun-p1", "uid": "x", "resourceVersion": "1"}
        self.obj: Obj = {"metadata": meta, "spec": spec, "status": status}
        self.patches: list[Obj] = []

    def cached_record(self, key: Key) -> Obj | None:
        return copy.deepcopy(self.obj)

    def record_keys(self) -> list[Key]:
        return [KEY]

    async def get_record(self, namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(self.obj)

    def cached_pod(self, namespace: str, name: str) -> Obj | None:
        return None

    async def patch_record(self, namespace: str, name: str, patch: Obj, *, status: bool = False) -> Obj:
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != self.obj["metadata"]["resourceVersion"]:
            raise KubeConflict("the object has been modified")
        self.patches.append(patch)
        self.obj["status"] = _merge(self.obj["status"], patch.get("status") or {})
        self.obj["metadata"]["resourceVersion"] = str(int(self.obj["metadata"]["resourceVersion"]) + 1)
        return copy.deepcopy(self.obj)


def _ops(status: Obj) -> tuple[Operations, StubGateway, Registry, TaskRunner]:
    gw = StubGateway(status)
    registry = Registry(cast(KubeGateway, gw), namespace_prefix="zun-")
    tasks = TaskRunner()
    ops = Operations(gateway=cast(KubeGateway, gw), store=MemoryStore(), registry=registry, tasks=tasks, lock_ttl=5)
    return ops, gw, registry, tasks


def _entry(registry: Registry) -> Entry:
    entry = registry.entry(KEY)
    assert entry is not None
    return entry


async def _stop(status: Obj, outcome: Changes | Exception) -> tuple[StubGateway, Obj]:
    ops, gw, registry, tasks = _ops(status)
    claimed = await ops.begin(CALLER, _entry(registry), "stop", "container_stopping", desired="stopped")

    async def work(e: Entry) -> Changes | None:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    ops.run(claimed, "stop", work)
    await tasks.drain(5)
    return gw, gw.obj["status"]["actions"]["req-stop"]


async def test_claim_begins_and_the_final_write_ends_the_action() -> None:
    gw, action = await _stop({"status": "Running", "desired": "running"}, {"status": "Stopped"})
    claim, final = gw.patches
    # Each is the one write the contract makes: the log rides on it.
    assert claim["status"]["task_state"] == "container_stopping"
    assert claim["status"]["actions"]["req-stop"]["events"][0]["event"] == "compute__do_container_stop"
    assert "finish_time" not in claim["status"]["actions"]["req-stop"]
    assert final["status"]["task_state"] is None and final["status"]["status"] == "Stopped"
    assert action["action"] == "stop" and action["user_id"] == "u1" and action["project_id"] == "p1"
    assert action["finish_time"] >= action["start_time"] and "message" not in action
    assert [(e["event"], e["result"]) for e in action["events"]] == [("compute__do_container_stop", "Success")]


async def test_a_task_that_raises_fails_its_action_with_the_traceback() -> None:
    gw, action = await _stop({"status": "Running", "desired": "running"}, Conflict("the Pod went away"))
    assert gw.obj["status"]["status"] == "Error" and len(gw.patches) == 2
    assert action["message"] == "Error"
    (event,) = action["events"]
    assert event["result"] == "Error" and "Conflict: the Pod went away" in event["traceback"]


async def test_an_action_that_leaves_the_container_in_error_failed() -> None:
    _, action = await _stop({"status": "Running"}, {"status": "Error", "status_reason": "Pod refused"})
    assert action["message"] == "Error" and action["events"][0]["traceback"] == "Pod refused"


async def test_a_refused_claim_logs_nothing() -> None:
    ops, gw, registry, _ = _ops({"status": "Stopped", "desired": "stopped"})
    try:
        await ops.begin(CALLER, _entry(registry), "stop", "container_stopping")
    except Conflict:
        pass
    assert gw.patches == [] and "actions" not in gw.obj["status"]


async def test_an_action_that_claimed_nothing_is_written_whole_at_the_end() -> None:
    # A create: the record has no status until its task writes one.
    ops, gw, registry, tasks = _ops({})
    creator = Caller(project_id="p1", user_id="u1", roles=frozenset(), request_id="req-create")
    logged = begun(creator, "create")
    assert logged is not None

    async def work(e: Entry) -> Changes | None:
        return {"status": "Created"}

    ops.run(_entry(registry), "create", work, logged=logged)
    await tasks.drain(5)
    (final,) = gw.patches
    action = final["status"]["actions"]["req-create"]
    assert action["action"] == "create" and action["finish_time"] and final["status"]["status"] == "Created"
    assert [(e["event"], e["result"]) for e in action["events"]] == [("compute__do_container_create", "Success")]


async def test_a_task_begun_without_the_log_writes_none() -> None:
    # Claimed by a zunk8s from before the log (or trimmed away meanwhile): nothing to end.
    ops, gw, registry, tasks = _ops({"status": "Running", "task_state": "container_stopping",
                                     "task_request_id": "req-old"})
    await ops.finish(_entry(registry), {"status": "Stopped"})
    (final,) = gw.patches
    assert "actions" not in final["status"] and final["status"]["task_state"] is None


async def test_a_redriven_task_does_not_end_its_action_twice() -> None:
    ended = {"action": "stop", "start_time": "2026-12-02T00:00:00.000000", "finish_time": "2026-12-02T00:00:01.000000",
             "events": []}
    ops, gw, registry, _ = _ops({"status": "Stopped", "task_state": "container_stopping",
                                 "task_request_id": "req-stop", "actions": {"req-stop": ended}})
    await ops.finish(_entry(registry), None)
    assert gw.obj["status"]["actions"]["req-stop"] == ended and "actions" not in gw.patches[0]["status"]


class LostAnswerGateway(StubGateway):
    """The API server applies the claim, and its answer is lost (an outage in between)."""

    lose_next = True

    async def patch_record(self, namespace: str, name: str, patch: Obj, *, status: bool = False) -> Obj:
        applied = await super().patch_record(namespace, name, patch, status=status)
        if self.lose_next:
            self.lose_next = False
            raise KubeUnavailable("no answer after 2 s")
        return applied


def _losing_answers() -> tuple[LostAnswerGateway, Registry, TaskRunner, Operations]:
    """A running container behind a gateway that can lose a write's answer."""
    gw = LostAnswerGateway({"status": "Running", "desired": "running"})
    registry = Registry(cast(KubeGateway, gw), namespace_prefix="zun-")
    tasks = TaskRunner()
    ops = Operations(gateway=cast(KubeGateway, gw), store=MemoryStore(), registry=registry, tasks=tasks, lock_ttl=5)
    return gw, registry, tasks, ops


async def test_a_claim_answered_503_that_landed_anyway_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations, "UNDO_RETRY", 0.01)
    gw, registry, tasks, ops = _losing_answers()
    with pytest.raises(KubeUnavailable):
        await ops.begin(CALLER, _entry(registry), "stop", "container_stopping", desired="stopped")
    assert gw.obj["status"]["task_state"] == "container_stopping"  # it landed
    await tasks.drain(5)
    st = gw.obj["status"]
    # Not busy, not to be stopped by recovery later, and no action logged: the client heard 503.
    assert "task_state" not in st and st["desired"] == "running" and "req-stop" not in st.get("actions", {})


async def test_the_next_claim_undoes_an_unconfirmed_one_at_once() -> None:
    gw, registry, tasks, ops = _losing_answers()
    with pytest.raises(KubeUnavailable):
        await ops.begin(CALLER, _entry(registry), "stop", "container_stopping", desired="stopped")
    # The client tries again at once: not "busy" with the claim it was told failed.
    again = Caller(project_id="p1", user_id="u1", roles=frozenset({"member"}), request_id="req-again")
    claimed = await ops.begin(again, registry.entry(KEY) or _entry(registry), "stop", "container_stopping", desired="stopped")
    assert claimed.status.task_request_id == "req-again"
    assert set(gw.obj["status"]["actions"]) == {"req-again"}
    await tasks.drain(5)  # the background undo finds nothing left to do
