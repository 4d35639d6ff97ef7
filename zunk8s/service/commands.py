"""Commands run inside a running container: execute (run=true), top, and signals.

Everything goes through the exec stream (kube/streams.py); the command is an argv list, never
a string handed to a shell of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from zunk8s.errors import Conflict, InvalidValue, NotImplementedOnKubernetes, ZunError
from zunk8s.kube.streams import STDERR, STDOUT, ExitStatus, open_stream
from zunk8s.service.lifecycle import ContainerService
from zunk8s.service.registry import Entry
from zunk8s.service.states import check_state
from zunk8s.translate.names import CONTAINER_NAME

STDIN_CHUNK = 1024 * 1024


def chunks_of(data: bytes, size: int = STDIN_CHUNK) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


class OutputTooLarge(Conflict):
    pass


@dataclass(frozen=True)
class CommandResult:
    output: bytes  # stdout and stderr interleaved in arrival order, as Docker's exec returns them
    stdout: bytes
    stderr: bytes
    status: ExitStatus


def split_command(command: str) -> list[str]:
    """Zun hands Docker one string; python-zunclient sends quoted argv ("sh" "-c" "...")."""
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise InvalidValue(f"Cannot parse command {command!r}: {e}") from None
    if not argv:
        raise InvalidValue("The command is empty.")
    return argv


def _pod_of(entry: Entry) -> str:
    if entry.status.pod is None:
        raise Conflict(f"Container {entry.uuid} has no running Pod.")
    return entry.status.pod


async def run_command(
    service: ContainerService,
    entry: Entry,
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: Iterable[bytes] | None = None,
    stdout_sink: Callable[[bytes], None] | None = None,
    max_output: int = 64 * 1024 * 1024,
) -> CommandResult:
    """Run ``argv`` in the container. ``stdin`` chunks are sent (then stdin is half-closed)
    while output is read; stdout goes to ``stdout_sink`` when given, else into the result."""
    stream = await open_stream(
        service.gw.http,
        kind="exec",
        namespace=entry.namespace,
        pod=_pod_of(entry),
        container=CONTAINER_NAME,
        command=argv,
        stdin=stdin is not None,
    )
    out: list[bytes] = []
    stdout: list[bytes] = []
    stderr: list[bytes] = []
    size = 0

    async def feed() -> None:
        assert stdin is not None
        for chunk in stdin:
            await stream.send_stdin(chunk)
        await stream.close_stdin()

    async def pump() -> None:
        # stdin is fed while output is read, so a command that writes as it reads cannot block.
        feeder = asyncio.create_task(feed()) if stdin is not None else None
        try:
            await read()
        finally:
            if feeder is not None:
                if not feeder.done():
                    feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feeder

    async def read() -> None:
        nonlocal size
        async for channel, payload in stream.frames():
            size += len(payload)
            if size > max_output:
                raise OutputTooLarge(f"The command's output exceeded {max_output} bytes.")
            if channel == STDOUT and stdout_sink is not None:
                stdout_sink(payload)
            elif channel in (STDOUT, STDERR):
                out.append(payload)
                (stdout if channel == STDOUT else stderr).append(payload)

    try:
        await asyncio.wait_for(pump(), timeout=timeout)
    except TimeoutError:
        # Closing the stream does not kill the process in the container (Kubernetes has no way
        # to); it is left to finish on its own.
        raise Conflict(f"Timeout on executing command: {shlex.join(argv)}") from None
    finally:
        await stream.close()
    status = stream.status or ExitStatus(126, "the exec stream ended without a status")
    return CommandResult(b"".join(out), b"".join(stdout), b"".join(stderr), status)


async def execute(service: ContainerService, entry: Entry, command: str) -> CommandResult:
    check_state("execute", uuid=entry.uuid, status=entry.status.status)
    result = await run_command(service, entry, split_command(command), timeout=service.settings.exec_timeout)
    if result.status.failure is not None and not result.output:
        # Docker prints why it could not run the command; do the same.
        return CommandResult(
            (result.status.failure + "\n").encode(), result.stdout, result.stderr, result.status
        )
    return result


def parse_ps(text: str) -> dict[str, list[str] | list[list[str]]]:
    """Docker's top parsing: titles from the header; each row split into as many fields, the
    last one (the command) keeping its spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {"Titles": [], "Processes": []}
    titles = lines[0].split()
    rows = [line.split(None, len(titles) - 1) for line in lines[1:]]
    return {"Titles": titles, "Processes": rows}


async def _run_tool(
    service: ContainerService, entry: Entry, argv: list[str], *, cannot_run: Callable[[str], ZunError], failed: str
) -> CommandResult:
    """Run a program of the image's (ps, kill) and turn its failures into clear errors."""
    result = await run_command(service, entry, argv, timeout=service.settings.exec_timeout)
    if result.status.failure is not None:
        raise cannot_run(result.status.failure.strip())
    if result.status.exit_code != 0:
        raise Conflict(
            f"{failed} (exit code {result.status.exit_code}): {result.output.decode('utf-8', errors='replace').strip()}"
        )
    return result


async def top(service: ContainerService, entry: Entry, ps_args: str | None) -> dict[str, list[str] | list[list[str]]]:
    check_state("top", uuid=entry.uuid, status=entry.status.status)
    args = split_command(ps_args) if ps_args else ["-ef"]
    result = await _run_tool(
        service,
        entry,
        ["ps", *args],
        cannot_run=lambda why: Conflict(
            f"Cannot list the processes of container {entry.uuid}: running `ps` in it failed ({why}). "
            "The image needs a `ps` program for top."
        ),
        failed=f"ps {shlex.join(args)} failed",
    )
    return parse_ps(result.stdout.decode("utf-8", errors="replace"))


async def send_signal(service: ContainerService, entry: Entry, signal_name: str) -> None:
    """Deliver a signal other than KILL/TERM to the container's main process (PID 1), as
    `docker kill -s` does, by running the image's own `kill` in the container."""
    check_state("kill", uuid=entry.uuid, status=entry.status.status)
    await _run_tool(
        service,
        entry,
        ["kill", f"-{signal_name}", "1"],
        cannot_run=lambda why: NotImplementedOnKubernetes(
            f"Cannot deliver SIG{signal_name}: Kubernetes can only end a Pod, and the image has no `kill` "
            f"program to signal its main process ({why})."
        ),
        failed=f"kill -{signal_name} 1 failed in container {entry.uuid}",
    )
