"""Reachability: suspicion, the probe's verdict, failing fast, aborting and recovering.

The probe is a fake (an awaitable whose verdict the test sets); no sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from zunk8s.kube.errors import KubeUnavailable
from zunk8s.kube.reachability import ProbeFailed, Reachability, describe, unreachable_message
from zunk8s.service.faults import zun_error


class FakeProbe:
    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(0)
        if not self.up:
            raise ProbeFailed("GET /readyz: no answer within 2 s")


def make(probe: FakeProbe, **kw: float) -> Reachability:
    return Reachability(probe, interval=kw.get("interval", 0.01), suspect_after=kw.get("suspect_after", 0.05))


def state(r: Reachability) -> tuple[bool, float | None, str]:
    """(reachable, since, reason), read through a call: mypy would carry the narrowing of an earlier
    ``assert not r.reachable`` / ``r.since is not None`` over the awaits that change them."""
    return r.reachable, r.since, r.reason


async def until(cond: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.005)


def test_message_says_since_when_and_why() -> None:
    msg = unreachable_message(0.0, "GET /readyz: no answer within 2 s")
    assert msg.startswith("The Kubernetes API is unreachable since 1970-01-01 00:00:00 UTC (GET /readyz: no answer")
    assert "listed and shown" in msg


def test_describe() -> None:
    assert describe(TimeoutError()) == "TimeoutError"
    assert describe(ConnectionRefusedError("refused")) == "ConnectionRefusedError: refused"
    assert describe(ProbeFailed("GET /readyz answered 500")) == "GET /readyz answered 500"


async def test_quick_calls_never_probe() -> None:
    probe = FakeProbe()
    r = make(probe)
    for _ in range(3):
        async with r.guard("GET /x"):
            await asyncio.sleep(0)
    await asyncio.sleep(0.1)
    assert probe.calls == 0 and r.reachable
    await r.close()


async def test_a_failure_the_probe_does_not_confirm_changes_nothing() -> None:
    probe = FakeProbe()
    r = make(probe)
    r.suspect("PATCH /x: ServerDisconnectedError")
    await until(lambda: probe.calls >= 1)
    await asyncio.sleep(0.05)
    assert r.reachable and r.since is None
    async with r.guard("GET /x"):
        pass
    await r.close()


async def test_confirmed_outage_fails_fast_aborts_in_flight_and_recovers() -> None:
    probe = FakeProbe()
    r = make(probe, suspect_after=10)
    started = asyncio.Event()

    async def stuck_call() -> None:
        async with r.guard("PATCH /records/x"):
            started.set()
            await asyncio.Future()  # an answer that never comes

    stuck = asyncio.create_task(stuck_call())
    await started.wait()
    probe.up = False
    before = time.time()
    r.suspect("PATCH /records/x: ConnectionResetError")
    # The call in flight is aborted with the outage's 503, not left to its own timeout.
    with pytest.raises(KubeUnavailable) as aborted:
        await asyncio.wait_for(stuck, 1.0)
    assert not r.reachable
    assert r.since is not None and before - 1 <= r.since <= time.time()
    assert "unreachable since" in aborted.value.detail
    assert "(GET /readyz: no answer within 2 s)" in aborted.value.detail
    assert zun_error(aborted.value).status == 503  # what the client gets for it

    # New calls fail at once...
    t0 = time.monotonic()
    with pytest.raises(KubeUnavailable, match="unreachable since"):
        async with r.guard("POST /records"):
            raise AssertionError("must not run")
    assert time.monotonic() - t0 < 0.05

    # ...while the informers' calls wait for the API server to be back.
    ran = asyncio.Event()

    async def informer_list() -> None:
        async with r.guard("GET /records", wait=True):
            ran.set()

    waiting = asyncio.create_task(informer_list())
    await asyncio.sleep(0.05)
    assert not ran.is_set()
    calls = probe.calls
    await asyncio.sleep(0.05)
    assert probe.calls > calls, "the probe keeps trying while unreachable"

    probe.up = True
    await asyncio.wait_for(waiting, 1.0)
    assert state(r) == (True, None, "")
    async with r.guard("POST /records"):
        pass
    assert r.outages == 1
    await r.close()


async def test_a_slow_call_makes_the_probe_check_and_an_outage_aborts_it() -> None:
    probe = FakeProbe()
    probe.up = False
    r = make(probe, suspect_after=0.05)
    t0 = time.monotonic()
    with pytest.raises(KubeUnavailable, match="unreachable since"):
        async with r.guard("PATCH /records/x"):
            await asyncio.sleep(5)
    assert time.monotonic() - t0 < 1.0
    assert probe.calls >= 1
    probe.up = True
    await until(lambda: r.reachable)
    await r.close()


async def test_a_slow_call_on_a_live_server_is_left_alone() -> None:
    probe = FakeProbe()
    r = make(probe, suspect_after=0.02)
    async with r.guard("GET /big-list"):
        await asyncio.sleep(0.1)
    assert probe.calls == 1 and r.reachable
    await r.close()


async def test_a_settled_stream_is_not_suspected() -> None:
    probe = FakeProbe()
    r = make(probe, suspect_after=0.02)
    async with r.guard("GET /watch", wait=True) as watchdog:
        watchdog.settle()  # headers arrived; a quiet watch is normal
        await asyncio.sleep(0.08)
    assert probe.calls == 0
    await r.close()


async def test_other_timeouts_and_errors_pass_through() -> None:
    r = make(FakeProbe())
    with pytest.raises(TimeoutError):
        async with r.guard("GET /x"):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
    with pytest.raises(ValueError):
        async with r.guard("GET /x"):
            raise ValueError("boom")
    assert r.reachable
    await r.close()


async def test_caller_cancellation_is_not_an_outage() -> None:
    r = make(FakeProbe(), suspect_after=10)

    async def call() -> None:
        async with r.guard("GET /x"):
            await asyncio.sleep(5)

    task = asyncio.create_task(call())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert r.reachable
    await r.close()


async def test_close_cancels_the_probe() -> None:
    probe = FakeProbe()
    probe.up = False
    r = make(probe, interval=10)
    r.suspect("GET /x: ConnectionRefusedError")
    await until(lambda: not r.reachable)
    task = r._task
    assert task is not None and not task.done()
    await r.close()
    assert task.cancelled()
    r.suspect("GET /x: ServerDisconnectedError")  # a call failing during shutdown
    assert r._task is None
