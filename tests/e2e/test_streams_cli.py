"""Streams through the unmodified clients: logs flags, exec exit codes, interactive exec,
attach and `run --interactive` under a real pseudo-terminal (with a terminal resize), `cp` of a
50 MB file both ways, and top through the Python API."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cluster
from tests.e2e.test_openstack_cli import OPENSTACK, osc, show, wait_status
from tests.serverproc import Endpoint

pytestmark = pytest.mark.e2e


def _env(server: Endpoint) -> dict[str, str]:
    return {**server.client_env(), "TERM": "xterm"}


class Terminal:
    """A client process on a real pseudo-terminal: type into it, read its screen, resize it."""

    def __init__(self, argv: list[str], env: dict[str, str], *, rows: int = 24, cols: int = 80) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.seen = b""

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if hasattr(self, "proc"):
            os.killpg(self.proc.pid, signal.SIGWINCH)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while needle.encode() not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not seen; screen so far: {self.seen[-2000:]!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                # Answer cursor-position queries (busybox ash's line editor sends ESC[6n) as a
                # real terminal would, or the shell waits for the answer.
                for _ in range(chunk.count(b"\x1b[6n")):
                    os.write(self.master, b"\x1b[1;1R")
                self.seen += chunk
        if needle.encode() not in self.seen:
            raise AssertionError(f"{needle!r} not seen before the terminal closed: {self.seen[-2000:]!r}")
        return self.seen.decode(errors="replace")

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            os.close(self.master)


@pytest.fixture(scope="module")
def box(server: Endpoint, cluster: Cluster) -> Iterator[str]:
    osc(server, "appcontainer", "run", "--name", "sbox", "--wait", cluster.image, "sh", "-c",
        "echo one; echo two >&2; echo three; sleep 3600")
    yield "sbox"
    osc(server, "appcontainer", "delete", "--stop", "sbox", "--wait", check=False)


def test_logs_flags(server: Endpoint, box: str) -> None:
    deadline = time.monotonic() + 20
    out = ""
    while "three" not in out and time.monotonic() < deadline:
        out = osc(server, "appcontainer", "logs", box).stdout
        time.sleep(0.3)
    assert {"one", "two", "three"} <= set(out.split())
    tail = osc(server, "appcontainer", "logs", "--tail", "1", box).stdout
    assert tail.strip() in ("one", "two", "three") and len(tail.split()) == 1
    stamped = osc(server, "appcontainer", "logs", "--timestamps", box).stdout
    assert stamped.splitlines()[0][:4].isdigit() and "T" in stamped.splitlines()[0].split()[0]
    since = osc(server, "appcontainer", "logs", "--since", str(int(time.time()) + 5), box).stdout
    assert since.strip() == ""
    both = osc(server, "appcontainer", "logs", "--stdout", "--stderr", box).stdout
    assert "two" in both and "one" in both
    # The local cluster can split the streams (PodLogsQuerySplitStreams).
    assert osc(server, "appcontainer", "logs", "--stderr", box).stdout.split() == ["two"]
    assert osc(server, "appcontainer", "logs", "--stdout", box).stdout.split() == ["one", "three"]


@pytest.mark.parametrize("code", [0, 1, 42])
def test_exec_exit_codes(server: Endpoint, box: str, code: int) -> None:
    proc = osc(server, "appcontainer", "exec", box, "sh", "-c", f"echo exit-{code}; exit {code}", check=False)
    assert proc.returncode == code, proc.stderr
    assert f"exit-{code}" in proc.stdout


def _check_shell(term: Terminal, *, size: tuple[int, int], resize_to: tuple[int, int] | None) -> None:
    """At a shell prompt: the terminal size is the client's, typed commands run, a resize of
    the client's terminal reaches the shell, and `exit` ends the session."""
    term.expect("/ # ")
    term.type("stty size; echo v=$((20+22))\r")
    screen = term.expect("v=42")
    assert f"{size[0]} {size[1]}" in screen
    if resize_to is not None:
        term.resize(*resize_to)
        time.sleep(1)
        term.type("stty size\r")
        term.expect(f"{resize_to[0]} {resize_to[1]}")
    term.type("exit\r")
    assert term.wait() == 0


def test_exec_interactive_on_a_pty_with_resize(server: Endpoint, box: str) -> None:
    term = Terminal([str(OPENSTACK), "appcontainer", "exec", "--interactive", box, "sh"], _env(server), rows=24, cols=80)
    term.expect("press Enter")
    _check_shell(term, size=(24, 80), resize_to=(40, 100))


def test_run_interactive_and_attach(server: Endpoint, cluster: Cluster) -> None:
    term = Terminal(
        [str(OPENSTACK), "appcontainer", "run", "--interactive", "--name", "tty-1", cluster.image, "sh"],
        _env(server), rows=30, cols=90,
    )
    term.expect("press Enter")
    _check_shell(term, size=(30, 90), resize_to=None)
    # After that shell exits the container stops; start it again and attach.
    wait_status(server, "tty-1", "Stopped")
    osc(server, "appcontainer", "start", "tty-1")
    wait_status(server, "tty-1", "Running")
    term = Terminal([str(OPENSTACK), "appcontainer", "attach", "tty-1"], _env(server), rows=20, cols=70)
    term.expect("press Enter")
    time.sleep(0.5)
    term.type("\r")  # attach shows nothing until the shell prints a new prompt
    _check_shell(term, size=(20, 70), resize_to=(33, 111))
    osc(server, "appcontainer", "delete", "--stop", "tty-1", "--wait")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cp_50mb_both_ways(server: Endpoint, box: str, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(50 * 1024 * 1024))
    osc(server, "appcontainer", "cp", str(src), f"{box}:/tmp/")
    inside = osc(server, "appcontainer", "exec", box, "sha256sum", "/tmp/big.bin").stdout.split()[0]
    assert inside == _sha(src)
    dest = tmp_path / "back"
    dest.mkdir()
    osc(server, "appcontainer", "cp", f"{box}:/tmp/big.bin", str(dest))
    assert _sha(dest / "big.bin") == _sha(src)


def test_top_through_the_python_api(server: Endpoint, box: str) -> None:
    from zunclient import client

    zun = client.Client("1", endpoint_override=f"{server.url}/v1", auth_token=server.auth_token)
    top = zun.containers.top(show(server, box)["uuid"])
    assert "PID" in top["Titles"]
    assert any("sleep 3600" in row[-1] for row in top["Processes"])
    narrow = zun.containers.top(show(server, box)["uuid"], ps_args="-o pid,comm")
    assert narrow["Titles"] == ["PID", "COMMAND"]


def test_cp_into_a_missing_directory_fails_at_once(server: Endpoint, box: str, tmp_path: Path) -> None:
    # Issue #13: this hung for the whole archive timeout about 1 time in 4.
    src = tmp_path / "five.bin"
    src.write_bytes(os.urandom(5 * 1024 * 1024))
    for _ in range(4):
        started = time.monotonic()
        proc = osc(server, "appcontainer", "cp", str(src), f"{box}:/missing-dir", check=False)
        assert proc.returncode != 0 and "HTTP 400" in proc.stderr and "/missing-dir" in proc.stderr, proc.stderr
        assert time.monotonic() - started < 20
