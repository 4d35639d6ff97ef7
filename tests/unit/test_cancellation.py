"""cancel_and_wait absorbs the children's cancellation, never the caller's own."""

from __future__ import annotations

import asyncio

import pytest

from zunk8s.cancellation import cancel_and_wait


async def _stubborn() -> None:
    # Takes a while to end once cancelled, like a lock renewal that must finish a Redis call.
    try:
        await asyncio.sleep(3600)
    finally:
        await asyncio.shield(asyncio.sleep(0.2))


async def test_children_are_ended_and_their_errors_returned() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    bad = asyncio.create_task(fails())
    await asyncio.sleep(0)
    sleeper = asyncio.create_task(asyncio.sleep(3600))
    errors = await cancel_and_wait(bad, sleeper)
    assert sleeper.cancelled() and [type(e) for e in errors] == [ValueError]


async def test_a_cancelled_caller_is_not_swallowed() -> None:
    carried_on = False

    async def owner() -> None:
        nonlocal carried_on
        child = asyncio.create_task(_stubborn())
        await asyncio.sleep(0)
        await cancel_and_wait(child)  # the owner is cancelled while it waits here
        carried_on = True

    task = asyncio.create_task(owner())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not carried_on


async def test_waiting_inside_a_cancellation_already_under_way_still_waits() -> None:
    # In a `finally` run because the owner was cancelled, the children are still waited for.
    ended: list[bool] = []

    async def owner() -> None:
        child = asyncio.create_task(_stubborn())
        try:
            await asyncio.sleep(3600)
        finally:
            await cancel_and_wait(child)
            ended.append(child.done())

    task = asyncio.create_task(owner())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ended == [True]
