"""pause/unpause asked and answered on the Pod; the agent's Lease (translate/freeze.py)."""

from datetime import datetime, timedelta, timezone

from zunk8s.translate import freeze

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)


def pod(**annotations: str) -> dict[str, object]:
    return {"metadata": {"name": "p", "namespace": "n", "annotations": annotations},
            "status": {"containerStatuses": [{"containerID": "containerd://abc", "state": {"running": {}}}]}}


def test_an_ask_and_its_answer_are_tied_by_the_request() -> None:
    p = pod(**{freeze.WANT: freeze.ask("paused", "req-1")})
    assert freeze.wanted(p) == ("paused", "req-1")
    assert freeze.answer(p) is None
    done = pod(**{freeze.DONE: freeze.done_value("paused", "req-1")})
    assert freeze.answer(done) == freeze.Answer(request="req-1", state="paused")
    failed = pod(**{freeze.DONE: freeze.error_value("req-2", "containerd Pause:\n  no such task")})
    assert freeze.answer(failed) == freeze.Answer(request="req-2", state=None, error="containerd Pause: no such task")
    assert freeze.wanted(pod(**{freeze.WANT: "frozen req-1"})) is None
    assert freeze.wanted(pod()) is None


def test_the_running_container_id() -> None:
    assert freeze.container_id(pod()) == "abc"
    assert freeze.container_id({"status": {"containerStatuses": [{"containerID": "containerd://x", "state": {"waiting": {}}}]}}) is None


def test_an_agent_is_alive_while_its_lease_is_fresh() -> None:
    lease = freeze.lease_body(name="l", namespace="kube-node-lease", node="n1", instance="i", now=NOW)
    assert lease["spec"]["renewTime"] == "2026-12-02T12:00:00.000000Z"
    assert freeze.agent_alive(lease, NOW + timedelta(seconds=freeze.AGENT_STALE - 1))
    assert not freeze.agent_alive(lease, NOW + timedelta(seconds=freeze.AGENT_STALE + 1))
    assert not freeze.agent_alive(None, NOW)
    assert freeze.lease_name("i", "n1") == "zunk8s-agent-i-n1"
