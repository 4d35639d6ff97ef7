"""A container's numbers, read from the node's kernel: the only code that reads /proc and the
cgroup filesystem.

Given the container's main process (its pid, from containerd):

- its cgroup: the path in ``/proc/<pid>/cgroup``, under the cgroup filesystem's root (v1: one
  hierarchy per controller, ``<root>/<controller>/<path>``; v2: one, ``<root>/<path>``);
- CPU time: v1 ``cpuacct.usage`` (ns), v2 ``cpu.stat`` ``usage_usec``; the host's from the
  ``cpu`` line of ``/proc/stat`` (user … softirq, as Docker sums it for ``system_cpu_usage``);
- memory: v1 ``memory.usage_in_bytes`` and ``memory.stat`` ``total_inactive_file``, v2
  ``memory.current`` and ``inactive_file`` (Docker's ``usage`` and the cache Zun subtracts);
  the limit is the lowest of the container's, its ancestors' (the Pod's) and the node's RAM
  (``MemTotal``), as Docker caps an unlimited container at the machine's memory;
- block I/O: v1 ``blkio.*io_service_bytes_recursive`` (the first of CFQ, BFQ, throttle that
  accounts any device, runc's order), v2 ``io.stat`` ``rbytes``/``wbytes``;
- network: ``/proc/<pid>/net/dev`` (the Pod's network namespace), every interface but ``lo``.

The parsers are pure (text in, numbers out); ``NodeMetrics`` reads the files.
"""

from __future__ import annotations

import asyncio
import glob
import os
from pathlib import Path

from zunk8s.translate.stats import WINDOW, Measured

# v1 files of block I/O bytes, in runc's order of preference.
BLKIO_FILES = (
    "blkio.io_service_bytes_recursive",
    "blkio.bfq.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes_recursive",
)
# How many directories above the cgroup root a cgroup-namespace-relative path is looked for.
_SEARCH_DEPTH = 4


