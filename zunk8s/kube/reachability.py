"""Whether the Kubernetes API server answers, so that actions fail fast while it does not.

Without this, every action waits out the full request timeout against a dead API server
(30 s), and an exec websocket waits for aiohttp's 300 s session default. Here:

- a call that fails with a connection error or a timeout, or that has no answer after
  ``suspect_after`` seconds, only raises a *suspicion*: it starts a probe (one at a time);
- the probe (a cheap ``GET /readyz`` with a short timeout) decides. If it fails, the API is
  *unreachable*: calls in flight are aborted and new ones raise ``KubeUnavailable`` at once,
  saying since when and why. The probe repeats every ``interval`` seconds until it succeeds,
  and then everything works again by itself;
- calls that must keep trying through an outage (the informers' list and watch) pass
  ``wait=True``: while unreachable they wait for the probe's verdict instead of failing.

A single slow answer or dropped keep-alive connection therefore never fails anything by
itself: only the probe declares an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import structlog

from zunk8s.cancellation import cancel_and_wait
from zunk8s.kube.errors import KubeUnavailable

log = structlog.get_logger(__name__)

Probe = Callable[[], Awaitable[None]]


class ProbeFailed(Exception):
    """The probe's verdict: the API server did not answer; the message says how."""


def describe(exc: BaseException) -> str:
    """A one-line reason for a failed call or probe (aiohttp's timeouts have no message)."""
    text = str(exc).strip()
    if isinstance(exc, ProbeFailed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def unreachable_message(since: float, reason: str) -> str:
    stamp = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"The Kubernetes API is unreachable since {stamp} ({reason}). "
        "Containers can still be listed and shown; actions will work again once it answers."
    )


class Watchdog:
    """Handed to a guarded call: ``settle()`` once the API server has answered (a stream's
    headers arrived), so that a long-lived stream is not mistaken for a slow answer."""

    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self._handle = handle

    def settle(self) -> None:
        self._handle.cancel()


class Reachability:
    def __init__(
        self,
        probe: Probe,
        *,
        interval: float = 1.0,
        suspect_after: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # ``probe`` returns when the API server answered and raises (any Exception, with
        # a message that says why) when it did not; it must bound its own time.
        self._probe = probe
        self.interval = interval
        self.suspect_after = suspect_after
        self._clock = clock
        self._up = asyncio.Event()
        self._up.set()
        self.since: float | None = None  # wall clock of the first failure of this outage
        self.reason = ""
        self._suspected_at: float | None = None
        self._suspected_why = ""
        self._inflight: set[asyncio.Timeout] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.outages = 0

    @property
    def reachable(self) -> bool:
        return self._up.is_set()

    def error(self) -> KubeUnavailable:
        if self.reachable or self.since is None:
            return KubeUnavailable("The Kubernetes API is unreachable.")
        return KubeUnavailable(unreachable_message(self.since, self.reason))

    # --- suspicion and probing ---------------------------------------------------------

    def suspect(self, why: str) -> None:
        """A call failed or is slow: have the probe decide (one probe task at a time)."""
        if self._suspected_at is None:
            self._suspected_at = self._clock()
            self._suspected_why = why
        if not self._closed and (self._task is None or self._task.done()):
            # A context of its own: not the log context of the request that happened to start it.
            self._task = asyncio.get_running_loop().create_task(
                self._probe_loop(), name="kube-reachability-probe", context=contextvars.Context()
            )

    async def _probe_loop(self) -> None:
        while True:
            try:
                await self._probe()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._mark_down(describe(e))
                await asyncio.sleep(self.interval)
                continue
            self._mark_up()
            return

    def _mark_down(self, why: str) -> None:
        if not self.reachable:
            return
        self.since = self._suspected_at if self._suspected_at is not None else self._clock()
        self.reason = why
        self._up.clear()
        self.outages += 1
        log.warning("kube_unreachable", reason=why, first_sign=self._suspected_why, aborted=len(self._inflight))
        now = asyncio.get_running_loop().time()
        for deadline in list(self._inflight):
            # Cancels the call where it waits; guard() turns that into KubeUnavailable.
            with contextlib.suppress(RuntimeError):  # already left its block
                deadline.reschedule(now)

    def _mark_up(self) -> None:
        if not self.reachable:
            down = self._clock() - self.since if self.since is not None else 0.0
            log.info("kube_reachable_again", down_seconds=round(down, 1))
            self.since = None
            self.reason = ""
            self._up.set()
        self._suspected_at = None
        self._suspected_why = ""

    # --- guarding calls ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def guard(self, what: str, *, wait: bool = False) -> AsyncIterator[Watchdog]:
        """Run a call to the API server inside this block.

        Unreachable: raise ``KubeUnavailable`` at once, or (``wait``) wait until it is back.
        Reachable: if the call has no answer after ``suspect_after`` seconds (until
        ``settle()``), the probe is started; if the probe finds the API unreachable, the call
        is aborted with ``KubeUnavailable``.
        """
        if not self.reachable:
            if not wait:
                raise self.error()
            await self._up.wait()
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.suspect_after, self.suspect, f"{what} had no answer after {self.suspect_after:g} s")
        deadline = asyncio.timeout(None)
        self._inflight.add(deadline)
        try:
            async with deadline:
                yield Watchdog(handle)
        except TimeoutError:
            if deadline.expired():
                raise self.error() from None
            raise
        finally:
            handle.cancel()
            self._inflight.discard(deadline)

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            await cancel_and_wait(task)
