"""Commands run inside a running container: execute (run=true), top, and signals.

Everything goes through the gateway's exec stream (kube/streams.py); the command is an argv
list, never a string handed to a shell of ours. ``Commands`` needs only the gateway, the
exec timeout and the action log (execute and signals are logged: service/actionlog.py).
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog

from zunk8s.cancellation import cancel_and_wait
from zunk8s.errors import Conflict, NotImplementedOnKubernetes, ZunError
from zunk8s.kube.errors import KubeStreamBroken
from zunk8s.kube.gateway import KubeGateway
from zunk8s.kube.streams import STDERR, STDOUT, ExitStatus, unknown_status
from zunk8s.service.actionlog import ActionLog
from zunk8s.service.context import Caller
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate.commandline import TopResult, parse_ps, split_command
from zunk8s.translate.names import CONTAINER_NAME

log = structlog.get_logger(__name__)


class OutputTooLarge(Conflict):
    pass


@dataclass(frozen=True)
class CommandResult:
    output: bytes  # stdout and stderr interleaved in arrival order, as Docker's exec returns them
    stdout: bytes
    stderr: bytes
    status: ExitStatus


def _pod_of(entry: Entry) -> str:
    if entry.status.pod is None:
        raise Conflict(f"Container {entry.uuid} has no running Pod.")
    return entry.status.pod


@dataclass
class _Progress:
    """What a running command has shown so far, for the stall watchdog and the logs."""

    last_activity: float
    sent: int = 0
    stdin_done: bool = False
    stderr_seen: bool = False


class Commands:
    """Run programs in a container's running Pod through exec streams."""

    def __init__(self, gw: KubeGateway, *, exec_timeout: float, actions: ActionLog) -> None:
        self._gw = gw
        self.exec_timeout = exec_timeout
        self._actions = actions

    async def run(
        self,
        entry: Entry,
        argv: Sequence[str],
        *,
        timeout: float,
        stdin: Iterable[bytes] | None = None,
        stdout_sink: Callable[[bytes], None] | None = None,
        max_output: int = 64 * 1024 * 1024,
        stall_after_stderr: float | None = None,
    ) -> CommandResult:
        """Run ``argv`` in the container. ``stdin`` chunks are sent (then stdin is half-closed)
        while output is read; stdout goes to ``stdout_sink`` when given, else into the result.

        The command is over when its channel-3 status arrives: feeding stops there, whatever is
        left of stdin. When the stream ends without a status, the result's status is unknown
        (``status.known`` False) and the reason is logged.

        ``stall_after_stderr``: for commands that write to stderr only when they fail (``tar -x``).
        A process that exits while its stdin is still being delivered may never get an exit
        status: containerd 1.6 waits, without end, for its copy of the unread input into the
        process's stdin pipe (which the shim keeps open) before reporting the exit. So once the
        command has written to stderr and then nothing moves (no output, no stdin accepted) for
        this many seconds, it is taken as exited, its status unknown.

        Raises OutputTooLarge past ``max_output``, Conflict on ``timeout`` (the gateway's
        unavailable error when the API server went away meanwhile), StdinCloseUnsupported when
        ``stdin`` is given and the cluster has no v5 streams.
        """
        stream = await self._gw.open_stream(
            "exec",
            namespace=entry.namespace,
            pod=_pod_of(entry),
            container=CONTAINER_NAME,
            command=list(argv),
            stdin=stdin is not None,
        )
        if stdin is not None and not stream.can_close_stdin:
            # Without a half-close the command would wait for the end of its input forever.
            try:
                await stream.close_stdin()  # raises StdinCloseUnsupported
            finally:
                await stream.close()
        loop = asyncio.get_running_loop()
        progress = _Progress(last_activity=loop.time())
        out: list[bytes] = []
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        size = 0

        async def feed(source: Iterable[bytes]) -> None:
            try:
                for chunk in source:
                    await stream.send_stdin(chunk)
                    progress.sent += len(chunk)
                    progress.last_activity = loop.time()
                await stream.close_stdin()
                progress.stdin_done = True
            except KubeStreamBroken as e:
                # The stream broke under the sender (the remote end closed or reset it): the
                # reader learns how the command ended, if it can be known.
                log.info("exec_stdin_interrupted", uuid=entry.uuid, command=argv[0], sent=progress.sent, error=repr(e))

        async def read() -> None:
            nonlocal size
            async for channel, payload in stream.frames():
                progress.last_activity = loop.time()
                size += len(payload)
                if size > max_output:
                    raise OutputTooLarge(f"The command's output exceeded {max_output} bytes.")
                if channel == STDERR:
                    progress.stderr_seen = True
                if channel == STDOUT and stdout_sink is not None:
                    stdout_sink(payload)
                elif channel in (STDOUT, STDERR):
                    out.append(payload)
                    (stdout if channel == STDOUT else stderr).append(payload)

        async def watch(grace: float) -> None:
            while True:
                await asyncio.sleep(min(grace / 4, 1.0))
                if progress.stderr_seen and loop.time() - progress.last_activity > grace:
                    return

        reader = asyncio.create_task(read())
        feeder = asyncio.create_task(feed(stdin)) if stdin is not None else None
        watchdog = (
            asyncio.create_task(watch(stall_after_stderr)) if stdin is not None and stall_after_stderr else None
        )
        helpers = [t for t in (feeder, watchdog) if t is not None]
        stalled = False
        try:
            async with asyncio.timeout(timeout):
                waiting: set[asyncio.Task[None]] = {reader, *helpers}
                while not reader.done():
                    done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    if feeder in done:
                        feeder.result()  # a fault of the input itself (not of the stream) is raised
                    if watchdog in done:
                        stalled = True
                        break
                if reader.done():
                    reader.result()  # OutputTooLarge, a failing sink
        except TimeoutError:
            # Closing the stream does not kill the process in the container (Kubernetes has no
            # way to); it is left to finish on its own.
            log.warning("exec_timeout", uuid=entry.uuid, command=argv[0], timeout=timeout, sent=progress.sent)
            if not self._gw.reachable:
                # The stream went quiet because the API server did: say so (503), not Zun's 409.
                raise self._gw.unavailable_error() from None
            raise Conflict(f"Timeout on executing command: {shlex.join(argv)}") from None
        finally:
            await cancel_and_wait(reader, *helpers)
            await stream.close()
        status = stream.status
        if status is None:
            why = (
                f"the exec stream went silent for {stall_after_stderr:g} s after the command wrote to stderr"
                if stalled
                else stream.ended or "the exec stream ended"
            )
            log.warning(
                "exec_status_missing",
                uuid=entry.uuid,
                command=argv[0],
                why=why,
                stdin_sent=progress.sent,
                stdin_closed=progress.stdin_done,
                stderr=b"".join(stderr)[:200].decode("utf-8", errors="replace"),
            )
            status = unknown_status(why)
        elif feeder is not None and not progress.stdin_done:
            log.info(
                "exec_exited_before_input_sent",
                uuid=entry.uuid,
                command=argv[0],
                exit_code=status.exit_code,
                sent=progress.sent,
            )
        return CommandResult(b"".join(out), b"".join(stdout), b"".join(stderr), status)

    async def execute(self, caller: Caller, entry: Entry, command: str) -> CommandResult:
        """Zun's execute with run=true: the command's output and exit code (logged as exec_cmd:
        Success whatever the exit code, Error when it could not be run to its end)."""
        check_state("execute", uuid=entry.uuid, status=entry.status.status)
        argv = split_command(command)
        async with self._actions.recorded(caller, entry, "execute"):
            result = await self.run(entry, argv, timeout=self.exec_timeout)
        if result.status.failure is not None and not result.output:
            # Docker prints why it could not run the command; do the same.
            return CommandResult(
                (result.status.failure + "\n").encode(), result.stdout, result.stderr, result.status
            )
        return result

    async def _run_tool(
        self, entry: Entry, argv: list[str], *, cannot_run: Callable[[str], ZunError], failed: str
    ) -> CommandResult:
        """Run a program of the image's (ps, kill) and turn its failures into clear errors."""
        result = await self.run(entry, argv, timeout=self.exec_timeout)
        if result.status.failure is not None:
            raise cannot_run(result.status.failure.strip())
        if result.status.exit_code != 0:
            raise Conflict(
                f"{failed} (exit code {result.status.exit_code}): "
                f"{result.output.decode('utf-8', errors='replace').strip()}"
            )
        return result

    async def top(self, entry: Entry, ps_args: str | None) -> TopResult:
        """Docker's top: the image's ``ps`` (``-ef`` unless ``ps_args``), parsed."""
        check_state("top", uuid=entry.uuid, status=entry.status.status)
        args = split_command(ps_args) if ps_args else ["-ef"]
        result = await self._run_tool(
            entry,
            ["ps", *args],
            cannot_run=lambda why: Conflict(
                f"Cannot list the processes of container {entry.uuid}: running `ps` in it failed ({why}). "
                "The image needs a `ps` program for top."
            ),
            failed=f"ps {shlex.join(args)} failed",
        )
        return parse_ps(result.stdout.decode("utf-8", errors="replace"))

    async def send_signal(self, caller: Caller, entry: Entry, name: str) -> None:
        """Deliver a signal other than KILL/TERM to the container's main process (PID 1), as
        `docker kill -s` does, by running the image's own `kill` in the container (logged as
        Zun logs every kill)."""
        check_state("kill", uuid=entry.uuid, status=entry.status.status)
        async with self._actions.recorded(caller, entry, "kill"):
            await self._run_tool(
                entry,
                ["kill", f"-{name}", "1"],
                cannot_run=lambda why: NotImplementedOnKubernetes(
                    f"Cannot deliver SIG{name}: Kubernetes can only end a Pod, and the image has no `kill` "
                    f"program to signal its main process ({why})."
                ),
                failed=f"kill -{name} 1 failed in container {entry.uuid}",
            )