class MetricsError(Exception):
    """The container could not be measured; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# --- parsers (pure) -------------------------------------------------------------------------


def cgroup_paths(text: str) -> dict[str, str]:
    """``/proc/<pid>/cgroup``: controller -> path (v1: one entry per controller of a line;
    v2's single hierarchy, ``0::<path>``, under ``""``)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            out[""] = path
        for name in controllers.split(","):
            if name and not name.startswith("name="):
                out[name] = path
    return out


def host_cpu_ns(proc_stat: str, clock_ticks: int) -> int:
    """All CPUs' time since boot (``/proc/stat``'s ``cpu`` line: user, nice, system, idle,
    iowait, irq, softirq, as Docker's ``system_cpu_usage``), in ns."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            if len(fields) < 8:
                raise MetricsError("unreadable /proc/stat: the cpu line has fewer than 7 numbers")
            return sum(int(v) for v in fields[1:8]) * 1_000_000_000 // clock_ticks
    raise MetricsError("unreadable /proc/stat: no cpu line")


def net_bytes(net_dev: str) -> tuple[int, int]:
    """``/proc/<pid>/net/dev``: bytes received and sent, summed over every interface but lo."""
    rx = tx = 0
    for line in net_dev.splitlines()[2:]:
        name, sep, counters = line.partition(":")
        fields = counters.split()
        if not sep or len(fields) < 9 or name.strip() == "lo":
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def keyed(text: str) -> dict[str, int]:
    """A flat-keyed cgroup file (``memory.stat``, ``cpu.stat``): ``<key> <integer>`` lines."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit():
            out[fields[0]] = int(fields[1])
    return out


def blkio_bytes(text: str) -> tuple[int, int] | None:
    """A v1 ``blkio.*io_service_bytes_recursive``: bytes read and written over every device;
    None when it accounts no device (only ``Total 0``: the kernel's answer for no accounting)."""
    read = write = 0
    devices = False
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        devices = True
        op, value = fields[1].lower(), int(fields[2])
        if op == "read":
            read += value
        elif op == "write":
            write += value
    return (read, write) if devices else None


def io_stat_bytes(text: str) -> tuple[int, int]:
    """v2 ``io.stat``: ``<major:minor> rbytes=… wbytes=… …`` lines, summed over devices."""
    read = write = 0
    for line in text.splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write


def mem_total(meminfo: str) -> int:
    """``/proc/meminfo``'s MemTotal, in bytes."""
    for line in meminfo.splitlines():
        fields = line.split()
        if fields[:1] == ["MemTotal:"] and len(fields) >= 2:
            return int(fields[1]) * (1024 if fields[2:3] == ["kB"] else 1)
    raise MetricsError("unreadable /proc/meminfo: no MemTotal")


def limit_value(text: str) -> int | None:
    """A memory limit file (v1 ``memory.limit_in_bytes``, v2 ``memory.max``); None: no limit."""
    value = text.strip()
    return None if value in ("", "max") else int(value)


# --- reading the node -----------------------------------------------------------------------


class Cgroup:
    """Where one container's cgroup files are: per controller on v1, one directory on v2."""

    def __init__(self, *, version: int, root: Path, memory: Path, cpu: Path, io: Path) -> None:
        self.version = version
        self.root = root
        self.memory = memory
        self.cpu = cpu
        self.io = io


def locate(root: Path, path: str) -> Path:
    """The directory of cgroup ``path`` (as ``/proc/<pid>/cgroup`` shows it) under ``root``.

    A reader in its own cgroup namespace (an agent in a Pod on cgroup v2) sees other processes'
    paths relative to its namespace's root (``/../../kubepods/…/<container>``): the part after the
    last ``..`` is then looked for a few levels below ``root``; it ends with the container's own
    cgroup (named after its id), so at most one directory matches."""
    parts = [p for p in path.split("/") if p and p != "."]
    if ".." not in parts:
        return root.joinpath(*parts)
    tail = parts[len(parts) - parts[::-1].index(".."):]
    if not tail:
        raise MetricsError(f"the cgroup {path} is outside the agent's view of the cgroup filesystem")
    for depth in range(_SEARCH_DEPTH + 1):
        found = sorted(root.glob("/".join(["*"] * depth + [glob.escape(p) for p in tail])))
        if found:
            return found[0]
    raise MetricsError(f"no cgroup {'/'.join(tail)} under {root}")


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


class NodeMetrics:
    def __init__(self, *, proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup", clock_ticks: int | None = None) -> None:
        self._proc = Path(proc)
        self._root = Path(cgroup_root)
        self._ticks = clock_ticks or os.sysconf("SC_CLK_TCK")

    def _read(self, path: Path) -> str:
        try:
            return path.read_text()
        except OSError as e:
            raise MetricsError(f"cannot read {path}: {e.strerror or e}") from None

    def cgroup(self, pid: int) -> Cgroup:
        paths = cgroup_paths(self._read(self._proc / str(pid) / "cgroup"))
        if (self._root / "cgroup.controllers").exists():
            if "" not in paths:
                raise MetricsError(f"process {pid} is in no cgroup v2 hierarchy")
            where = locate(self._root, paths[""])
            return Cgroup(version=2, root=self._root, memory=where, cpu=where, io=where)

        def v1(controller: str) -> Path:
            if controller not in paths:
                raise MetricsError(f"process {pid} is in no {controller} cgroup")
            # Mounted at <root>/<controller>, or with others (<root>/cpu,cpuacct) and linked.
            mounts = [controller, *sorted(n for n in _listdir(self._root) if controller in n.split(","))]
            for mount in mounts:
                if (self._root / mount).is_dir():
                    return locate(self._root / mount, paths[controller])
            raise MetricsError(f"no {controller} hierarchy under {self._root}")

        return Cgroup(version=1, root=self._root, memory=v1("memory"), cpu=v1("cpuacct"), io=v1("blkio"))

    def cpu_ns(self, cg: Cgroup) -> int:
        if cg.version == 1:
            return int(self._read(cg.cpu / "cpuacct.usage").strip())
        return keyed(self._read(cg.cpu / "cpu.stat")).get("usage_usec", 0) * 1000

    def host_cpu_ns(self) -> int:
        return host_cpu_ns(self._read(self._proc / "stat"), self._ticks)

    def memory(self, cg: Cgroup) -> tuple[int, int, int]:
        """(usage, inactive file cache, limit) in bytes."""
        stat = keyed(self._read(cg.memory / "memory.stat"))
        limits = [mem_total(self._read(self._proc / "meminfo"))]
        if cg.version == 1:
            usage = int(self._read(cg.memory / "memory.usage_in_bytes").strip())
            cache = stat.get("total_inactive_file", stat.get("inactive_file", 0))
            own = limit_value(self._read(cg.memory / "memory.limit_in_bytes"))
            # hierarchical_memory_limit: the lowest limit of the cgroup and its ancestors (the Pod's).
            limits += [v for v in (own, stat.get("hierarchical_memory_limit")) if v is not None]
        else:
            usage = int(self._read(cg.memory / "memory.current").strip())
            cache = stat.get("inactive_file", 0)
            where = cg.memory
            while where != cg.root and cg.root in where.parents:
                if (where / "memory.max").exists():
                    own = limit_value(self._read(where / "memory.max"))
                    if own is not None:
                        limits.append(own)
                where = where.parent
        return usage, cache, min(limits)

    def block_io(self, cg: Cgroup) -> tuple[int, int]:
        if cg.version == 2:
            path = cg.io / "io.stat"
            return io_stat_bytes(self._read(path)) if path.exists() else (0, 0)
        for name in BLKIO_FILES:
            path = cg.io / name
            if path.exists() and (counted := blkio_bytes(self._read(path))) is not None:
                return counted
        return 0, 0  # the kernel accounts no block I/O for this cgroup

    def network(self, pid: int) -> tuple[int, int]:
        return net_bytes(self._read(self._proc / str(pid) / "net" / "dev"))

    async def measure(self, pid: int, window: float = WINDOW) -> Measured:
        """Two CPU readings ``window`` seconds apart, then the rest once."""
        cg = self.cgroup(pid)
        cpu0, system0 = self.cpu_ns(cg), self.host_cpu_ns()
        await asyncio.sleep(window)
        cpu1, system1 = self.cpu_ns(cg), self.host_cpu_ns()
        usage, cache, limit = self.memory(cg)
        read, write = self.block_io(cg)
        rx, tx = self.network(pid)
        return Measured(cpu=max(cpu1 - cpu0, 0), system=max(system1 - system0, 0), memory=usage,
                        inactive_file=cache, limit=limit, read=read, write=write, rx=rx, tx=tx)
