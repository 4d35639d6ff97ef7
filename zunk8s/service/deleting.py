"""delete, delete --force (admins; goes ahead while a task runs) and delete --stop."""

from __future__ import annotations

from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.actionlog import begun
from zunk8s.service.context import Caller
from zunk8s.service.operations import Operations
from zunk8s.service.registry import Entry
from zunk8s.service.states import Action, check_state
from zunk8s.translate.statuschanges import Changes


class Deletion:
    def __init__(self, *, gateway: KubeGateway, ops: Operations) -> None:
        self._gw = gateway
        self._ops = ops

    async def delete(self, caller: Caller, entry: Entry, *, force: bool, stop: bool) -> None:
        action: Action
        if stop:
            action = "delete_after_stop"
        elif force:  # policy container:delete_force is the handler's check
            action = "delete_force"
        else:
            action = "delete"

        def check(current: Entry) -> None:
            if force:  # a forced delete goes ahead while a task runs
                check_state(action, uuid=current.uuid, status=current.status.status)
            else:
                self._ops.check_not_busy(current, action)

        # Logged as Zun logs it (a delete whose record goes takes its log with it; one that
        # fails is left on the log, failed).
        claimed = await self._ops.claim(
            entry,
            check,
            logged=begun(caller, action),
            status="Deleting",
            task_state="container_deleting",
            task_request_id=caller.request_id,
        )
        grace = 0 if force else None

        async def work(e: Entry) -> Changes | None:
            # A forced delete may have waited for another task (perhaps on another replica) that
            # made a new Pod meanwhile: the record as the API server has it names that Pod.
            e = await self._ops.fresh(e)
            if e.status.pod is not None and await self._gw.live_pod(e.namespace, e.status.pod) is not None:
                await self._gw.delete_pod(e.namespace, e.status.pod, grace_seconds=grace)
            await self._gw.delete_record(e.namespace, e.uuid)
            return None

        self._ops.run(claimed, "delete", work, sync=False)

    async def auto_remove(self, entry: Entry) -> None:
        """auto_remove: a container whose process exited is deleted (the reconciler's call)."""
        await self._ops.write(entry, status="Deleted")
        await self._gw.delete_record(entry.namespace, entry.uuid)
