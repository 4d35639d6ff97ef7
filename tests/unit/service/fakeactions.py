"""A stand-in action log for services that append to it: it keeps what they would write."""

from __future__ import annotations

from zunk8s.service.actionlog import ActionLog
from zunk8s.service.context import Caller
from zunk8s.service.registry import Entry
from zunk8s.translate.actionlog import Begun

CALLER = Caller(project_id="p", user_id="u", roles=frozenset({"member"}), request_id="req-1")


class RecordingLog(ActionLog):
    def __init__(self) -> None:  # no gateway: nothing is written
        self.appended: list[tuple[str, Begun, str | None]] = []

    async def append(self, entry: Entry, started: Begun, *, error: str | None) -> None:
        self.appended.append((entry.uuid, started, error))

    def actions(self) -> list[tuple[str, bool]]:
        """(action, failed) of each append, in order."""
        return [(started.action, error is not None) for _, started, error in self.appended]
