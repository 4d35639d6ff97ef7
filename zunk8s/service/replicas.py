"""This installation's replicas as Zun services: each writes a heartbeat to the state store's
replicas group (``beat``, every report interval, from ``beat_forever``) and leaves it on a
clean shutdown; GET /v1/services lists the group (translate/replicas.py).

A replica that died without leaving shows "down" (as a Zun compute that stopped reporting)
until FORGET_AFTER: Kubernetes replaces a Pod under a new name, so a dead replica would
otherwise be listed for ever, and Zun's way out (DELETE /v1/services) has no meaning here.
With the in-process store there is one replica, which lists itself.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import structlog

from zunk8s.clock import now_utc
from zunk8s.errors import ZunError
from zunk8s.kube.gateway import KubeGateway
from zunk8s.state.keys import replicas_group
from zunk8s.state.protocol import StateStore
from zunk8s.translate.replicas import Heartbeat, parse_heartbeats, service_views

log = structlog.get_logger(__name__)

# Zun's ratio: a service is down after service_down_time (180 s), three of its report
# intervals (periodic_interval_max, 60 s).
DOWN_AFTER_INTERVALS = 3
FORGET_AFTER = 3600
# Leaving must not hold a shutdown on a Redis that does not answer.
LEAVE_TIMEOUT = 2.0


class Replicas:
    def __init__(self, *, store: StateStore, gateway: KubeGateway, host: str, interval: float) -> None:
        self._store = store
        self._gw = gateway
        self._group = replicas_group(gateway.instance)
        # Unique per start: two replicas on one machine (or a restart in the same Pod) are
        # two services, never one overwriting the other.
        self.member = secrets.token_hex(8)
        self._host = host
        self._interval = interval
        self._started_at = now_utc().timestamp()
        self._count = 0
        self._compute_seen_at: float | None = None

    @property
    def down_after(self) -> float:
        return DOWN_AFTER_INTERVALS * self._interval

    async def beat(self) -> None:
        now = now_utc().timestamp()
        self._count += 1
        if self._gw.reachable:
            self._compute_seen_at = now
        beat = Heartbeat(
            host=self._host,
            started_at=self._started_at,
            seen_at=now,
            report_count=self._count,
            compute_seen_at=self._compute_seen_at,
        )
        await self._store.put_member(self._group, self.member, beat.model_dump(), ttl=FORGET_AFTER)

    async def beat_forever(self) -> None:
        """Heartbeats until cancelled (the first is ``beat``, at start-up). A failed one is
        logged and the next tried on time: the replica is "down" meanwhile, which is true."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.beat()
            except ZunError as e:  # the state store is unavailable
                log.warning("heartbeat_failed", error=repr(e))

    async def leave(self) -> None:
        """Take this replica off the list (clean shutdown); best effort, bounded."""
        try:
            await asyncio.wait_for(self._store.drop_members(self._group, self.member), LEAVE_TIMEOUT)
        except (ZunError, TimeoutError) as e:
            log.warning("replica_leave_failed", error=repr(e))

    async def views(self) -> list[dict[str, Any]]:
        """Zun's service list; heartbeats older than FORGET_AFTER are dropped on the way."""
        now = now_utc().timestamp()
        beats = parse_heartbeats(await self._store.members(self._group))
        stale = [m for m, b in beats.items() if now - b.seen_at > FORGET_AFTER]
        if stale:
            await self._store.drop_members(self._group, *stale)
        live = {m: b for m, b in beats.items() if m not in stale}
        return service_views(live, now=now, down_after=self.down_after)
