"""node/metrics.py against the kernel's files: cgroup v1 captured on the local cluster's node
(Debian 12 VM, kernel 6.18, a container holding a 30 MB string and calling another one), cgroup
v2 written in the kernel's formats (Documentation/admin-guide/cgroup-v2.rst) but for cpu.stat,
captured from the same node's unified hierarchy."""

from __future__ import annotations

from pathlib import Path

import pytest

from zunk8s.node.metrics import (
    MetricsError,
    NodeMetrics,
    blkio_bytes,
    cgroup_paths,
    host_cpu_ns,
    io_stat_bytes,
    keyed,
    limit_value,
    locate,
    mem_total,
    net_bytes,
)
from zunk8s.translate.stats import Measured

PID = 6970
CG = "/kubepods/burstable/pod71275b66-b248-4f02-870d-53ec48987e1c/55a313556f10283a3cbd64622ceaca95f82b81dfd1d4ea42c5ea63d23d46da04"
PROC_CGROUP_V1 = "".join(
    f"{n}:{c}:{CG}\n"
    for n, c in [(9, "name=systemd"), (8, "pids"), (7, "blkio"), (6, "freezer"), (5, "devices"), (4, "memory"),
                 (3, "cpuset"), (2, "cpuacct"), (1, "cpu"), (0, "")]
)
NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0:   22531     190    0    0    0     0          0         0    17408     247    0    0    0     0       0          0
"""
PROC_STAT = """\
cpu  244411 0 67306 506801 2753 0 2722 237 0 0
cpu0 111756 0 32206 266090 566 0 1154 122 0 0
cpu1 132655 0 35100 240711 2186 0 1568 114 0 0
intr 123456 0 0
"""
MEMINFO = "MemTotal:       24683584 kB\nMemFree:        19078480 kB\nMemAvailable:   22665720 kB\n"
MEMORY_STAT_V1 = """\
cache 0
rss 30187520
rss_huge 0
shmem 0
mapped_file 0
inactive_anon 30179328
active_anon 8192
inactive_file 0
active_file 0
unevictable 0
hierarchical_memory_limit 268435456
hierarchical_memsw_limit 268435456
total_cache 0
total_rss 30187520
total_inactive_anon 30179328
total_active_anon 8192
total_inactive_file 0
total_active_file 0
total_unevictable 0
"""
# Another container of the same node: no limit of its own, its Pod's (512 MiB) above it.
MEMORY_STAT_V1_POD_LIMIT = """\
cache 0
rss 40960
inactive_file 0
hierarchical_memory_limit 536870912
hierarchical_memsw_limit 9223372036854771712
total_cache 0
total_rss 40960
total_inactive_file 0
"""
UNLIMITED_V1 = "9223372036854771712\n"
CPU_STAT_V2 = "usage_usec 693471\nuser_usec 546851\nsystem_usec 146620\nnice_usec 0\n"
MEMORY_STAT_V2 = "anon 30187520\nfile 1048576\nkernel 245760\nactive_anon 8192\ninactive_anon 30179328\nactive_file 524288\ninactive_file 524288\n"
IO_STAT_V2 = "259:0 rbytes=4096000 wbytes=12288 rios=100 wios=3 dbytes=0 dios=0\n8:0 rbytes=1000 wbytes=24 rios=1 wios=1 dbytes=0 dios=0\n"


def test_proc_cgroup() -> None:
    paths = cgroup_paths(PROC_CGROUP_V1)
    assert paths["memory"] == paths["cpuacct"] == paths["blkio"] == paths[""] == CG
    assert "name=systemd" not in paths
    assert cgroup_paths("4:cpu,cpuacct:/a/b\n0::/x\n") == {"cpu": "/a/b", "cpuacct": "/a/b", "": "/x"}


def test_network_bytes_leave_out_lo() -> None:
    assert net_bytes(NET_DEV) == (22531, 17408)
    wide = NET_DEV + "  net1:123456789012 5 0 0 0 0 0 0 98765432109 7 0 0 0 0 0 0\n"  # no space after the colon
    assert net_bytes(wide) == (22531 + 123456789012, 17408 + 98765432109)


def test_host_cpu_time_is_dockers_system_cpu_usage() -> None:
    # user nice system idle iowait irq softirq (not steal), ticks of 1/100 s -> ns
    assert host_cpu_ns(PROC_STAT, 100) == (244411 + 67306 + 506801 + 2753 + 2722) * 10_000_000
    with pytest.raises(MetricsError):
        host_cpu_ns("intr 1\n", 100)


def test_flat_keyed_files_and_limits() -> None:
    stat = keyed(MEMORY_STAT_V1)
    assert stat["total_inactive_file"] == 0 and stat["hierarchical_memory_limit"] == 256 * 2**20
    assert keyed(CPU_STAT_V2)["usage_usec"] == 693471
    assert mem_total(MEMINFO) == 24683584 * 1024
    assert limit_value("max\n") is None and limit_value("268435456\n") == 268435456


def test_block_io() -> None:
    assert blkio_bytes("Total 0\n") is None  # what this VM's kernel says: it accounts no block I/O
    cfq = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Async 0\n8:0 Total 4608\n8:16 Read 1\n8:16 Write 2\nTotal 4611\n"
    assert blkio_bytes(cfq) == (4097, 514)
    assert io_stat_bytes(IO_STAT_V2) == (4097000, 12312)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def node_v1(root: Path, *, memory_stat: str = MEMORY_STAT_V1, limit: str = "268435456\n", cpuacct: str = "cpuacct") -> NodeMetrics:
    write(root, {
        f"proc/{PID}/cgroup": PROC_CGROUP_V1, f"proc/{PID}/net/dev": NET_DEV, "proc/stat": PROC_STAT, "proc/meminfo": MEMINFO,
        f"cg/memory{CG}/memory.stat": memory_stat, f"cg/memory{CG}/memory.usage_in_bytes": "30826496\n",
        f"cg/memory{CG}/memory.limit_in_bytes": limit, f"cg/{cpuacct}{CG}/cpuacct.usage": "337985859\n",
        f"cg/blkio{CG}/blkio.throttle.io_service_bytes_recursive": "Total 0\n",
        f"cg/blkio{CG}/blkio.bfq.io_service_bytes_recursive": "Total 0\n",
    })
    return NodeMetrics(proc=str(root / "proc"), cgroup_root=str(root / "cg"), clock_ticks=100)


async def test_a_container_measured_on_cgroup_v1(tmp_path: Path) -> None:
    node = node_v1(tmp_path)
    cg = node.cgroup(PID)
    assert cg.version == 1 and cg.memory == tmp_path / f"cg/memory{CG}"
    assert node.cpu_ns(cg) == 337985859
    assert node.host_cpu_ns() == 8239930000000
    assert node.memory(cg) == (30826496, 0, 268435456)
    assert node.block_io(cg) == (0, 0)
    assert node.network(PID) == (22531, 17408)
    # The same files twice: no CPU time passed.
    assert await node.measure(PID, window=0) == Measured(
        cpu=0, system=0, memory=30826496, inactive_file=0, limit=268435456, read=0, write=0, rx=22531, tx=17408
    )


def test_v1_limit_is_the_pods_when_the_container_has_none(tmp_path: Path) -> None:
    node = node_v1(tmp_path, memory_stat=MEMORY_STAT_V1_POD_LIMIT, limit=UNLIMITED_V1)
    assert node.memory(node.cgroup(PID))[2] == 512 * 2**20


def test_v1_limit_is_the_nodes_ram_when_nothing_limits(tmp_path: Path) -> None:
    stat = MEMORY_STAT_V1_POD_LIMIT.replace("536870912", UNLIMITED_V1.strip())
    node = node_v1(tmp_path, memory_stat=stat, limit=UNLIMITED_V1)
    assert node.memory(node.cgroup(PID))[2] == 24683584 * 1024


def test_v1_with_cpu_and_cpuacct_mounted_together(tmp_path: Path) -> None:
    node = node_v1(tmp_path, cpuacct="cpu,cpuacct")
    assert node.cpu_ns(node.cgroup(PID)) == 337985859


def node_v2(root: Path, proc_path: str = f"0::{CG}\n") -> NodeMetrics:
    pod = CG.rsplit("/", 1)[0]
    write(root, {
        f"proc/{PID}/cgroup": proc_path, f"proc/{PID}/net/dev": NET_DEV, "proc/stat": PROC_STAT, "proc/meminfo": MEMINFO,
        "cg/cgroup.controllers": "cpuset cpu io memory pids\n",
        f"cg{pod}/memory.max": "268435456\n",
        f"cg{CG}/memory.max": "max\n", f"cg{CG}/memory.current": "31850496\n", f"cg{CG}/memory.stat": MEMORY_STAT_V2,
        f"cg{CG}/cpu.stat": CPU_STAT_V2, f"cg{CG}/io.stat": IO_STAT_V2,
    })
    return NodeMetrics(proc=str(root / "proc"), cgroup_root=str(root / "cg"), clock_ticks=100)


async def test_a_container_measured_on_cgroup_v2(tmp_path: Path) -> None:
    node = node_v2(tmp_path)
    cg = node.cgroup(PID)
    assert cg.version == 2 and cg.memory == cg.cpu == cg.io == tmp_path / f"cg{CG}"
    assert node.cpu_ns(cg) == 693471000
    # No limit of its own: its Pod's.
    assert node.memory(cg) == (31850496, 524288, 268435456)
    assert node.block_io(cg) == (4097000, 12312)
    measured = await node.measure(PID, window=0)
    assert (measured.rx, measured.tx, measured.read, measured.write) == (22531, 17408, 4097000, 12312)


def test_v2_seen_from_another_cgroup_namespace(tmp_path: Path) -> None:
    """An agent in a Pod on cgroup v2 sees other containers' paths relative to its own cgroup."""
    tail = CG.split("/", 3)[3]  # pod…/<container id>
    node = node_v2(tmp_path, proc_path=f"0::/../../{tail}\n")
    assert node.cgroup(PID).memory == tmp_path / f"cg{CG}"


def test_locate(tmp_path: Path) -> None:
    (tmp_path / "a/b/c").mkdir(parents=True)
    assert locate(tmp_path, "/a/b/c") == tmp_path / "a/b/c"
    assert locate(tmp_path, "/../b/c") == tmp_path / "a/b/c"
    with pytest.raises(MetricsError, match="no cgroup x/c"):
        locate(tmp_path, "/../../x/c")
    with pytest.raises(MetricsError, match="outside"):
        locate(tmp_path, "/../..")


def test_a_process_gone_is_said(tmp_path: Path) -> None:
    node = node_v1(tmp_path)
    with pytest.raises(MetricsError, match="cannot read .*/proc/4242/cgroup"):
        node.cgroup(4242)
