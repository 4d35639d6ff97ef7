"""Commands run in a container: Zun's command string to an argv, ps output to Docker's top
shape, and stdin cut into the pieces the exec stream sends.

Pure: no I/O. The argv always travels as a list (one exec query parameter per word), never
through a shell of ours.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from zunk8s.errors import InvalidValue

# The argv travels in the exec request's URL (one query parameter per word), which the API
# server refuses past its header limit (431).
MAX_COMMAND_CHARS = 64 * 1024
# How much stdin goes in one exec frame.
STDIN_CHUNK = 1024 * 1024

TopResult = dict[str, list[str] | list[list[str]]]


def split_command(command: str) -> list[str]:
    """Zun hands Docker one string; python-zunclient sends quoted argv ("sh" "-c" "...").

    Raises InvalidValue for a command too long, unparseable (an open quote) or empty."""
    if len(command) > MAX_COMMAND_CHARS:
        raise InvalidValue(f"The command is {len(command)} characters long; at most {MAX_COMMAND_CHARS} are allowed.")
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise InvalidValue(f"Cannot parse command {command[:64]!r}: {e}") from None
    if not argv:
        raise InvalidValue("The command is empty.")
    return argv


def parse_ps(text: str) -> TopResult:
    """Docker's top parsing: titles from the header; each row split into as many fields, the
    last one (the command) keeping its spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {"Titles": [], "Processes": []}
    titles = lines[0].split()
    rows = [line.split(None, len(titles) - 1) for line in lines[1:]]
    return {"Titles": titles, "Processes": rows}


def chunks_of(data: bytes, size: int = STDIN_CHUNK) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes (the last one shorter)."""
    view = memoryview(data)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])
