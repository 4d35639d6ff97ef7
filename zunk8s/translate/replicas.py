"""zunk8s replicas as Zun services (GET /v1/services; zun/api/controllers/v1/zun_services.py
and views/services_view.py).

Every replica both serves the API and does the container work, so each is two Zun services
on its host: ``zun-api`` and ``zun-compute``. Each replica writes a heartbeat (``Heartbeat``)
every report interval; as Zun's ServiceGroup.service_is_up judges its services, a service is
"up" while it was last seen up at most ``down_after`` seconds ago. ``zun-api`` is seen up at
every heartbeat; ``zun-compute`` only at those written while the replica could reach the
Kubernetes API, without which it can do no container work (as a Zun compute whose Docker is
gone stops reporting).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from zunk8s.clock import zun_iso_timestamp

# Zun's [DEFAULT] default_availability_zone, which its service list shows for a service
# registered without one.
AVAILABILITY_ZONE = "nova"
BINARIES = ("zun-api", "zun-compute")


class Heartbeat(BaseModel):
    """What a replica writes about itself (its member of the state store's replicas group)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    host: str
    # Seconds since the epoch (wall clock: compared across replicas, as Zun's DB timestamps are).
    started_at: float
    seen_at: float
    report_count: int
    # The last heartbeat at which the Kubernetes API was reachable (None: not yet).
    compute_seen_at: float | None


def parse_heartbeats(members: Mapping[str, Mapping[str, Any]]) -> dict[str, Heartbeat]:
    """The members that are heartbeats; anything else (written by another version) is skipped."""
    out: dict[str, Heartbeat] = {}
    for member, value in members.items():
        try:
            out[member] = Heartbeat.model_validate(value)
        except ValidationError:
            continue
    return out


def _time(epoch: float) -> str:
    return zun_iso_timestamp(datetime.fromtimestamp(epoch, timezone.utc))


def service_views(beats: Mapping[str, Heartbeat], *, now: float, down_after: float) -> list[dict[str, Any]]:
    """Zun's service list items: per replica (oldest first) its zun-api, then its zun-compute.
    ``id`` numbers the list (Zun's is its DB row's; here there are no rows)."""
    ordered: Iterable[tuple[str, Heartbeat]] = sorted(beats.items(), key=lambda kv: (kv[1].started_at, kv[0]))
    views: list[dict[str, Any]] = []
    for _, beat in ordered:
        for binary in BINARIES:
            seen = beat.seen_at if binary == "zun-api" else beat.compute_seen_at
            up = seen is not None and now - seen <= down_after
            views.append(
                {
                    "availability_zone": AVAILABILITY_ZONE,
                    "binary": binary,
                    "created_at": _time(beat.started_at),
                    "disabled": False,
                    "disabled_reason": None,
                    "forced_down": False,
                    "host": beat.host,
                    "id": len(views) + 1,
                    "last_seen_up": None if seen is None else _time(seen),
                    "report_count": beat.report_count,
                    "state": "up" if up else "down",
                    "updated_at": _time(beat.seen_at),
                }
            )
    return views
