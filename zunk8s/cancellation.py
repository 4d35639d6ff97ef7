"""Ending child tasks without swallowing the caller's own cancellation.

The usual ``task.cancel(); with suppress(CancelledError): await task`` has a hole: if the
caller itself is cancelled while it waits (a shutdown arriving at that moment), the
CancelledError it receives is suppressed too, and the caller carries on as if nothing had
happened (a reconciler that keeps leading after its application stopped). Here the child's
cancellation is absorbed, and a cancellation of the caller that arrived meanwhile is not.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any]) -> list[BaseException]:
    """Cancel ``tasks`` and wait for each to end; return the errors they ended with (other
    than their own cancellation), for the caller to log."""
    current = asyncio.current_task()
    before = current.cancelling() if current is not None else 0
    for task in tasks:
        task.cancel()
    errors: list[BaseException] = []
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            if current is not None and current.cancelling() > before:
                raise  # the caller was cancelled while it waited: that is not the child's
        except Exception as e:
            errors.append(e)
    return errors
